"""The signing keys' table and the transactions of their life cycle.

Every change runs in one write transaction under a lock (``BEGIN IMMEDIATE`` on SQLite, a
transaction advisory lock on PostgreSQL), so that workers starting or rotating at once
agree: per algorithm there is exactly one active key and one next key, and the database,
not a worker's memory, says which.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from identity.keys.signing_keys import (
    KeySealer,
    KeyState,
    PrivateKey,
    SigningKeyInfo,
    generate_private_key,
    public_jwk,
)
from identity.storage.database import Database
from identity.storage.tables import IdentitySigningKey

_LOCK_KEY = 0x6A6174692D6B6579  # "jati-key"


def _info(row: IdentitySigningKey) -> SigningKeyInfo:
    return SigningKeyInfo(
        kid=row.kid,
        alg=row.alg,
        state=KeyState(row.state),
        public_jwk=json.loads(row.public_jwk),
        created_at=row.created_at,
        activated_at=row.activated_at,
        retired_at=row.retired_at,
        publish_until=row.publish_until,
    )


class SqlKeyStore:
    def __init__(self, *, database: Database, sealer: KeySealer) -> None:
        self.database = database
        self.sealer = sealer

    def _lock(self, session: Session) -> None:
        if self.database.dialect == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})

    def _new(self, session: Session, alg: str, state: KeyState, now: datetime) -> None:
        private_key = generate_private_key(alg)
        jwk = public_jwk(private_key, alg)
        session.add(
            IdentitySigningKey(
                kid=jwk["kid"],
                alg=alg,
                state=state.value,
                public_jwk=json.dumps(jwk, sort_keys=True),
                private_key=self.sealer.seal(jwk["kid"], private_key),
                created_at=now,
                activated_at=now if state is KeyState.ACTIVE else None,
            )
        )

    def ensure(self, algorithms: Sequence[str], *, now: datetime) -> None:
        """Create an active and a next key for each algorithm that lacks them."""
        with self.database.write() as session:
            self._lock(session)
            for alg in algorithms:
                states = set(
                    session.scalars(
                        select(IdentitySigningKey.state).where(IdentitySigningKey.alg == alg)
                    )
                )
                if KeyState.ACTIVE.value not in states:
                    self._new(session, alg, KeyState.ACTIVE, now)
                if KeyState.NEXT.value not in states:
                    self._new(session, alg, KeyState.NEXT, now)

    def rotate(self, algorithms: Sequence[str], *, now: datetime, publish_for: timedelta) -> None:
        """Retire the active key (published for ``publish_for`` more), promote the next one,
        create a new next one; per algorithm, in one transaction."""
        with self.database.write() as session:
            self._lock(session)
            for alg in algorithms:
                session.execute(
                    update(IdentitySigningKey)
                    .where(IdentitySigningKey.alg == alg, IdentitySigningKey.state == "active")
                    .values(state="retired", retired_at=now, publish_until=now + publish_for)
                )
                next_kid = session.scalars(
                    select(IdentitySigningKey.kid).where(
                        IdentitySigningKey.alg == alg, IdentitySigningKey.state == "next"
                    )
                ).first()
                if next_kid is not None:
                    session.execute(
                        update(IdentitySigningKey)
                        .where(IdentitySigningKey.kid == next_kid)
                        .values(state="active", activated_at=now)
                    )
                else:
                    self._new(session, alg, KeyState.ACTIVE, now)
                self._new(session, alg, KeyState.NEXT, now)

    def list_keys(self) -> list[SigningKeyInfo]:
        with self.database.read() as session:
            rows = session.scalars(
                select(IdentitySigningKey).order_by(IdentitySigningKey.created_at)
            ).all()
            return [_info(row) for row in rows]

    def active(self, alg: str) -> tuple[SigningKeyInfo, PrivateKey] | None:
        with self.database.read() as session:
            row = session.scalars(
                select(IdentitySigningKey).where(
                    IdentitySigningKey.alg == alg, IdentitySigningKey.state == "active"
                )
            ).first()
            if row is None:
                return None
            return _info(row), self.sealer.open(row.kid, row.private_key)
