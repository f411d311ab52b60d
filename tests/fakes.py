"""In-memory implementations of the cores' storage protocols, shared by the unit tests: each
commits on success and rolls back on error, like the SQL store it stands for, so that a core
can be tested alone (the same flows run on the databases in ``tests/storage``)."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from audit.entry import AuditEntry
from identity.citizens.fields import PERSONAL_FIELDS
from identity.citizens.passwords import TEST_PROFILE, PasswordService, Verification
from identity.citizens.records import NewCitizen, StoredCitizen
from identity.errors import DuplicateNik
from identity.login.throttle import Counter, Scope, ThrottlePolicy
from identity.oidc.clients import RelyingApp


class MemoryThrottleTransaction:
    def __init__(self, rows: dict[bytes, Counter]) -> None:
        self.rows = rows

    def lock(self, key: bytes, scope: Scope, *, now: datetime) -> Counter:
        return self.rows.setdefault(key, Counter.new(now))

    def save(self, key: bytes, counter: Counter) -> None:
        self.rows[key] = counter

    def delete(self, key: bytes) -> None:
        self.rows.pop(key, None)


class MemoryThrottleStore:
    """Transactions commit on success and roll back on error, like the SQL store."""

    def __init__(self) -> None:
        self.rows: dict[bytes, Counter] = {}
        self.purged = 0

    @contextmanager
    def transaction(self) -> Iterator[MemoryThrottleTransaction]:
        copy = dict(self.rows)
        yield MemoryThrottleTransaction(copy)
        self.rows = copy

    def purge(self, *, untouched_since: datetime, now: datetime) -> int:
        stale = [
            key
            for key, c in self.rows.items()
            if c.updated_at < untouched_since and (c.locked_until is None or c.locked_until <= now)
        ]
        for key in stale:
            del self.rows[key]
        self.purged += len(stale)
        return len(stale)


def throttle_policy(
    max_failures: int, *, lockout: int = 60, max_lockout: int = 3600
) -> ThrottlePolicy:
    return ThrottlePolicy(
        max_failures=max_failures,
        window=timedelta(minutes=15),
        lockout=timedelta(seconds=lockout),
        max_lockout=timedelta(seconds=max_lockout),
    )


class MemoryClientStore:
    """The ClientStore protocol in memory, to test the core alone."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[RelyingApp, str | None]] = {}

    def add(self, app: RelyingApp, *, secret_hash: str | None) -> None:
        self.rows[app.client_id] = (app, secret_hash)

    def get(self, client_id: str) -> RelyingApp | None:
        row = self.rows.get(client_id)
        return row[0] if row else None

    def get_with_secret_hash(self, client_id: str) -> tuple[RelyingApp, str | None] | None:
        return self.rows.get(client_id)

    def list(self) -> builtins.list[RelyingApp]:
        return [a for a, _ in self.rows.values()]

    def replace_secret_hash(self, client_id: str, secret_hash: str) -> None:
        self.rows[client_id] = (self.rows[client_id][0], secret_hash)

    def replace_redirect_uris(self, client_id: str, redirect_uris: Sequence[str]) -> None:
        app, secret_hash = self.rows[client_id]
        changed = dataclasses.replace(app, redirect_uris=tuple(redirect_uris))
        self.rows[client_id] = (changed, secret_hash)

    def set_disabled(self, client_id: str, at: datetime | None) -> None:
        app, secret_hash = self.rows[client_id]
        self.rows[client_id] = (dataclasses.replace(app, disabled_at=at), secret_hash)


class CountingPasswords(PasswordService):
    """Counts argon2 verifications, to show that every failure costs the same work."""

    def __init__(self) -> None:
        super().__init__(profile=TEST_PROFILE)
        self.verifications = 0

    def verify(self, stored_hash: str | None, password: str) -> Verification:
        self.verifications += 1
        return super().verify(stored_hash, password)


class MemoryCitizenTransaction:
    def __init__(self, rows: dict[str, StoredCitizen]) -> None:
        self.rows = rows
        self.audit: list[AuditEntry] = []

    @property
    def bind(self) -> MemoryCitizenTransaction:
        return self

    def add(self, citizen: NewCitizen) -> None:
        if any(row.nik_index == citizen.nik_index for row in self.rows.values()):
            raise DuplicateNik()
        self.rows[citizen.id] = StoredCitizen(
            id=citizen.id,
            nik_index=citizen.nik_index,
            wrapped_key=citizen.wrapped_key,
            sealed=dict(citizen.sealed),
            password_hash=citizen.password_hash,
            created_at=citizen.created_at,
            erased_at=None,
        )

    def load(self, citizen_id: str, *, for_update: bool = False) -> StoredCitizen | None:
        return self.rows.get(citizen_id)

    def find_by_nik_index(self, nik_index: bytes) -> StoredCitizen | None:
        return next((r for r in self.rows.values() if r.nik_index == nik_index), None)

    def set_password_hash(self, citizen_id: str, password_hash: str | None) -> None:
        self.rows[citizen_id] = dataclasses.replace(
            self.rows[citizen_id], password_hash=password_hash
        )

    def set_sealed(self, citizen_id: str, sealed: Mapping[str, bytes]) -> None:
        row = self.rows[citizen_id]
        self.rows[citizen_id] = dataclasses.replace(row, sealed={**row.sealed, **sealed})

    def erase(self, citizen_id: str, *, erased_at: datetime) -> None:
        self.rows[citizen_id] = dataclasses.replace(
            self.rows[citizen_id],
            nik_index=None,
            wrapped_key=None,
            sealed=dict.fromkeys(PERSONAL_FIELDS),
            password_hash=None,
            erased_at=erased_at,
        )


class MemoryCitizenStore:
    def __init__(self) -> None:
        self.rows: dict[str, StoredCitizen] = {}
        self.audit: list[AuditEntry] = []
        self.writes = 0
        self.erasures = 0

    @contextmanager
    def write(self) -> Iterator[MemoryCitizenTransaction]:
        tx = MemoryCitizenTransaction(dict(self.rows))
        yield tx
        self.rows, self.writes = tx.rows, self.writes + 1
        self.audit.extend(tx.audit)

    @contextmanager
    def read(self) -> Iterator[MemoryCitizenTransaction]:
        yield MemoryCitizenTransaction(dict(self.rows))

    def after_erasure(self) -> None:
        self.erasures += 1
