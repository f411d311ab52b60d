"""Token Status Lists (draft-ietf-oauth-status-list): lists and their allocated entries.

Revision ID: 0010_status_lists
Revises: 0009_totp
Create Date: 2026-12-03

A list has a random id, its shape (bits per entry, size), an allocation count, whether it
still takes new entries, and a version bumped by every status change; an entry is one
allocated (list, index) with its status. See ``identity/storage/status_lists.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_status_lists"
down_revision = "0009_totp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "identity_status_list",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("bits", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.Column("closed_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_status_list"),
        sa.CheckConstraint("bits IN (1, 2, 4, 8)", name="ck_identity_status_list_bits"),
        sa.CheckConstraint(
            "size > 0 AND allocated >= 0 AND allocated <= size",
            name="ck_identity_status_list_counts",
        ),
    )
    op.create_index("ix_identity_status_list_closed_at", "identity_status_list", ["closed_at"])
    op.create_table(
        "identity_status_entry",
        sa.Column("list_id", sa.String(32), nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("list_id", "idx", name="pk_identity_status_entry"),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["identity_status_list.id"],
            name="fk_identity_status_entry_list_id_identity_status_list",
        ),
        sa.CheckConstraint("idx >= 0", name="ck_identity_status_entry_idx"),
        sa.CheckConstraint("status >= 0 AND status <= 255", name="ck_identity_status_entry_status"),
    )
    op.create_index(
        "ix_identity_status_entry_list_id_status", "identity_status_entry", ["list_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_identity_status_entry_list_id_status", table_name="identity_status_entry")
    op.drop_table("identity_status_entry")
    op.drop_index("ix_identity_status_list_closed_at", table_name="identity_status_list")
    op.drop_table("identity_status_list")
