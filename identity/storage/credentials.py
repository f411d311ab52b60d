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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.storage.tables import UTCDateTime
from identity.credentials.issuer import ChangeReason, Credential, CredentialState
from identity.storage.database import Database
from identity.storage.tables import IdentityBase

PURGE_BATCH = 500


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
    return Credential(
        id=row.id,
        citizen_id=row.citizen_id,
        client_id=row.client_id,
        configuration_id=row.configuration_id,
        status_list_id=row.status_list_id,
        status_idx=row.status_idx,
        holder_thumbprint=row.holder_thumbprint,
        grant_ids=tuple(json.loads(row.grant_ids)),
        claims=tuple(json.loads(row.claims)),
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        state=CredentialState(row.state),
        changed_at=row.changed_at,
        reason=ChangeReason(row.reason) if row.reason else None,
    )


class SqlCredentialTransaction:
    def __init__(self, session: Session, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    @property
    def bind(self) -> Session:
        """Where the audit appender writes, so entries commit with the change."""
        return self.session

    def purge_nonces(self, now: datetime) -> int:
        """Forget up to a batch of spent nonces that have expired (they fail anyway)."""
        stale = select(IdentityCredentialNonce.nonce_hash).where(
            IdentityCredentialNonce.expires_at <= now
        )
        result = self.session.execute(
            delete(IdentityCredentialNonce).where(
                IdentityCredentialNonce.nonce_hash.in_(stale.limit(PURGE_BATCH))
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def use_nonce(self, digest: str, *, expires_at: datetime) -> bool:
        """Spend a nonce: True the first time, False if it was spent already."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = (
            insert(IdentityCredentialNonce)
            .values(nonce_hash=digest, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=["nonce_hash"])
            .returning(IdentityCredentialNonce.nonce_hash)
        )
        return self.session.execute(statement).first() is not None

    def add(self, credential: Credential) -> None:
        self.session.add(
            IdentityCredential(
                id=credential.id,
                citizen_id=credential.citizen_id,
                client_id=credential.client_id,
                configuration_id=credential.configuration_id,
                status_list_id=credential.status_list_id,
                status_idx=credential.status_idx,
                holder_thumbprint=credential.holder_thumbprint,
                grant_ids=json.dumps(list(credential.grant_ids)),
                claims=json.dumps(list(credential.claims)),
                issued_at=credential.issued_at,
                expires_at=credential.expires_at,
                state=credential.state.value,
                changed_at=credential.changed_at,
                reason=credential.reason.value if credential.reason else None,
            )
        )
        self.session.flush()

    def get(self, credential_id: str, *, for_update: bool = False) -> Credential | None:
        query = select(IdentityCredential).where(IdentityCredential.id == credential_id)
        if for_update and self.dialect == "postgresql":
            query = query.with_for_update()
        row = self.session.scalars(query).first()
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


class SqlCredentialStore:
    def __init__(self, *, database: Database) -> None:
        self.database = database

    @contextmanager
    def write(self) -> Iterator[SqlCredentialTransaction]:
        with self.database.write() as session:
            yield SqlCredentialTransaction(session, self.database.dialect)

    @contextmanager
    def read(self) -> Iterator[SqlCredentialTransaction]:
        with self.database.read() as session:
            yield SqlCredentialTransaction(session, self.database.dialect)
