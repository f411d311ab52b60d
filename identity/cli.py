"""The ``jati`` command line (DESIGN.md §4, "CLI").

Errors go to stderr as one clear line (a configuration error lists each problem) and the
exit status is non-zero; never a traceback. ``--json`` prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from audit.errors import AuditError
from consent.errors import ConsentError
from identity.errors import ConfigurationError, IdentityError
from identity.logging_setup import configure_logging
from identity.settings import Settings

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace, Settings], int]


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError("a port is between 1 and 65535")
    return port


def _workers(value: str) -> int:
    workers = int(value)
    if not 1 <= workers <= 64:
        raise argparse.ArgumentTypeError("--workers is between 1 and 64")
    return workers


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jati", description="Jati: digital identity with privacy safeguards."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the service (zero configuration on SQLite)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=_workers, default=1, help="worker processes (default 1)")
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="apply pending migrations").set_defaults(handler=_db_upgrade)
    db.add_parser("current", help="show the schema revision").set_defaults(handler=_db_current)

    secrets_cmd = commands.add_parser("secrets", help="secret material").add_subparsers(
        dest="secrets_command", required=True, metavar="ACTION"
    )
    secrets_cmd.add_parser(
        "generate-master-key", help="print a new random master key for JATI_MASTER_KEY"
    ).set_defaults(handler=_generate_master_key)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except Exception as exc:  # pydantic's ValidationError names the variable, not its value
        print(f"jati: error: invalid settings: {_first_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level)
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except ConfigurationError as exc:
        print(f"jati: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (IdentityError, ConsentError, AuditError) as exc:
        print(f"jati: error: {_first_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        logging.getLogger("jati.cli").error("command failed", exc_info=exc)
        print(
            f"jati: error: {type(exc).__name__}: {_first_line(exc)} (details in the log)",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return " ".join(line.strip() for line in text[:3]) if text else type(exc).__name__


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from identity.server import ServeOptions, run

    run(settings, ServeOptions(host=args.host, port=args.port, workers=args.workers))
    return EXIT_OK


def _db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    from identity.storage import migrate
    from identity.storage.database import Database

    settings.check_production()
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    database = Database(settings.resolved_database_url, pool_size=1)
    try:
        before = migrate.current_revisions(database.engine)
        migrate.upgrade(database.engine)
        after = migrate.current_revisions(database.engine)
    finally:
        database.dispose()
    if before == after:
        print(f"database already at {', '.join(sorted(after))}")
    else:
        print(f"database upgraded to {', '.join(sorted(after))}")
    return EXIT_OK


def _db_current(_args: argparse.Namespace, settings: Settings) -> int:
    from identity.storage import migrate
    from identity.storage.database import Database

    database = Database(settings.resolved_database_url, pool_size=1)
    try:
        current = migrate.current_revisions(database.engine)
    finally:
        database.dispose()
    heads = migrate.head_revisions()
    state = "current" if current == heads else f"behind (code expects {', '.join(sorted(heads))})"
    print(json.dumps({"current": sorted(current), "state": state}))
    return EXIT_OK


def _generate_master_key(_args: argparse.Namespace, _settings: Settings) -> int:
    from identity.master_key import generate_master_key

    print(generate_master_key())
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
