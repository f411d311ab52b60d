"""Passkeys' tables and :class:`SqlPasskeyStore` (SQLite and PostgreSQL).

- ``identity_passkey``: one row per credential record (:mod:`identity.login.passkeys`): the
  credential id (unique: a credential is registered to one citizen at most, WebAuthn Level 3
  §7.1), the attested credential data as fido2 keeps it (AAGUID, credential id, COSE public
  key: nothing secret), the signature counter, the BE and BS flags, the AAGUID, the
  transports (a JSON list), the citizen's name for it, when it was registered and last used.
- ``identity_webauthn_user``: each citizen's user handle (64 random bytes, unique), drawn at
  the first registration and kept, so that every passkey of the citizen carries the same one.
- ``identity_webauthn_challenge``: the SHA-256 of each ceremony challenge spent, until the
  ceremony would have expired: a response is accepted once. Expired rows are purged by a
  sample of the writes that add new ones.

A passkey's counter is changed under a row lock (``SELECT ... FOR UPDATE`` on PostgreSQL;
SQLite's write transactions are ``BEGIN IMMEDIATE``). :class:`PasskeyErasure` deletes a
citizen's passkeys and user handle in the erasure's transaction.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    delete,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.storage.tables import UTCDateTime
from identity.login.passkeys import Passkey
from identity.storage.database import Database
from identity.storage.sql_store import SqlStore, SqlTransaction, from_row, rowcount
from identity.storage.tables import IdentityBase


class IdentityPasskey(IdentityBase):
    """A citizen's passkey (a WebAuthn credential record)."""

    __tablename__ = "identity_passkey"
    __table_args__ = (Index(None, "citizen_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    citizen_id: Mapped[str] = mapped_column(String(32))
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    credential_data: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger)
    backup_eligible: Mapped[bool] = mapped_column(Boolean)
    backed_up: Mapped[bool] = mapped_column(Boolean)
    aaguid: Mapped[str] = mapped_column(String(36))
    transports: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityWebauthnUser(IdentityBase):
    """A citizen's WebAuthn user handle."""

    __tablename__ = "identity_webauthn_user"

    citizen_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_handle: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityWebauthnChallenge(IdentityBase):
    """A spent ceremony challenge (its SHA-256), kept until the ceremony would have expired."""

    __tablename__ = "identity_webauthn_challenge"
    __table_args__ = (Index(None, "expires_at"),)

    challenge_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


_PASSKEYS = cast(Table, IdentityPasskey.__table__)


def _passkey(row: Any) -> Passkey:
    return from_row(Passkey, row, transports=tuple(json.loads(row.transports)))


class SqlPasskeyTransaction(SqlTransaction):
    """:class:`identity.login.passkeys.PasskeyTransaction` over one session."""

    def user_handle(self, citizen_id: str) -> bytes | None:
        row = self.session.get(IdentityWebauthnUser, citizen_id)
        return row.user_handle if row is not None else None

    def add_user_handle(self, citizen_id: str, handle: bytes, *, created_at: datetime) -> bytes:
        values = {"citizen_id": citizen_id, "user_handle": handle, "created_at": created_at}
        if self.insert_new(IdentityWebauthnUser, values, ["citizen_id"]):
            return handle
        stored = self.user_handle(citizen_id)
        if stored is None:  # pragma: no cover - the conflicting row is committed
            raise LookupError("the user handle vanished")
        return stored

    def find(self, credential_id: bytes, *, for_update: bool = False) -> Passkey | None:
        # Every passkey sign-in reads it twice: a plain row, without the ORM's identity map
        # and its flush (see :meth:`save`), costs about 0.1 ms less each time.
        query = select(_PASSKEYS).where(_PASSKEYS.c.credential_id == credential_id)
        row = self.session.execute(self.locked(query, for_update)).first()
        return _passkey(row) if row is not None else None

    def get(self, citizen_id: str, passkey_id: str, *, for_update: bool = False) -> Passkey | None:
        query = select(IdentityPasskey).where(
            IdentityPasskey.id == passkey_id, IdentityPasskey.citizen_id == citizen_id
        )
        row = self.session.scalars(self.locked(query, for_update)).first()
        return _passkey(row) if row is not None else None

    def of_citizen(self, citizen_id: str, *, for_update: bool = False) -> list[Passkey]:
        query = (
            select(IdentityPasskey)
            .where(IdentityPasskey.citizen_id == citizen_id)
            .order_by(IdentityPasskey.created_at, IdentityPasskey.id)
        )
        return [_passkey(row) for row in self.session.scalars(self.locked(query, for_update))]

    def add(self, passkey: Passkey) -> bool:
        values = asdict(passkey) | {"transports": json.dumps(list(passkey.transports))}
        return self.insert_new(IdentityPasskey, values, ["credential_id"])

    def save(self, passkey: Passkey) -> None:
        result = self.session.execute(
            update(_PASSKEYS)
            .where(_PASSKEYS.c.id == passkey.id)
            .values(
                name=passkey.name,
                sign_count=passkey.sign_count,
                backed_up=passkey.backed_up,
                last_used_at=passkey.last_used_at,
            )
        )
        if rowcount(result) == 0:
            raise LookupError("no such passkey")

    def delete(self, citizen_id: str, passkey_id: str) -> bool:
        result = self.session.execute(
            delete(IdentityPasskey).where(
                IdentityPasskey.id == passkey_id, IdentityPasskey.citizen_id == citizen_id
            )
        )
        return rowcount(result) > 0

    def delete_all(self, citizen_id: str) -> int:
        result = self.session.execute(
            delete(IdentityPasskey).where(IdentityPasskey.citizen_id == citizen_id)
        )
        return rowcount(result)

    def spend_challenge(self, digest: str, *, expires_at: datetime) -> bool:
        values = {"challenge_hash": digest, "expires_at": expires_at}
        return self.insert_new(IdentityWebauthnChallenge, values, ["challenge_hash"])

    def purge_challenges(self, now: datetime) -> int:
        return self.purge_expired(
            IdentityWebauthnChallenge, IdentityWebauthnChallenge.challenge_hash, now
        )


class PasskeyErasure:
    """:class:`identity.citizens.erasure.ErasureStep`: the citizen's passkeys and user handle
    are deleted in the erasure's own transaction (UU PDP Art. 43-44), whichever path erases:
    ``/me/requests``, the account page or ``jati citizen erase``."""

    def end_for_erased(self, bind: Session, citizen_id: str, *, now: datetime) -> None:
        bind.execute(delete(IdentityPasskey).where(IdentityPasskey.citizen_id == citizen_id))
        bind.execute(
            delete(IdentityWebauthnUser).where(IdentityWebauthnUser.citizen_id == citizen_id)
        )


class SqlPasskeyStore(SqlStore[SqlPasskeyTransaction]):
    """:class:`identity.login.passkeys.PasskeyStore` on Jati's database."""

    def __init__(self, *, database: Database) -> None:
        super().__init__(database=database, transaction=SqlPasskeyTransaction)
