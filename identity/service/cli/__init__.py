"""The ``jati`` command line (DESIGN.md §4, "CLI"): :func:`main` and :func:`build_parser`
here, one module a command group (``serve``, ``database``, ``keys``, ``audit``, ``clients``,
``citizens``, ``requests``, ``consent``, ``credentials``, ``staff``), what they share in ``common``.

Errors go to stderr as one clear line (a configuration error lists each problem) and the
exit status is non-zero; never a traceback. ``--json`` prints one JSON object on stdout.
A warning (the command still succeeds, exit status 0) goes to stderr as ``jati: warning:``
lines, and into that object's ``warnings`` when there is one (``client add``/``show``).

A command group module builds what its commands need from the settings (a command-line
adapter of the composition root). It may import every package of identity, consent and audit,
``common``, and the groups whose pieces it reuses: ``consent`` the client registry of
``clients``, ``citizens`` the credential service of ``credentials``, ``audit`` the NIK look-up
of ``citizens``. None imports this module.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from audit.errors import AuditError
from consent.errors import ConsentError
from identity.errors import ConfigurationError, IdentityError
from identity.service.cli import (
    audit,
    citizens,
    clients,
    consent,
    credentials,
    database,
    keys,
    requests,
    serve,
    staff,
)
from identity.service.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_ERROR,
    EXIT_USAGE,
    Handler,
    Parser,
    UsageError,
    print_error,
)
from identity.service.logging_setup import configure_logging
from identity.service.settings import Settings

#: Each group adds its commands, in the order ``jati --help`` lists them.
_GROUPS = (
    serve.add_commands,
    database.add_commands,
    keys.add_commands,
    audit.add_commands,
    clients.add_commands,
    citizens.add_commands,
    requests.add_commands,
    consent.add_commands,
    credentials.add_commands,
    staff.add_commands,
    keys.add_secret_commands,
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="jati", description="Jati: digital identity with privacy safeguards.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_commands in _GROUPS:
        add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        # Name each variable and what is wrong, never its value (it may be a secret).
        problems = "; ".join(
            f"JATI_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        print_error(f"invalid settings: {problems}")
        return EXIT_USAGE
    configure_logging(settings.log_level)
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except (ConfigurationError, UsageError) as exc:
        print_error(str(exc))
        return EXIT_USAGE
    except (IdentityError, ConsentError, AuditError) as exc:
        print_error(_first_line(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`jati ... | head`): what is left unread is not an error. Point
        # stdout at /dev/null so that the interpreter's last flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except DBAPIError as exc:
        # The driver's own message, never the SQL statement (which may carry values).
        reason = _first_line(exc.orig) if exc.orig is not None else type(exc).__name__
        hint = (
            " (has `jati db upgrade` run?)"
            if "no such table" in reason or "does not exist" in reason
            else ""
        )
        print_error(f"database error: {reason}{hint}")
        return EXIT_ERROR
    except Exception as exc:
        logging.getLogger("jati.cli").debug("command failed", exc_info=exc)
        print_error(f"{type(exc).__name__}: {_first_line(exc)[:300]}")
        return EXIT_ERROR


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return " ".join(line.strip() for line in text[:3]) if text else type(exc).__name__
