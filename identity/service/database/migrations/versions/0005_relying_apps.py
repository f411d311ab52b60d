"""Identity: relying apps (OAuth 2.0 clients) and their purposes with legal bases.

Revision ID: 0005_relying_apps
Revises: 0004_citizens
Create Date: 2026-11-29

- ``identity_client``: RFC 7591 metadata of each app; an argon2id hash of its secret
  (``client_secret_basic``) or its public JWK Set (``private_key_jwt``), exactly one of them.
- ``identity_client_purpose``: the app's purposes, each with its UU PDP Art. 20(2) basis.

Constraints are named as ``audit.storage.naming`` would name them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_relying_apps"
down_revision = "0004_citizens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_client",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("client_name", sa.String(120), nullable=False),
        sa.Column("grant_types", sa.Text(), nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(32), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("allowed_claims", sa.Text(), nullable=False),
        sa.Column("sector_identifier", sa.String(255), nullable=True),
        sa.Column("jwks", sa.Text(), nullable=True),
        sa.Column("client_secret_hash", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_identity_client"),
        sa.CheckConstraint(
            "token_endpoint_auth_method IN ('client_secret_basic', 'private_key_jwt')",
            name="ck_identity_client_auth_method",
        ),
        sa.CheckConstraint(
            "(token_endpoint_auth_method = 'client_secret_basic'"
            " AND client_secret_hash IS NOT NULL AND jwks IS NULL)"
            " OR (token_endpoint_auth_method = 'private_key_jwt'"
            " AND jwks IS NOT NULL AND client_secret_hash IS NULL)",
            name="ck_identity_client_auth_material",
        ),
    )
    op.create_table(
        "identity_client_purpose",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("legal_basis", sa.String(1), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "code", name="pk_identity_client_purpose"),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["identity_client.client_id"],
            name="fk_identity_client_purpose_client_id_identity_client",
        ),
        sa.CheckConstraint(
            "legal_basis IN ('a', 'b', 'c', 'd', 'e', 'f')",
            name="ck_identity_client_purpose_legal_basis",
        ),
    )


def downgrade() -> None:
    op.drop_table("identity_client_purpose")
    op.drop_table("identity_client")
