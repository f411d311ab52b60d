"""Identity: citizens (sealed personal fields, wrapped data keys) and login throttling.

Revision ID: 0004_citizens
Revises: 0003_identity_signing_keys
Create Date: 2026-11-29

- ``identity_citizen``: one row per citizen, kept as a tombstone after erasure. Personal
  fields are sealed (AES-256-GCM under the citizen's data key, UU PDP Art. 35/39); the NIK
  blind index (HMAC-SHA-256) is unique while the citizen exists and NULL once erased.
- ``identity_citizen_key``: the citizen's wrapped data key, in its own row so that erasure
  (Art. 43-44, crypto-shredding) is one DELETE.
- ``identity_login_throttle``: failure counters and lockouts shared by every worker, keyed
  by an HMAC of the account or the client address (never the NIK or the IP itself).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_citizens"
down_revision = "0003_identity_signing_keys"
branch_labels = None
depends_on = None

_SEALED = ("nik", "name", "birthdate", "email", "phone", "address")


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "identity_citizen",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("nik_index", sa.LargeBinary(32), nullable=True),
        *(sa.Column(f"sealed_{field}", sa.LargeBinary(), nullable=True) for field in _SEALED),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("erased_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_citizen"),
        sa.UniqueConstraint("nik_index", name="uq_identity_citizen_nik_index"),
        sa.CheckConstraint(
            "erased_at IS NULL OR (nik_index IS NULL AND password_hash IS NULL AND "
            + " AND ".join(f"sealed_{field} IS NULL" for field in _SEALED)
            + ")",
            name="ck_identity_citizen_tombstone_is_empty",
        ),
        sa.CheckConstraint(
            "erased_at IS NOT NULL OR (nik_index IS NOT NULL AND sealed_nik IS NOT NULL "
            "AND sealed_name IS NOT NULL AND sealed_birthdate IS NOT NULL)",
            name="ck_identity_citizen_active_is_complete",
        ),
    )
    op.create_table(
        "identity_citizen_key",
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("citizen_id", name="pk_identity_citizen_key"),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["identity_citizen.id"],
            name="fk_identity_citizen_key_citizen_id_identity_citizen",
        ),
    )
    op.create_table(
        "identity_login_throttle",
        sa.Column("key_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", tz, nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", tz, nullable=True),
        sa.Column("updated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_identity_login_throttle"),
        sa.CheckConstraint(
            "scope IN ('account', 'address')", name="ck_identity_login_throttle_scope"
        ),
        sa.CheckConstraint(
            "failures >= 0 AND lockouts >= 0", name="ck_identity_login_throttle_counts"
        ),
    )
    op.create_index(
        "ix_identity_login_throttle_updated_at", "identity_login_throttle", ["updated_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_identity_login_throttle_updated_at", table_name="identity_login_throttle")
    op.drop_table("identity_login_throttle")
    op.drop_table("identity_citizen_key")
    op.drop_table("identity_citizen")
