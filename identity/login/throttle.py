"""Login throttling per account and per client address, shared by every worker.

Online password guessing is limited the way NIST SP 800-63B §5.2.2 asks ("rate limiting"):
after ``max_failures`` failed attempts within ``window`` an account (or a client address)
is locked for ``lockout``, doubling with each further lockout up to ``max_lockout``. A
locked key answers :class:`identity.errors.Throttled` with ``retry_after`` seconds (RFC 9110
§10.2.3 ``Retry-After``; RFC 6585 §4 status 429) *before* any password hash is computed, so
a flood of guesses costs the service almost nothing.

Counters live in the database (one row per key, see :mod:`identity.storage.throttle`) so that
every worker and every host see the same state. A row's key is an HMAC-SHA-256, under a key
derived from the master key, of the account's NIK blind index or of the client address:
neither the NIK nor the IP address is stored (data minimisation).

Each attempt is counted *before* the password is verified (a reservation), in a transaction
that locks the key's row: concurrent guesses from many workers cannot overshoot the limit. A
successful login clears the account's counter and gives back the address's reservation; a
failed one keeps it; an attempt that never reached the hash (the hashing pool was full) gives
both back. Unknown accounts are counted exactly like known ones, so throttling does not
reveal which NIKs are registered.

**Shared addresses.** Many citizens can stand behind one address (a carrier-grade NAT, an
office, a proxy), so the per-address limit must not let one of them lock the others out. It
follows OWASP's "Slow Down Online Guessing Attacks with Device Cookies" and NIST SP 800-63B
§5.2.2 (a success from a known client may disregard earlier failures): an attempt that
comes from a device on which *this account* has signed in before
(:mod:`identity.login.devices`) is counted against the account alone, not against the
address, so a locked address still lets that citizen in while the account's own limit
holds. Attempts on any other account from a locked address are refused, before hashing, as
before: an attacker who fails on many NIKs is still stopped there, and cannot obtain a
device proof for an account whose password they do not know. :class:`AttemptKeys` without
``address`` is such an attempt; without ``account``, the client-authentication throttle's
attempt from an address its app has used before (:mod:`identity.oidc.client_throttle`).

**Locks seen before.** A worker remembers each lock it has read or set until it ends, and
refuses further attempts on that key from memory (:meth:`LoginThrottle.check_remembered`,
and first thing in :meth:`LoginThrottle.reserve`): a flood against a locked key costs
neither a hash nor a database transaction. Locks only ever end by time (a success is not
possible while locked, and purging skips locked rows), so the memory refuses only what the
database would refuse too, but for a counter cleared meanwhile (an erasure, or a success
whose reservation raced ahead of the lock), until that lock would have ended.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, Protocol

from identity.errors import Throttled

__all__ = [
    "AttemptKeys",
    "Counter",
    "LoginThrottle",
    "ThrottlePolicy",
    "ThrottleStore",
    "ThrottleTransaction",
]

#: HKDF label of the key that turns accounts and addresses into throttle keys.
_ACCOUNT_DOMAIN = b"jati-throttle/account/v1\x00"
_ADDRESS_DOMAIN = b"jati-throttle/address/v1\x00"
_MAX_DOUBLINGS = 30  # 2**30 lockouts is far beyond any max_lockout
_MAX_REMEMBERED_LOCKS = 10_000

Scope = Literal["account", "address"]


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many failures a key may have in ``window`` before it is locked, and for how long."""

    max_failures: int
    window: timedelta
    lockout: timedelta
    max_lockout: timedelta

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        if not timedelta(0) < self.lockout <= self.max_lockout:
            raise ValueError("0 < lockout <= max_lockout")
        if self.window <= timedelta(0):
            raise ValueError("the window must be positive")

    @property
    def forget_after(self) -> timedelta:
        """A counter untouched this long is as good as new (and may be deleted)."""
        return self.window + self.max_lockout

    def lock_duration(self, lockouts: int) -> timedelta:
        """The ``lockouts``-th lockout: ``lockout * 2**(lockouts - 1)``, at most ``max_lockout``."""
        doubled = self.lockout * (1 << min(max(lockouts - 1, 0), _MAX_DOUBLINGS))
        return min(doubled, self.max_lockout)


@dataclass(frozen=True, slots=True)
class Counter:
    """One key's state: failures in the current window and the lockout history."""

    failures: int
    window_started_at: datetime
    lockouts: int
    locked_until: datetime | None
    updated_at: datetime

    @classmethod
    def new(cls, now: datetime) -> Counter:
        return cls(0, now, 0, None, now)


@dataclass(frozen=True, slots=True)
class AttemptKeys:
    """The throttle keys of one login attempt (HMACs, never the NIK or the address).

    A key left out (None) is not checked or counted for this attempt: ``address`` for an
    account's known device, ``account`` for an app's known address (the module docstring).
    """

    account: bytes | None
    address: bytes | None

    def __post_init__(self) -> None:
        if self.account is None and self.address is None:
            raise ValueError("an attempt is throttled by at least one key")

    def scoped(self) -> list[tuple[bytes, Scope]]:
        """The keys in a fixed order (by key), so concurrent transactions lock them alike."""
        pairs: list[tuple[bytes, Scope]] = []
        if self.account is not None:
            pairs.append((self.account, "account"))
        if self.address is not None:
            pairs.append((self.address, "address"))
        return sorted(pairs)


class ThrottleTransaction(Protocol):
    """One transaction over the counters (implemented by ``SqlThrottleStore``)."""

    def lock(self, key: bytes, scope: Scope, *, now: datetime) -> Counter:
        """The counter for ``key``, locked until the transaction ends (a new one if absent)."""
        ...

    def save(self, key: bytes, counter: Counter) -> None: ...

    def delete(self, key: bytes) -> None: ...


class ThrottleStore(Protocol):
    def transaction(self) -> AbstractContextManager[ThrottleTransaction]: ...

    def purge(self, *, untouched_since: datetime, now: datetime) -> int:
        """Delete counters unchanged since ``untouched_since`` that are not locked at ``now``."""
        ...


class LoginThrottle:
    """Per-account and per-address throttling of password logins (see the module docstring)."""

    def __init__(
        self,
        *,
        store: ThrottleStore,
        key: bytes,
        account: ThrottlePolicy,
        address: ThrottlePolicy,
    ) -> None:
        if len(key) < 32:
            raise ValueError("the throttle key must be at least 32 bytes")
        self.store = store
        self._key = key
        self.policies: dict[Scope, ThrottlePolicy] = {"account": account, "address": address}
        self._locked_until: dict[bytes, datetime] = {}  # locks this worker has seen

    def __repr__(self) -> str:
        return "LoginThrottle(<key hidden>)"

    def account_key(self, nik_index: bytes) -> bytes:
        """The throttle key of an account, from its NIK blind index (registered or not)."""
        return hmac.new(self._key, _ACCOUNT_DOMAIN + nik_index, hashlib.sha256).digest()

    def address_key(self, address: str) -> bytes:
        return hmac.new(self._key, _ADDRESS_DOMAIN + address.encode(), hashlib.sha256).digest()

    def keys(self, *, nik_index: bytes, address: str, known_device: bool = False) -> AttemptKeys:
        """The keys of a login attempt; ``known_device``: the account has signed in on the
        attempt's device before, so the address is neither checked nor counted."""
        address_key = None if known_device else self.address_key(address)
        return AttemptKeys(self.account_key(nik_index), address_key)

    def check_remembered(self, keys: AttemptKeys, *, now: datetime) -> None:
        """Refuse an attempt on a key this worker knows to be locked (no database, no hash).

        Raises:
            Throttled: with the remaining wait of the longest such lock.
        """
        waits = [
            _seconds_until(until, now)
            for key, _ in keys.scoped()
            if (until := self._locked_until.get(key)) is not None and now < until
        ]
        if waits:
            raise Throttled(max(waits))

    def reserve(self, keys: AttemptKeys, *, now: datetime) -> None:
        """Count an attempt, or refuse it before any password is hashed.

        Raises:
            Throttled: a key is locked (or this attempt is one more than the limit, which
                locks it); ``retry_after`` is the longest wait among the keys.
        """
        self.check_remembered(keys, now=now)
        waits: list[int] = []
        with self.store.transaction() as tx:
            counters = [
                (key, scope, self._current(tx.lock(key, scope, now=now), scope, now))
                for key, scope in keys.scoped()
            ]
            locked = [(key, c) for key, _, c in counters if _is_locked(c, now)]
            waits = [_retry_after(c, now) for _, c in locked]
            if not waits:
                counted = [
                    (key, scope, replace(c, failures=c.failures + 1, updated_at=now))
                    for key, scope, c in counters
                ]
                over = [
                    (key, self._lock(c, scope, now))
                    for key, scope, c in counted
                    if c.failures > self.policies[scope].max_failures
                ]
                if over:  # concurrent attempts raced past the limit: lock, count nothing
                    for key, counter in over:
                        tx.save(key, counter)
                    locked = over
                    waits = [_retry_after(counter, now) for _, counter in over]
                else:
                    for key, _, c in counted:
                        tx.save(key, c)
        if waits:
            self._remember_locks(locked)
            raise Throttled(max(waits))

    def failed(self, keys: AttemptKeys, *, now: datetime) -> None:
        """Keep the reserved attempt as a failure; lock each key that reached its limit."""
        locked: list[tuple[bytes, Counter]] = []
        with self.store.transaction() as tx:
            for key, scope in keys.scoped():
                counter = self._current(tx.lock(key, scope, now=now), scope, now)
                if counter.failures >= self.policies[scope].max_failures:
                    counter = self._lock(counter, scope, now)
                    locked.append((key, counter))
                tx.save(key, replace(counter, updated_at=now))
        self._remember_locks(locked)
        self.store.purge(untouched_since=now - self._forget_after, now=now)

    def succeeded(self, keys: AttemptKeys, *, now: datetime) -> None:
        """Clear the account's counter; give the address its reserved attempt back."""
        with self.store.transaction() as tx:
            for key, scope in keys.scoped():
                if scope == "account":
                    tx.delete(key)
                    continue
                counter = self._current(tx.lock(key, scope, now=now), scope, now)
                tx.save(key, replace(counter, failures=max(counter.failures - 1, 0)))

    def cancelled(self, keys: AttemptKeys, *, now: datetime) -> None:
        """Give back a reservation whose attempt never reached the hash (the hashing pool
        refused it): it is neither a failure nor a success."""
        with self.store.transaction() as tx:
            for key, scope in keys.scoped():
                counter = self._current(tx.lock(key, scope, now=now), scope, now)
                tx.save(key, replace(counter, failures=max(counter.failures - 1, 0)))

    def forget_account(self, nik_index: bytes) -> None:
        """Drop an account's counter (on erasure: no keyed link to the NIK may remain)."""
        with self.store.transaction() as tx:
            tx.delete(self.account_key(nik_index))

    @property
    def _forget_after(self) -> timedelta:
        return max(policy.forget_after for policy in self.policies.values())

    def _current(self, counter: Counter, scope: Scope, now: datetime) -> Counter:
        """``counter`` as of ``now``: forgotten when long untouched, window restarted when
        over (a lock in force is kept)."""
        policy = self.policies[scope]
        if _is_locked(counter, now):
            return counter
        if now - counter.updated_at >= policy.forget_after:
            return Counter.new(now)
        if now - counter.window_started_at >= policy.window:
            return replace(counter, failures=0, window_started_at=now, locked_until=None)
        return counter

    def _remember_locks(self, locked: list[tuple[bytes, Counter]]) -> None:
        if len(self._locked_until) > _MAX_REMEMBERED_LOCKS:
            self._locked_until = {}  # a flood of keys: start again (the database still holds)
        for key, counter in locked:
            if counter.locked_until is not None:
                self._locked_until[key] = counter.locked_until

    def _lock(self, counter: Counter, scope: Scope, now: datetime) -> Counter:
        lockouts = counter.lockouts + 1
        return Counter(
            failures=0,
            window_started_at=now,
            lockouts=lockouts,
            locked_until=now + self.policies[scope].lock_duration(lockouts),
            updated_at=now,
        )


def _is_locked(counter: Counter, now: datetime) -> bool:
    return counter.locked_until is not None and now < counter.locked_until


def _retry_after(counter: Counter, now: datetime) -> int:
    assert counter.locked_until is not None
    return _seconds_until(counter.locked_until, now)


def _seconds_until(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))
