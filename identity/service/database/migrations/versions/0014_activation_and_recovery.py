"""Citizens' activation codes and recovery codes, hashed (issue 18).

Revision ID: 0014_activation_and_recovery
Revises: 0013_client_secret_post
Create Date: 2027-02-01

- ``identity_activation``: a citizen's outstanding one-time activation code, by its SHA-256
  (unique), with when it was issued and when it expires. See
  ``identity/storage/activation.py``.
- ``identity_recovery_code``: a citizen's recovery codes, by their SHA-256, each with the
  time it was used. See ``identity/storage/recovery_codes.py``.

Neither table holds a code: only hashes (NIST SP 800-63B §5.1.2.2).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_activation_and_recovery"
down_revision = "0013_client_secret_post"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "identity_activation",
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("citizen_id", name="pk_identity_activation"),
        sa.UniqueConstraint("code_hash", name="uq_identity_activation_code_hash"),
    )
    op.create_table(
        "identity_recovery_code",
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("used_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("citizen_id", "code_hash", name="pk_identity_recovery_code"),
    )


def downgrade() -> None:
    op.drop_table("identity_recovery_code")
    op.drop_table("identity_activation")
