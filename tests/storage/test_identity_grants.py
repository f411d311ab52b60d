"""The application role gets exactly the privileges the identity tables need on PostgreSQL:
every table covered, no DELETE of a citizen (tombstones stay), no privilege beyond the list."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, text

from identity.service.database.grants import (
    CONSENT_TABLE_PRIVILEGES,
    IDENTITY_TABLE_PRIVILEGES,
    application_role_grants,
)
from identity.service.database.schema import all_metadata
from identity.storage.database import Database
from tests.conftest import application_role

PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")


def test_every_identity_table_has_its_grants() -> None:
    tables = {
        t for metadata in all_metadata() for t in metadata.tables if t.startswith("identity_")
    }
    assert tables == set(IDENTITY_TABLE_PRIVILEGES)


def test_application_role_holds_exactly_the_listed_privileges(database: Database) -> None:
    if database.dialect != "postgresql":
        assert database.dialect == "sqlite"  # SQLite has no roles; the PostgreSQL run checks
        return
    with application_role(database, application_role_grants) as (role, schema):
        with database.read() as session:
            for table, granted in (IDENTITY_TABLE_PRIVILEGES | CONSENT_TABLE_PRIVILEGES).items():
                for privilege in PRIVILEGES:
                    held = session.execute(
                        text("SELECT has_table_privilege(:r, :t, :p)"),
                        {"r": role, "t": f"{schema}.{table}", "p": privilege},
                    ).scalar_one()
                    assert held == (privilege in granted), (table, privilege)
        with pytest.raises(exc.DBAPIError, match="permission denied"), database.write() as s:
            s.execute(text(f"SET LOCAL ROLE {role}"))
            s.execute(text("DELETE FROM identity_citizen"))
        with pytest.raises(exc.DBAPIError, match="permission denied"), database.write() as s:
            s.execute(text(f"SET LOCAL ROLE {role}"))
            s.execute(text("UPDATE consent_event SET kind = 'given'"))
