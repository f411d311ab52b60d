"""What every ``jati`` command group shares: the parser class and how a group and its
``--json`` option are declared, the exit statuses and the handler signature, how a result or
an error is printed, and the database a command opens (one connection, disposed when the
command is done with it)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

from identity.service.settings import Settings

if TYPE_CHECKING:
    from identity.storage.database import Database

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a writer whose reader left

#: What a command runs: its parsed arguments and the settings in, its exit status out.
Handler = Callable[[argparse.Namespace, Settings], int]


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2), as for every error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"jati: error: {message} (see `{self.prog} --help`)\n")


if TYPE_CHECKING:
    #: Subcommands (``jati``'s ``COMMAND``, a group's ``ACTION``), to which parsers are added.
    Commands: TypeAlias = argparse._SubParsersAction[Parser]


class UsageError(Exception):
    """The command cannot use what it was given (a file, stdin, an option's value): the
    message goes to stderr as one ``jati: error:`` line and the exit status is 2."""


def add_group(commands: Commands, name: str, summary: str) -> Commands:
    """The command group ``jati NAME ACTION``, its action stored as ``NAME_command``."""
    return commands.add_parser(name, help=summary).add_subparsers(
        dest=f"{name}_command", required=True, metavar="ACTION"
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")


def print_error(message: str) -> None:
    """One ``jati: error:`` line on stderr."""
    print(f"jati: error: {message}", file=sys.stderr)


def print_result(as_json: bool, document: dict[str, Any], lines: Iterable[str]) -> None:
    """``document`` as one JSON object on stdout for ``--json``, else ``lines``, one a line."""
    if as_json:
        print(json.dumps(document))
    else:
        for line in lines:
            print(line)


@contextmanager
def one_connection(settings: Settings) -> Iterator[Database]:
    """The database in force with a pool of one connection, disposed when the block ends."""
    from identity.storage.database import Database

    database = Database(settings.resolved_database_url, pool_size=1)
    try:
        yield database
    finally:
        database.dispose()


@contextmanager
def checked_database(settings: Settings) -> Iterator[Database]:
    """:func:`one_connection`, opened once the production check passes."""
    settings.check_production()
    with one_connection(settings) as database:
        yield database


@contextmanager
def checked_database_and_key(settings: Settings) -> Iterator[tuple[Database, bytes]]:
    """:func:`checked_database` and the master key, loaded (never created) before the
    database is opened."""
    settings.check_production()
    master_key, _ = settings.load_master_key(create=False)
    with one_connection(settings) as database:
        yield database, master_key
