"""Citizens' passkeys (WebAuthn Level 3): credential records, user handles, spent challenges.

Revision ID: 0015_passkeys
Revises: 0014_activation_and_recovery
Create Date: 2027-02-01

``identity_passkey``: one row per credential record (credential id unique, the attested
credential data with the COSE public key, the signature counter, the BE and BS flags, the
AAGUID, transports, the citizen's name for it, registered and last used).
``identity_webauthn_user``: each citizen's random user handle. ``identity_webauthn_challenge``:
the SHA-256 of each spent ceremony challenge until it expires. See
``identity/storage/passkeys.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_passkeys"
down_revision = "0014_activation_and_recovery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "identity_passkey",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("credential_data", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("backup_eligible", sa.Boolean(), nullable=False),
        sa.Column("backed_up", sa.Boolean(), nullable=False),
        sa.Column("aaguid", sa.String(36), nullable=False),
        sa.Column("transports", sa.Text(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("last_used_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_passkey"),
        sa.UniqueConstraint("credential_id", name="uq_identity_passkey_credential_id"),
    )
    op.create_index("ix_identity_passkey_citizen_id", "identity_passkey", ["citizen_id"])
    op.create_table(
        "identity_webauthn_user",
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("user_handle", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("citizen_id", name="pk_identity_webauthn_user"),
        sa.UniqueConstraint("user_handle", name="uq_identity_webauthn_user_user_handle"),
    )
    op.create_table(
        "identity_webauthn_challenge",
        sa.Column("challenge_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("challenge_hash", name="pk_identity_webauthn_challenge"),
    )
    op.create_index(
        "ix_identity_webauthn_challenge_expires_at", "identity_webauthn_challenge", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index(
        "ix_identity_webauthn_challenge_expires_at", table_name="identity_webauthn_challenge"
    )
    op.drop_table("identity_webauthn_challenge")
    op.drop_table("identity_webauthn_user")
    op.drop_index("ix_identity_passkey_citizen_id", table_name="identity_passkey")
    op.drop_table("identity_passkey")
