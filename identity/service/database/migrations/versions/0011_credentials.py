"""Issued SD-JWT VC credentials and spent credential nonces.

Revision ID: 0011_credentials
Revises: 0010_status_lists
Create Date: 2026-11-28

``identity_credential``: one row per credential issued (holder, wallet app, consent grants,
Token Status List reference, state; never a claim value). ``identity_credential_nonce``: the
SHA-256 of each spent ``c_nonce`` until it expires. See ``identity/storage/credentials.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_credentials"
down_revision = "0010_status_lists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "identity_credential",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("configuration_id", sa.String(64), nullable=False),
        sa.Column("status_list_id", sa.String(64), nullable=False),
        sa.Column("status_idx", sa.Integer(), nullable=False),
        sa.Column("holder_thumbprint", sa.String(64), nullable=False),
        sa.Column("grant_ids", sa.Text(), nullable=False),
        sa.Column("claims", sa.Text(), nullable=False),
        sa.Column("issued_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("changed_at", tz, nullable=True),
        sa.Column("reason", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_credential"),
    )
    op.create_index("ix_identity_credential_citizen_id", "identity_credential", ["citizen_id"])
    op.create_table(
        "identity_credential_nonce",
        sa.Column("nonce_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("nonce_hash", name="pk_identity_credential_nonce"),
    )


def downgrade() -> None:
    op.drop_table("identity_credential_nonce")
    op.drop_index("ix_identity_credential_citizen_id", table_name="identity_credential")
    op.drop_table("identity_credential")
