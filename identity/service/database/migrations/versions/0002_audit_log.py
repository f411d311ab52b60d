"""Audit log: queue, leaves, subtree nodes, checkpoints, tree state; append-only triggers.

Every constraint and index is named here as the naming convention of
``audit.storage.naming`` would name it (tests/storage/test_migrations.py checks it).

Revision ID: 0002_audit_log
Revises: 0001_baseline
Create Date: 2026-11-28

The append-only guarantee at the database level (DESIGN.md §2): on SQLite, triggers that
RAISE(ABORT) on UPDATE and DELETE; on PostgreSQL, BEFORE UPDATE/DELETE row triggers and a
BEFORE TRUNCATE statement trigger, set ``ENABLE ALWAYS`` so that they fire even for
sessions in ``session_replication_role = replica``. The queue refuses UPDATE (the sequencer
deletes what it has integrated). Role grants are documented in the README.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_audit_log"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_leaf", "audit_node", "audit_checkpoint")


def _bigint_pk() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "audit_queue",
        sa.Column("id", _bigint_pk(), autoincrement=True),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("event_at", tz, nullable=False),
        sa.Column("subject", sa.String(43), nullable=True),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=True),
        sa.Column("queued_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_queue"),
    )
    op.create_table(
        "audit_leaf",
        # INTEGER on SQLite makes leaf_index the rowid: no second index for the key.
        sa.Column("leaf_index", _bigint_pk(), autoincrement=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("event_at", tz, nullable=False),
        sa.Column("subject", sa.String(43), nullable=True),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=True),
        sa.Column("queued_at", tz, nullable=False),
        sa.Column("integrated_at", tz, nullable=False),
        sa.CheckConstraint("leaf_index >= 0", name="ck_audit_leaf_leaf_index_non_negative"),
        sa.PrimaryKeyConstraint("leaf_index", name="pk_audit_leaf"),
    )
    op.create_index("ix_audit_leaf_subject_leaf_index", "audit_leaf", ["subject", "leaf_index"])
    op.create_index("ix_audit_leaf_actor_id_leaf_index", "audit_leaf", ["actor_id", "leaf_index"])
    op.create_index("ix_audit_leaf_event_at", "audit_leaf", ["event_at"])
    op.create_table(
        "audit_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False),
        sa.Column("node_index", sa.BigInteger(), autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.CheckConstraint("level > 0 AND node_index >= 0", name="ck_audit_node_node_position"),
        sa.PrimaryKeyConstraint("level", "node_index", name="pk_audit_node"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("tree_size", _bigint_pk(), autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name="pk_audit_checkpoint"),
    )
    op.create_table(
        "audit_tree_state",
        sa.Column("id", sa.SmallInteger(), autoincrement=False),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_tree_state_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_tree_state"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{operation} on {table} refused: "
                "the audit log is append-only'); END"
            )
    op.execute(
        "CREATE TRIGGER audit_queue_no_update BEFORE UPDATE ON audit_queue "
        "BEGIN SELECT RAISE(ABORT, 'UPDATE on audit_queue refused: "
        "queued audit entries are immutable'); END"
    )


def _postgresql_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% on % refused: the audit log is append-only', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only")
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")
    op.execute(
        "CREATE TRIGGER audit_queue_no_update BEFORE UPDATE ON audit_queue "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
    )
    op.execute("ALTER TABLE audit_queue ENABLE ALWAYS TRIGGER audit_queue_no_update")


def downgrade() -> None:
    # Refused on purpose: dropping the audit log would destroy the record UU PDP Art. 31
    # requires. Restore from a backup instead.
    raise RuntimeError("the audit log migration cannot be downgraded")
