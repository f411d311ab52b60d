"""``jati db upgrade|current|grants``: the database schema and the application role's
privileges."""

from __future__ import annotations

import argparse
import json

from identity.service.cli import common
from identity.service.settings import Settings


def add_commands(commands: common.Commands) -> None:
    db = common.add_group(commands, "db", "database schema")
    db.add_parser("upgrade", help="apply pending migrations").set_defaults(handler=_db_upgrade)
    db.add_parser("current", help="show the schema revision").set_defaults(handler=_db_current)
    grants = db.add_parser(
        "grants", help="print the PostgreSQL GRANTs for the application role (least privilege)"
    )
    grants.add_argument("--role", required=True, help="the role the service connects as")
    grants.add_argument("--schema", default="public", help="schema of Jati's tables")
    grants.set_defaults(handler=_db_grants)


def _db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    from identity.service.database import migrate

    settings.check_production()
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with common.one_connection(settings) as database:
        before = migrate.current_revisions(database.engine)
        migrate.upgrade(database.engine)
        after = migrate.current_revisions(database.engine)
    if before == after:
        print(f"database already at {', '.join(sorted(after))}")
    else:
        print(f"database upgraded to {', '.join(sorted(after))}")
    return common.EXIT_OK


def _db_current(_args: argparse.Namespace, settings: Settings) -> int:
    from identity.service.database import migrate

    with common.one_connection(settings) as database:
        current = migrate.current_revisions(database.engine)
    heads = migrate.head_revisions()
    state = "current" if current == heads else f"behind (code expects {', '.join(sorted(heads))})"
    print(json.dumps({"current": sorted(current), "state": state}))
    return common.EXIT_OK


def _db_grants(args: argparse.Namespace, _settings: Settings) -> int:
    from identity.service.database.grants import application_role_grants

    try:
        statements = application_role_grants(args.role, args.schema)
    except ValueError as exc:
        raise common.UsageError(str(exc)) from None
    print(";\n".join(statements) + ";")
    return common.EXIT_OK
