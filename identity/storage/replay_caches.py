"""Identifiers remembered until they expire, so that what they name is refused after: the
``identity_revoked_token`` and ``identity_client_assertion`` tables and
:class:`ReplayCacheStatements`, part of :class:`identity.storage.oidc.SqlOidcTransaction`.

- ``identity_revoked_token``: revoked access tokens' ``jti`` until they expire (RFC 7009).
- ``identity_client_assertion``: hashes of the ``jti`` of client assertions seen, until
  they expire (RFC 7523 §3 item 7: single use).

Expired rows are purged by the writes that add new ones.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from audit.storage.tables import UTCDateTime
from identity.storage.sql_store import SqlTransaction
from identity.storage.tables import IdentityBase


class IdentityRevokedToken(IdentityBase):
    """A revoked access token's ``jti``, kept until the token would have expired."""

    __tablename__ = "identity_revoked_token"
    __table_args__ = (Index(None, "expires_at"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityClientAssertion(IdentityBase):
    """A client assertion's ``jti`` (as SHA-256) seen from a client, until it expires."""

    __tablename__ = "identity_client_assertion"
    __table_args__ = (Index(None, "expires_at"),)

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReplayCacheStatements(SqlTransaction):
    """Revocations' and assertion replay's statements in a transaction
    (:class:`identity.oidc.refresh_families.RevocationTransaction`,
    :class:`identity.oidc.client_auth.ReplayTransaction`)."""

    def revoke_access_token(self, jti: str, *, client_id: str, expires_at: datetime) -> None:
        self.insert_new(
            IdentityRevokedToken,
            {"jti": jti, "client_id": client_id, "expires_at": expires_at},
            ["jti"],
        )

    def is_access_token_revoked(self, jti: str) -> bool:
        return self.session.get(IdentityRevokedToken, jti) is not None

    def remember_assertion(self, client_id: str, jti: str, *, expires_at: datetime) -> bool:
        jti_hash = hashlib.sha256(jti.encode("utf-8")).hexdigest()
        return self.insert_new(
            IdentityClientAssertion,
            {"client_id": client_id, "jti_hash": jti_hash, "expires_at": expires_at},
            ["client_id", "jti_hash"],
        )

    def purge_revocations(self, now: datetime) -> int:
        revoked = self.purge_expired(IdentityRevokedToken, IdentityRevokedToken.jti, now)
        assertions = self.purge_expired(
            IdentityClientAssertion, IdentityClientAssertion.jti_hash, now
        )
        return revoked + assertions
