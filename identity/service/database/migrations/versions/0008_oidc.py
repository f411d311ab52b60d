"""OpenID Connect provider: sessions, pending requests, codes, token families, refresh
tokens, revoked access tokens and client-assertion ``jti``\\ s.

Revision ID: 0008_oidc
Revises: 0007_consent_ledger
Create Date: 2026-12-01

Secrets are stored only as SHA-256 hashes (the session cookie value, the code, the refresh
token, the assertion ``jti``); a pending request's ``login_hint`` is sealed. See
``identity/storage/oidc.py`` and the modules it joins (``sessions.py``, ``codes.py``,
``token_families.py``, ``replay_caches.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_oidc"
down_revision = "0007_consent_ledger"
branch_labels = None
depends_on = None

_TABLES = (
    "identity_client_assertion",
    "identity_revoked_token",
    "identity_refresh_token",
    "identity_token_family",
    "identity_authorization_code",
    "identity_authorization_request",
    "identity_session",
)


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "identity_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("auth_time", tz, nullable=False),
        sa.Column("amr", sa.Text(), nullable=False),
        sa.Column("acr", sa.String(64), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.Column("last_seen", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_session"),
    )
    _index("identity_session", "citizen_id")
    _index("identity_session", "expires_at")
    op.create_table(
        "identity_authorization_request",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("claims", sa.Text(), nullable=False),
        sa.Column("purposes", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("nonce", sa.Text(), nullable=True),
        sa.Column("code_challenge", sa.String(64), nullable=False),
        sa.Column("prompt", sa.String(32), nullable=False),
        sa.Column("max_age", sa.Integer(), nullable=True),
        sa.Column("login_hint", sa.LargeBinary(), nullable=True),
        sa.Column("ui_locales", sa.Text(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_authorization_request"),
    )
    _index("identity_authorization_request", "expires_at")
    op.create_table(
        "identity_authorization_code",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(64), nullable=False),
        sa.Column("nonce", sa.Text(), nullable=True),
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("auth_time", tz, nullable=False),
        sa.Column("acr", sa.String(64), nullable=False),
        sa.Column("amr", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("claims", sa.Text(), nullable=False),
        sa.Column("purposes", sa.Text(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.Column("used_at", tz, nullable=True),
        sa.Column("family_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name="pk_identity_authorization_code"),
    )
    _index("identity_authorization_code", "expires_at")
    op.create_table(
        "identity_token_family",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("claims", sa.Text(), nullable=False),
        sa.Column("purposes", sa.Text(), nullable=False),
        sa.Column("auth_time", tz, nullable=False),
        sa.Column("acr", sa.String(64), nullable=False),
        sa.Column("amr", sa.Text(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("revoked_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_token_family"),
    )
    _index("identity_token_family", "citizen_id")
    _index("identity_token_family", "created_at")
    op.create_table(
        "identity_refresh_token",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.Column("used_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_identity_refresh_token"),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["identity_token_family.id"],
            name="fk_identity_refresh_token_family_id_identity_token_family",
        ),
    )
    _index("identity_refresh_token", "family_id")
    _index("identity_refresh_token", "expires_at")
    op.create_table(
        "identity_revoked_token",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("jti", name="pk_identity_revoked_token"),
    )
    _index("identity_revoked_token", "expires_at")
    op.create_table(
        "identity_client_assertion",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("jti_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti_hash", name="pk_identity_client_assertion"),
    )
    _index("identity_client_assertion", "expires_at")


def downgrade() -> None:
    for table in _TABLES:
        op.drop_table(table)
