"""Issued credentials and spent nonces: :class:`SqlCredentialStore` (SQLite and PostgreSQL).

- ``identity_credential``: one row per SD-JWT VC issued (:mod:`identity.credentials.issuer`): the
  holder (citizen id), the wallet app, the consent grants it rests on, its Token Status List
  reference and its state. No claim value is stored: the holder has the credential.
- ``identity_credential_nonce``: SHA-256 digests of the ``c_nonce`` values spent by a proof
  of possession, until they expire (OID4VCI §7: a nonce is good for one credential request).
  Expired rows are purged by a sample of the writes that add new ones, a batch at a time.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from audit.storage.tables import UTCDateTime
from identity.credentials.issuer import ChangeReason, Credential, CredentialState
from identity.storage.database import Database
from identity.storage.sql_store import SqlStore, SqlTransaction, from_row, to_row
from identity.storage.tables import IdentityBase


class IdentityCredential(IdentityBase):
    """An issued credential (no claim values; see the module text)."""

    __tablename__ = "identity_credential"
    __table_args__ = (Index("ix_identity_credential_citizen_id", "citizen_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    citizen_id: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str] = mapped_column(String(128))
    configuration_id: Mapped[str] = mapped_column(String(64))
    status_list_id: Mapped[str] = mapped_column(String(64))
    status_idx: Mapped[int] = mapped_column(Integer)
    holder_thumbprint: Mapped[str] = mapped_column(String(64))
    grant_ids: Mapped[str] = mapped_column(Text)
    claims: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(16))


class IdentityCredentialNonce(IdentityBase):
    """A spent ``c_nonce`` (its SHA-256), kept until it would have expired anyway."""

    __tablename__ = "identity_credential_nonce"

    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _credential(row: IdentityCredential) -> Credential:
    return from_row(
        Credential,
        row,
        grant_ids=tuple(json.loads(row.grant_ids)),
        claims=tuple(json.loads(row.claims)),
        state=CredentialState(row.state),
        reason=ChangeReason(row.reason) if row.reason else None,
    )


class SqlCredentialTransaction(SqlTransaction):
    """:class:`identity.credentials.issuer.CredentialTransaction` over one session."""

    def purge_nonces(self, now: datetime) -> int:
        """Forget up to a batch of spent nonces that have expired (they fail anyway)."""
        return self.purge_expired(IdentityCredentialNonce, IdentityCredentialNonce.nonce_hash, now)

    def use_nonce(self, digest: str, *, expires_at: datetime) -> bool:
        """Spend a nonce: True the first time, False if it was spent already."""
        return self.insert_new(
            IdentityCredentialNonce,
            {"nonce_hash": digest, "expires_at": expires_at},
            ["nonce_hash"],
        )

    def add(self, credential: Credential) -> None:
        row = to_row(
            IdentityCredential,
            credential,
            grant_ids=json.dumps(list(credential.grant_ids)),
            claims=json.dumps(list(credential.claims)),
            state=credential.state.value,
            reason=credential.reason.value if credential.reason else None,
        )
        self.session.add(row)
        self.session.flush()

    def get(self, credential_id: str, *, for_update: bool = False) -> Credential | None:
        query = select(IdentityCredential).where(IdentityCredential.id == credential_id)
        row = self.session.scalars(self.locked(query, for_update)).first()
        return _credential(row) if row is not None else None

    def of_citizen(self, citizen_id: str) -> list[Credential]:
        query = select(IdentityCredential).where(IdentityCredential.citizen_id == citizen_id)
        return [_credential(row) for row in self.session.scalars(query)]

    def live(self, *, after: str, limit: int) -> list[Credential]:
        """Credentials not revoked, by id, after ``after`` (keyset pagination)."""
        query = (
            select(IdentityCredential)
            .where(IdentityCredential.state != CredentialState.REVOKED.value)
            .where(IdentityCredential.id > after)
            .order_by(IdentityCredential.id)
            .limit(limit)
        )
        return [_credential(row) for row in self.session.scalars(query)]

    def save(self, credential: Credential) -> None:
        row = self.session.get(IdentityCredential, credential.id)
        if row is None:
            raise LookupError("no such credential")
        row.state = credential.state.value
        row.changed_at = credential.changed_at
        row.reason = credential.reason.value if credential.reason else None
        self.session.flush()


class SqlCredentialStore(SqlStore[SqlCredentialTransaction]):
    """:class:`identity.credentials.issuer.CredentialStore` on Jati's database."""

    def __init__(self, *, database: Database) -> None:
        super().__init__(database=database, transaction=SqlCredentialTransaction)
