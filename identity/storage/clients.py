"""Relying apps' tables and :class:`SqlClientStore` (see :mod:`identity.oidc.clients`).

- ``identity_client``: one row per app with its RFC 7591 metadata. ``client_secret_hash``
  holds only the argon2id hash of a ``client_secret_basic`` or ``client_secret_post`` secret;
  ``jwks`` the public JWK Set of a ``private_key_jwt`` app (RFC 7523). A check constraint
  keeps exactly one of the two, matching ``token_endpoint_auth_method``. List-valued
  metadata is JSON text.
  ``id_token_signed_response_alg`` is NULL unless the app registered one (then the service's
  ``JATI_TOKEN_SIGNING_ALG`` applies).
- ``identity_client_purpose``: the app's purposes, each with its UU PDP Art. 20(2) legal
  basis (a-f), so that consent and audit can look a purpose up by code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.entry import LegalBasis
from audit.storage.tables import UTCDateTime
from identity.keys.jws_algorithms import ID_TOKEN_ALGORITHMS
from identity.oidc.clients import GrantType, Purpose, RelyingApp, TokenEndpointAuthMethod
from identity.storage.database import Database
from identity.storage.tables import IdentityBase
from identity.storage.token_families import IdentityTokenFamily

_METHODS = ", ".join(f"'{m.value}'" for m in TokenEndpointAuthMethod)
_SECRET_METHODS = ", ".join(f"'{m.value}'" for m in TokenEndpointAuthMethod if m.uses_secret)
_ID_TOKEN_ALGS = ", ".join(f"'{alg}'" for alg in ID_TOKEN_ALGORITHMS)
_BASES = ", ".join(f"'{b.value}'" for b in LegalBasis)


class IdentityClient(IdentityBase):
    """A registered relying app (OAuth 2.0 client, RFC 6749 §2)."""

    __tablename__ = "identity_client"
    __table_args__ = (
        CheckConstraint(f"token_endpoint_auth_method IN ({_METHODS})", name="auth_method"),
        CheckConstraint(
            f"(token_endpoint_auth_method IN ({_SECRET_METHODS})"
            " AND client_secret_hash IS NOT NULL AND jwks IS NULL)"
            " OR (token_endpoint_auth_method = 'private_key_jwt'"
            " AND jwks IS NOT NULL AND client_secret_hash IS NULL)",
            name="auth_material",
        ),
        CheckConstraint(f"id_token_signed_response_alg IN ({_ID_TOKEN_ALGS})", name="id_token_alg"),
    )

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_name: Mapped[str] = mapped_column(String(120))
    grant_types: Mapped[str] = mapped_column(Text)  # JSON array
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    redirect_uris: Mapped[str] = mapped_column(Text)  # JSON array, registered order
    scope: Mapped[str] = mapped_column(Text)  # space-separated (RFC 7591 `scope`)
    allowed_claims: Mapped[str] = mapped_column(Text)  # JSON array
    sector_identifier: Mapped[str | None] = mapped_column(String(255))
    jwks: Mapped[str | None] = mapped_column(Text)  # JSON JWK Set, public keys only
    client_secret_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    id_token_signed_response_alg: Mapped[str | None] = mapped_column(String(16))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityClientPurpose(IdentityBase):
    """A purpose an app registered, with its legal basis (UU PDP Art. 20(2))."""

    __tablename__ = "identity_client_purpose"
    __table_args__ = (CheckConstraint(f"legal_basis IN ({_BASES})", name="legal_basis"),)

    client_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("identity_client.client_id"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    legal_basis: Mapped[str] = mapped_column(String(1))


def _app(row: IdentityClient, purposes: Iterable[IdentityClientPurpose]) -> RelyingApp:
    return RelyingApp(
        client_id=row.client_id,
        name=row.client_name,
        redirect_uris=tuple(json.loads(row.redirect_uris)),
        scopes=tuple(row.scope.split()),
        allowed_claims=tuple(json.loads(row.allowed_claims)),
        sector_identifier=row.sector_identifier,
        purposes=tuple(
            Purpose(code=p.code, legal_basis=LegalBasis(p.legal_basis))
            for p in sorted(purposes, key=lambda p: p.code)
        ),
        token_endpoint_auth_method=TokenEndpointAuthMethod(row.token_endpoint_auth_method),
        grant_types=tuple(GrantType(g) for g in json.loads(row.grant_types)),
        jwks=json.loads(row.jwks) if row.jwks is not None else None,
        created_at=row.created_at,
        id_token_signed_response_alg=row.id_token_signed_response_alg,
        disabled_at=row.disabled_at,
    )


class SqlClientStore:
    """:class:`identity.oidc.client_registry.ClientStore` on SQLite or PostgreSQL."""

    def __init__(self, *, database: Database) -> None:
        self.database = database

    def add(self, app: RelyingApp, *, secret_hash: str | None) -> None:
        with self.database.write() as session:
            session.add(
                IdentityClient(
                    client_id=app.client_id,
                    client_name=app.name,
                    grant_types=json.dumps([g.value for g in app.grant_types]),
                    token_endpoint_auth_method=app.token_endpoint_auth_method.value,
                    redirect_uris=json.dumps(list(app.redirect_uris)),
                    scope=app.scope,
                    allowed_claims=json.dumps(list(app.allowed_claims)),
                    sector_identifier=app.sector_identifier,
                    jwks=json.dumps(app.jwks, sort_keys=True) if app.jwks is not None else None,
                    client_secret_hash=secret_hash,
                    created_at=app.created_at,
                    id_token_signed_response_alg=app.id_token_signed_response_alg,
                )
            )
            session.flush()  # the parent row before its purposes (foreign key)
            session.add_all(
                IdentityClientPurpose(
                    client_id=app.client_id, code=p.code, legal_basis=p.legal_basis.value
                )
                for p in app.purposes
            )

    def _load(self, session: Session, client_id: str) -> IdentityClient | None:
        return session.get(IdentityClient, client_id)

    def _purposes(self, session: Session, client_id: str) -> list[IdentityClientPurpose]:
        return list(
            session.scalars(
                select(IdentityClientPurpose).where(IdentityClientPurpose.client_id == client_id)
            )
        )

    def get(self, client_id: str) -> RelyingApp | None:
        with self.database.read() as session:
            row = self._load(session, client_id)
            return _app(row, self._purposes(session, client_id)) if row is not None else None

    def get_with_secret_hash(self, client_id: str) -> tuple[RelyingApp, str | None] | None:
        with self.database.read() as session:
            row = self._load(session, client_id)
            if row is None:
                return None
            return _app(row, self._purposes(session, client_id)), row.client_secret_hash

    def list(self) -> list[RelyingApp]:
        with self.database.read() as session:
            rows = session.scalars(
                select(IdentityClient).order_by(IdentityClient.created_at, IdentityClient.client_id)
            ).all()
            purposes: dict[str, list[IdentityClientPurpose]] = {}
            for purpose in session.scalars(select(IdentityClientPurpose)):
                purposes.setdefault(purpose.client_id, []).append(purpose)
            return [_app(row, purposes.get(row.client_id, ())) for row in rows]

    def replace_redirect_uris(self, client_id: str, redirect_uris: Sequence[str]) -> None:
        with self.database.write() as session:
            session.execute(
                update(IdentityClient)
                .where(IdentityClient.client_id == client_id)
                .values(redirect_uris=json.dumps(list(redirect_uris)))
            )

    def set_disabled(self, client_id: str, at: datetime | None) -> None:
        """Disable (revoking the app's refresh-token families in the same transaction: a
        scan of the family table, once per disabling) or enable the app."""
        with self.database.write() as session:
            session.execute(
                update(IdentityClient)
                .where(IdentityClient.client_id == client_id)
                .values(disabled_at=at)
            )
            if at is not None:
                session.execute(
                    update(IdentityTokenFamily)
                    .where(
                        IdentityTokenFamily.client_id == client_id,
                        IdentityTokenFamily.revoked_at.is_(None),
                    )
                    .values(revoked_at=at)
                )

    def replace_secret_hash(self, client_id: str, secret_hash: str) -> None:
        """Store a rehashed secret (argon2 parameters changed,
        :mod:`identity.citizens.passwords`)."""
        with self.database.write() as session:
            session.execute(
                update(IdentityClient)
                .where(
                    IdentityClient.client_id == client_id,
                    IdentityClient.client_secret_hash.is_not(None),
                )
                .values(client_secret_hash=secret_hash)
            )
