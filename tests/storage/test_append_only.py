"""DESIGN.md §2: the audit tables are append-only at the database level. Each try fails."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import exc, text

from audit.entry import AuditEntry
from audit.log import AuditLog
from audit.storage.grants import application_role_grants
from identity.storage.database import Database
from tests.conftest import application_role

ATTACKS = {
    "audit_leaf": [
        "UPDATE audit_leaf SET actor_id = 'someone-else' WHERE leaf_index = 1",
        "DELETE FROM audit_leaf WHERE leaf_index = 1",
    ],
    "audit_node": [
        "UPDATE audit_node SET hash = hash WHERE level = 4",
        "DELETE FROM audit_node",
    ],
    "audit_checkpoint": [
        "UPDATE audit_checkpoint SET note = 'forged'",
        "DELETE FROM audit_checkpoint",
    ],
    "audit_queue": ["UPDATE audit_queue SET entry = entry"],
}


@pytest.fixture
def filled(
    database: Database, audit_log: AuditLog, add_entries: Callable[[int], list[AuditEntry]]
) -> Database:
    add_entries(40)
    audit_log.sequence(checkpoint=True)
    add_entries(1)  # one left in the queue
    return database


def _counts(database: Database) -> dict[str, int]:
    with database.read() as session:
        return {
            table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ATTACKS
        }


@pytest.mark.parametrize("statement", [s for group in ATTACKS.values() for s in group])
def test_updates_and_deletes_are_refused_by_triggers(filled: Database, statement: str) -> None:
    before = _counts(filled)
    with pytest.raises(exc.DBAPIError, match="refused"), filled.write() as session:
        session.execute(text(statement))
    assert _counts(filled) == before


@pytest.mark.parametrize("table", ["audit_leaf", "audit_node", "audit_checkpoint"])
def test_truncate_is_refused_on_postgresql(filled: Database, table: str) -> None:
    if filled.dialect != "postgresql":
        # SQLite has no TRUNCATE; its "DELETE FROM t" (the truncate optimisation) is refused.
        with pytest.raises(exc.DBAPIError, match="refused"), filled.write() as session:
            session.execute(text(f"DELETE FROM {table}"))
        return
    with pytest.raises(exc.DBAPIError, match="refused"), filled.write() as session:
        session.execute(text(f"TRUNCATE {table}"))


def test_triggers_fire_even_in_replica_mode(filled: Database) -> None:
    """``ENABLE ALWAYS``: session_replication_role = replica does not silence them."""
    if filled.dialect != "postgresql":
        assert filled.dialect == "sqlite"  # SQLite has no replication role to abuse
        return
    with pytest.raises(exc.DBAPIError, match="refused"), filled.write() as session:
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text("DELETE FROM audit_leaf"))


def test_application_role_may_only_insert_and_select(filled: Database) -> None:
    if filled.dialect != "postgresql":
        assert filled.dialect == "sqlite"  # SQLite has no roles; triggers are its guard
        return
    with application_role(filled, application_role_grants) as (role, _schema):
        for table in ("audit_leaf", "audit_node", "audit_checkpoint"):
            for statement in (
                f"UPDATE {table} SET {'note' if table == 'audit_checkpoint' else 'hash' if table == 'audit_node' else 'actor_id'} = NULL",  # noqa: E501
                f"DELETE FROM {table}",
                f"TRUNCATE {table}",
            ):
                with pytest.raises(exc.DBAPIError, match="permission denied"), filled.write() as s:
                    s.execute(text(f"SET LOCAL ROLE {role}"))
                    s.execute(text(statement))
        with filled.write() as session:  # what the service needs still works
            session.execute(text(f"SET LOCAL ROLE {role}"))
            assert session.execute(text("SELECT count(*) FROM audit_leaf")).scalar_one() == 40
            assert session.execute(text("SELECT version_num FROM alembic_version")).scalar()
            session.execute(text("DELETE FROM audit_queue"))
