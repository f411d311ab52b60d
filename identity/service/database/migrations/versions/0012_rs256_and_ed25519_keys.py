"""RS256 and Ed25519 signing keys; an app's ID token algorithm.

Revision ID: 0012_rs256_and_ed25519_keys
Revises: 0011_credentials
Create Date: 2027-01-18

- ``identity_signing_key.alg`` also allows ``Ed25519`` (RFC 9864's fully-specified name,
  with keys of its own, so that a key's published ``alg`` is the header ``alg`` of what it
  signs) and ``RS256`` (3072-bit RSA keys for the ID tokens of apps that registered it).
  Existing keys keep their algorithm; ``jati serve`` creates the new ones at start.
- ``identity_client.id_token_signed_response_alg`` (OIDC Dynamic Client Registration 1.0
  §2): NULL (every existing app) means the service's ``JATI_TOKEN_SIGNING_ALG``.

Downgrading deletes the ``Ed25519`` and ``RS256`` keys (the older code cannot hold them):
tokens they signed no longer verify, and apps registered for RS256 fall back to the
service's algorithm.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_rs256_and_ed25519_keys"
down_revision = "0011_credentials"
branch_labels = None
depends_on = None

_OLD_ALGS = "alg IN ('EdDSA', 'ES256')"
_NEW_ALGS = "alg IN ('EdDSA', 'Ed25519', 'ES256', 'RS256')"
_CLIENT_ALG_CHECK = "id_token_signed_response_alg IN ('EdDSA', 'Ed25519', 'ES256', 'RS256')"


def _signing_key_table(alg_check: str) -> sa.Table:
    """``identity_signing_key`` as 0003 made it, with ``alg_check``: SQLite rebuilds the
    table from this (batch mode), so that its other constraints are kept as they are."""
    tz = sa.DateTime(timezone=True)
    return sa.Table(
        "identity_signing_key",
        sa.MetaData(),
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
        sa.CheckConstraint(alg_check, name="ck_identity_signing_key_alg"),
    )


def _replace_alg_check(old: str, new: str) -> None:
    with op.batch_alter_table("identity_signing_key", copy_from=_signing_key_table(old)) as batch:
        batch.drop_constraint("ck_identity_signing_key_alg", type_="check")
        batch.create_check_constraint("ck_identity_signing_key_alg", sa.text(new))


def upgrade() -> None:
    _replace_alg_check(_OLD_ALGS, _NEW_ALGS)
    # A column-level check: SQLite adds it with the column (ALTER TABLE ... ADD COLUMN),
    # without rebuilding a table that identity_client_purpose refers to.
    op.add_column(
        "identity_client",
        sa.Column(
            "id_token_signed_response_alg",
            sa.String(16),
            sa.CheckConstraint(_CLIENT_ALG_CHECK, name=op.f("ck_identity_client_id_token_alg")),
            nullable=True,
        ),
    )


def downgrade() -> None:
    # The column's own check goes with it, on SQLite (3.35 and later) as on PostgreSQL.
    op.execute("ALTER TABLE identity_client DROP COLUMN id_token_signed_response_alg")
    op.execute("DELETE FROM identity_signing_key WHERE alg NOT IN ('EdDSA', 'ES256')")
    _replace_alg_check(_NEW_ALGS, _OLD_ALGS)
