"""The audit log's entries gain ``legal_basis`` and ``outcome`` query columns (issue 20).

Revision ID: 0019_audit_query_columns
Revises: 0018_staff
Create Date: 2026-12-08

An auditor filters the log by legal basis (UU PDP Art. 20(2), a-f), and the console counts
refused accesses apart from the others (the outcome: success, denied, error). Like
``purpose``, both are copied from the canonical entry into columns of ``audit_queue`` and
``audit_leaf`` (``audit/storage/enqueue.py``), and ``jati audit verify`` checks each copy
against its entry.

Existing rows are filled from their own entry bytes. The append-only triggers refuse any
UPDATE, so this migration, run by the database owner, lifts them for the one statement per
table and puts them back in the same transaction; only the new column is written, and the
entry bytes, leaf hashes and therefore every root and checkpoint stay as they were.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_audit_query_columns"
down_revision = "0018_staff"
branch_labels = None
depends_on = None

_TABLES = ("audit_queue", "audit_leaf")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("legal_basis", sa.String(1), nullable=True))
        op.add_column(table, sa.Column("outcome", sa.String(16), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _fill_postgresql()
    else:
        _fill_sqlite()


def _fill_postgresql() -> None:
    triggers = {"audit_queue": "audit_queue_no_update", "audit_leaf": "audit_leaf_append_only"}
    for table, trigger in triggers.items():
        op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        op.execute(
            f"UPDATE {table} SET "  # noqa: S608 - fixed SQL
            "legal_basis = convert_from(entry, 'UTF8')::jsonb ->> 'legal_basis', "
            "outcome = convert_from(entry, 'UTF8')::jsonb ->> 'outcome'"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}")


def _fill_sqlite() -> None:
    for table in _TABLES:
        trigger = f"{table}_no_update"
        op.execute(f"DROP TRIGGER {trigger}")
        op.execute(
            f"UPDATE {table} SET legal_basis = json_extract(CAST(entry AS TEXT), "  # noqa: S608
            "'$.legal_basis'), outcome = json_extract(CAST(entry AS TEXT), '$.outcome')"
        )
        message = (
            "UPDATE on audit_queue refused: queued audit entries are immutable"
            if table == "audit_queue"
            else "UPDATE on audit_leaf refused: the audit log is append-only"
        )
        op.execute(
            f"CREATE TRIGGER {trigger} BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def downgrade() -> None:
    # Dropping a column writes no row, so the append-only triggers have nothing to refuse.
    for table in _TABLES:
        op.drop_column(table, "legal_basis")
        op.drop_column(table, "outcome")
