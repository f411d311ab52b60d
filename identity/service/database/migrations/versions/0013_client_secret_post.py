"""An app may authenticate with ``client_secret_post``.

Revision ID: 0013_client_secret_post
Revises: 0012_rs256_and_ed25519_keys
Create Date: 2027-01-20

- ``identity_client.token_endpoint_auth_method`` also allows ``client_secret_post`` (the
  secret in the form body, RFC 6749 §2.3.1, OIDC Core §9), which keeps a secret hash as
  ``client_secret_basic`` does: the checks ``ck_identity_client_auth_method`` and
  ``ck_identity_client_auth_material`` are widened. Existing apps keep their method.

SQLite cannot alter a table's check in place, so there the table is rebuilt (batch mode)
from its definition as 0005 and 0012 left it. ``identity_client_purpose`` refers to it, and
the migration runs in one transaction with foreign keys on (``PRAGMA foreign_keys`` cannot
change inside a transaction): dropping the old table would break that reference. So the
purposes are set aside in a temporary table while the table is rebuilt, and put back.
PostgreSQL alters the checks in place.

Downgrading turns every ``client_secret_post`` app into ``client_secret_basic`` (same secret,
same hash): the older code knows only HTTP Basic, so those apps must then send their secret
in the ``Authorization`` header.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_client_secret_post"
down_revision = "0012_rs256_and_ed25519_keys"
branch_labels = None
depends_on = None

_AUTH_METHOD = "ck_identity_client_auth_method"
_AUTH_MATERIAL = "ck_identity_client_auth_material"
_OLD_METHODS = "token_endpoint_auth_method IN ('client_secret_basic', 'private_key_jwt')"
_NEW_METHODS = (
    "token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt')"
)
_OLD_MATERIAL = (
    "(token_endpoint_auth_method = 'client_secret_basic'"
    " AND client_secret_hash IS NOT NULL AND jwks IS NULL)"
    " OR (token_endpoint_auth_method = 'private_key_jwt'"
    " AND jwks IS NOT NULL AND client_secret_hash IS NULL)"
)
_NEW_MATERIAL = (
    "(token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post')"
    " AND client_secret_hash IS NOT NULL AND jwks IS NULL)"
    " OR (token_endpoint_auth_method = 'private_key_jwt'"
    " AND jwks IS NOT NULL AND client_secret_hash IS NULL)"
)
_CLIENT_ALG_CHECK = "id_token_signed_response_alg IN ('EdDSA', 'Ed25519', 'ES256', 'RS256')"


def _client_table(methods: str, material: str) -> sa.Table:
    """``identity_client`` as 0005 and 0012 made it, with the two authentication checks given:
    SQLite rebuilds the table from this (batch mode), keeping its other constraints."""
    return sa.Table(
        "identity_client",
        sa.MetaData(),
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
        sa.Column(  # a column-level check, as 0012 added it (its downgrade drops the column)
            "id_token_signed_response_alg",
            sa.String(16),
            sa.CheckConstraint(_CLIENT_ALG_CHECK, name="ck_identity_client_id_token_alg"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("client_id", name="pk_identity_client"),
        sa.CheckConstraint(methods, name=_AUTH_METHOD),
        sa.CheckConstraint(material, name=_AUTH_MATERIAL),
    )


def _replace_auth_checks(old: tuple[str, str], new: tuple[str, str]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # the purposes step aside while their parent table is rebuilt
        op.execute(
            "CREATE TEMPORARY TABLE jati_0013_client_purpose AS"
            " SELECT client_id, code, legal_basis FROM identity_client_purpose"
        )
        op.execute("DELETE FROM identity_client_purpose")
    with op.batch_alter_table("identity_client", copy_from=_client_table(*old)) as batch:
        batch.drop_constraint(_AUTH_MATERIAL, type_="check")
        batch.drop_constraint(_AUTH_METHOD, type_="check")
        batch.create_check_constraint(_AUTH_METHOD, sa.text(new[0]))
        batch.create_check_constraint(_AUTH_MATERIAL, sa.text(new[1]))
    if sqlite:
        op.execute(
            "INSERT INTO identity_client_purpose (client_id, code, legal_basis)"
            " SELECT client_id, code, legal_basis FROM jati_0013_client_purpose"
        )
        op.execute("DROP TABLE jati_0013_client_purpose")


def upgrade() -> None:
    _replace_auth_checks((_OLD_METHODS, _OLD_MATERIAL), (_NEW_METHODS, _NEW_MATERIAL))


def downgrade() -> None:
    op.execute(
        "UPDATE identity_client SET token_endpoint_auth_method = 'client_secret_basic'"
        " WHERE token_endpoint_auth_method = 'client_secret_post'"
    )
    _replace_auth_checks((_NEW_METHODS, _NEW_MATERIAL), (_OLD_METHODS, _OLD_MATERIAL))
