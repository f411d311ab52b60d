"""Citizens' optional second factor (RFC 6238 TOTP), sealed.

Revision ID: 0009_totp
Revises: 0008_oidc
Create Date: 2026-12-02

One row per citizen with a second factor enabled or waiting for its confirming code; the
secret sealed with AES-256-GCM, the last accepted time step (no code accepted twice) and the
failure counters. See ``identity/storage/totp.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_totp"
down_revision = "0008_oidc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "identity_totp",
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("enabled_at", tz, nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", tz, nullable=True),
        sa.PrimaryKeyConstraint("citizen_id", name="pk_identity_totp"),
    )


def downgrade() -> None:
    op.drop_table("identity_totp")
