"""Staff accounts and console sessions (issue 20), apart from citizens.

Revision ID: 0018_staff
Revises: 0017_activation_code_index
Create Date: 2026-12-07

``identity_staff``: operators, data protection officers and auditors: name, email (unique),
role, a DPO's apps, the argon2id password hash, the sealed TOTP secret and its last step, the
activation code's SHA-256 and expiry, failures and lock, and when disabled (never deleted).
``identity_staff_session``: console sessions by the SHA-256 of their cookie value. See
``identity/storage/staff.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_staff"
down_revision = "0017_activation_code_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "identity_staff",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("apps", sa.Text(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("sealed_totp", sa.LargeBinary(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("activation_hash", sa.String(64), nullable=True),
        sa.Column("activation_expires_at", tz, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", tz, nullable=True),
        sa.Column("disabled_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_staff"),
    )
    op.create_index("ix_identity_staff_email", "identity_staff", ["email"], unique=True)
    op.create_index("ix_identity_staff_activation_hash", "identity_staff", ["activation_hash"])
    op.create_table(
        "identity_staff_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.String(32), nullable=False),
        sa.Column("auth_time", tz, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.Column("last_seen", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_staff_session"),
    )
    op.create_index("ix_identity_staff_session_staff_id", "identity_staff_session", ["staff_id"])
    op.create_index(
        "ix_identity_staff_session_expires_at", "identity_staff_session", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_table("identity_staff_session")
    op.drop_table("identity_staff")
