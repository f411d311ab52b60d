"""Identity: token signing keys (sealed private keys, next -> active -> retired).

Revision ID: 0003_identity_signing_keys
Revises: 0002_audit_log
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_identity_signing_keys"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "identity_signing_key",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("private_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("activated_at", tz, nullable=True),
        sa.Column("retired_at", tz, nullable=True),
        sa.Column("publish_until", tz, nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_identity_signing_key"),
        sa.CheckConstraint(
            "state IN ('next', 'active', 'retired')", name="ck_identity_signing_key_state"
        ),
        sa.CheckConstraint("alg IN ('EdDSA', 'ES256')", name="ck_identity_signing_key_alg"),
    )


def downgrade() -> None:
    op.drop_table("identity_signing_key")
