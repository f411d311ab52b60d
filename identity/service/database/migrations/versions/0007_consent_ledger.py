"""Consent ledger: purposes, immutable notices and append-only consent events.

Revision ID: 0007_consent_ledger
Revises: 0006_consent_requests
Create Date: 2026-11-28

- ``consent_purpose``: each app's purposes with legal basis (UU PDP Art. 20(2)), data items
  tagged specific/general (Art. 4) and retention.
- ``consent_notice``: published notice versions (Art. 21, 53), never changed.
- ``consent_event``: given, renewed, refused, withdrawn, expired (Art. 24: proof of consent).

Notices and events are protected like the audit log (DESIGN.md §2): SQLite triggers that
RAISE on UPDATE and DELETE; PostgreSQL BEFORE UPDATE/DELETE row triggers and a BEFORE
TRUNCATE statement trigger, ``ENABLE ALWAYS``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_consent_ledger"
down_revision = "0006_consent_requests"
branch_labels = None
depends_on = None

APPEND_ONLY = ("consent_notice", "consent_event")


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "consent_purpose",
        sa.Column("app_id", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("description_id", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=True),
        sa.Column("legal_basis", sa.String(1), nullable=False),
        sa.Column("data_items", sa.Text(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "code", name="pk_consent_purpose"),
        sa.CheckConstraint(
            "legal_basis IN ('a', 'b', 'c', 'd', 'e', 'f')", name="ck_consent_purpose_legal_basis"
        ),
        sa.CheckConstraint("retention_days > 0", name="ck_consent_purpose_retention"),
    )
    op.create_table(
        "consent_notice",
        sa.Column("app_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("published_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("app_id", "version", name="pk_consent_notice"),
        sa.CheckConstraint("version > 0", name="ck_consent_notice_version"),
    )
    op.create_table(
        "consent_event",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("grant_id", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(64), nullable=False),
        sa.Column("purpose_code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("notice_hash", sa.String(64), nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.Column("given_by", sa.String(16), nullable=False),
        sa.Column("act", sa.String(200), nullable=False),
        sa.Column("guardian_id", sa.String(32), nullable=True),
        sa.Column("expires_at", tz, nullable=True),
        sa.Column("reconfirm_at", tz, nullable=True),
        sa.Column("received_at", tz, nullable=True),
        sa.Column("due_by", tz, nullable=True),
        sa.Column("effective_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_consent_event"),
        sa.UniqueConstraint("event_id", name="uq_consent_event_event_id"),
        sa.CheckConstraint(
            "kind IN ('given', 'renewed', 'refused', 'withdrawn', 'expired')",
            name="ck_consent_event_kind",
        ),
        sa.CheckConstraint("given_by IN ('subject', 'guardian')", name="ck_consent_event_given_by"),
        sa.CheckConstraint(
            "(given_by = 'guardian') = (guardian_id IS NOT NULL)",
            name="ck_consent_event_guardian",
        ),
    )
    op.create_index("ix_consent_event_subject_id_seq", "consent_event", ["subject_id", "seq"])
    op.create_index("ix_consent_event_grant_id_seq", "consent_event", ["grant_id", "seq"])
    op.create_index("ix_consent_event_expires_at", "consent_event", ["expires_at"])
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
                "consent records are append-only'); END"
            )


def _postgresql_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION consent_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% on % refused: consent records are append-only',
                TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION consent_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION consent_refuse_change()"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only")
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")


def downgrade() -> None:
    # The ledger is the proof of consent UU PDP Art. 24 requires: an empty ledger may be
    # dropped (a development database), one holding events never.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM consent_event")).scalar_one():
        raise RuntimeError(
            "the consent ledger holds events (proof of consent): it cannot be downgraded"
        )
    op.drop_index("ix_consent_event_expires_at", table_name="consent_event")
    op.drop_index("ix_consent_event_grant_id_seq", table_name="consent_event")
    op.drop_index("ix_consent_event_subject_id_seq", table_name="consent_event")
    op.drop_table("consent_event")
    op.drop_table("consent_notice")
    op.drop_table("consent_purpose")
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION consent_refuse_change()")
