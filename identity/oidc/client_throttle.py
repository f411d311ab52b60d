"""Throttling of client authentication by secret (RFC 6749 §2.3.1), per client id and per
address, before any argon2 hash.

Every wrong secret, and every unknown client id (checked against a dummy hash so that
answers do not tell registered ids apart), costs one argon2id verification: about 0.1 s and
1.4 cores. Unthrottled, 16 connections sending random Basic secrets forced 11 of them a
second and starved every other route (issue 17). These counters are the login throttle's
(:class:`identity.login.throttle.LoginThrottle`: in the database, shared by every worker, keyed by
HMACs, each attempt reserved under a row lock before hashing) under a key of their own
(:data:`CLIENT_THROTTLE_KEY_LABEL`, so neither an app's id nor an address shares a counter
with a login) and a policy of their own:

- per address: :data:`ADDRESS_POLICY`, 20 failures in 5 minutes, then a lockout of 60 s
  doubling up to an hour;
- per client id, registered or not: :data:`CLIENT_POLICY`, 30 failures in 5 minutes, then a
  lockout of 60 s doubling up to 15 minutes.

A locked attempt is answered 429 with ``Retry-After``: no hash, and, once a worker has seen
the lock, no database either. The answer is held for :data:`REFUSAL_DELAY` first
(:class:`RefusalDelay`, a tarpit costing a sleeping coroutine, at most
:data:`MAX_HELD_REFUSALS` at once per worker): a caller that sends its next guess as soon as
it is answered, on 16 connections, gets 32 answers a second instead of thousands, and the
cores stay with the other routes. What an unauthenticated caller can force is then at
most 20 hashes per address in 5 minutes, and 20 more after each lockout, whose length
doubles: at most 140 in an address's first hour, then 20 an hour (per client id: 30, at
most 240 in the first hour, then 120 an hour). The hashing pool
(:mod:`identity.citizens.hashing_pool`) bounds the total, whatever the number of addresses and ids.

Only attempts that would cost a hash are counted. A secret a worker verified in the last
minute is answered from memory (:mod:`identity.oidc.client_secret_cache`) before any of this:
the busy refresh grant gains no database round trip. ``private_key_jwt`` costs no hash and
is not counted here.

**An app's usual address.** A client id is public (it is in every authorization URL), so a
per-client-id lock alone would let anybody lock a real app out of its token endpoint. A
worker therefore remembers, for :data:`KNOWN_ADDRESS_FOR` after each successful
verification, the address it came from (an HMAC, in memory); an attempt for that client
from that address is counted per address only, past a locked client id: the app keeps
working while strangers are refused. The memory is per worker and is lost on restart; an
app whose worker has not yet seen it succeed waits out the client id's lock (15 minutes at
most).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from identity.login.throttle import AttemptKeys, LoginThrottle, ThrottlePolicy, ThrottleStore

__all__ = [
    "ADDRESS_POLICY",
    "CLIENT_POLICY",
    "KNOWN_ADDRESS_FOR",
    "MAX_HELD_REFUSALS",
    "REFUSAL_DELAY",
    "ClientAuthThrottle",
    "RefusalDelay",
]

#: HKDF label of the key that turns client ids and addresses into throttle keys.
ADDRESS_POLICY = ThrottlePolicy(
    max_failures=20,
    window=timedelta(minutes=5),
    lockout=timedelta(seconds=60),
    max_lockout=timedelta(hours=1),
)
CLIENT_POLICY = ThrottlePolicy(
    max_failures=30,
    window=timedelta(minutes=5),
    lockout=timedelta(seconds=60),
    max_lockout=timedelta(minutes=15),
)
#: How long a worker lets an app's address past its client id's lock after a success.
KNOWN_ADDRESS_FOR = timedelta(days=1)
_MAX_KNOWN = 10_000
#: Seconds a throttled client authentication's answer is held before it is sent.
REFUSAL_DELAY = 0.5
#: Answers held at once per worker; beyond, they are sent at once.
MAX_HELD_REFUSALS = 512


class ClientAuthThrottle:
    """Per-client-id and per-address throttling of secret checks (see the module docstring).

    Args:
        store: the throttle counters (``identity.storage.throttle.SqlThrottleStore``).
        key: at least 32 bytes, derived from the master key with
            :data:`CLIENT_THROTTLE_KEY_LABEL`.
        client: the per-client-id policy; address: the per-address one.
    """

    def __init__(
        self,
        *,
        store: ThrottleStore,
        key: bytes,
        client: ThrottlePolicy = CLIENT_POLICY,
        address: ThrottlePolicy = ADDRESS_POLICY,
    ) -> None:
        self.counters = LoginThrottle(store=store, key=key, account=client, address=address)
        self._known: dict[tuple[bytes, bytes], datetime] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "ClientAuthThrottle(<key hidden>)"

    def keys(self, client_id: str, address: str, *, now: datetime) -> AttemptKeys:
        """The attempt's keys; the client id's is left out from the app's usual address."""
        client_key = self.counters.account_key(client_id.encode("utf-8", "surrogatepass"))
        address_key = self.counters.address_key(address)
        known_until = self._known.get((client_key, address_key))
        if known_until is not None and now < known_until:
            return AttemptKeys(None, address_key)
        return AttemptKeys(client_key, address_key)

    def check_remembered(self, keys: AttemptKeys, *, now: datetime) -> None:
        """Refuse at once, on the event loop, what this worker knows to be locked.

        Raises:
            Throttled
        """
        self.counters.check_remembered(keys, now=now)

    def reserve(self, keys: AttemptKeys, *, now: datetime) -> None:
        """Count the attempt before its hash, or refuse it (:meth:`LoginThrottle.reserve`).

        Raises:
            Throttled
        """
        self.counters.reserve(keys, now=now)

    def failed(self, keys: AttemptKeys, *, now: datetime) -> None:
        self.counters.failed(keys, now=now)

    def cancelled(self, keys: AttemptKeys, *, now: datetime) -> None:
        self.counters.cancelled(keys, now=now)

    def succeeded(self, client_id: str, address: str, keys: AttemptKeys, *, now: datetime) -> None:
        """Clear the client id's counter, give the address its attempt back, and remember
        the address as the app's for :data:`KNOWN_ADDRESS_FOR`."""
        self.counters.succeeded(keys, now=now)
        client_key = self.counters.account_key(client_id.encode("utf-8", "surrogatepass"))
        address_key = self.counters.address_key(address)
        with self._lock:
            if len(self._known) >= _MAX_KNOWN:
                self._known = {k: v for k, v in self._known.items() if now < v}
                if len(self._known) >= _MAX_KNOWN:
                    self._known.clear()
            self._known[(client_key, address_key)] = now + KNOWN_ADDRESS_FOR


class RefusalDelay:
    """Holds throttled answers for ``delay`` seconds before they are sent (a tarpit).

    A refused caller is told ``Retry-After`` anyway; holding its answer costs a sleeping
    coroutine and an open connection, and slows a caller that sends its next attempt as soon
    as it is answered to ``connections / delay`` attempts a second. At most ``max_held``
    answers are held at once, so that many connections cannot pile up held coroutines: the
    rest are answered at once (a flood that wide is for the network's edge to stop).
    """

    def __init__(
        self,
        *,
        delay: float = REFUSAL_DELAY,
        max_held: int = MAX_HELD_REFUSALS,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.delay = delay
        self.max_held = max_held
        self._sleep = sleep
        self._held = 0
        self._lock = threading.Lock()

    @property
    def held(self) -> int:
        return self._held

    async def hold(self) -> None:
        """Wait ``delay`` seconds, unless ``max_held`` answers are already waiting."""
        with self._lock:
            if self.delay <= 0 or self._held >= self.max_held:
                return
            self._held += 1
        try:
            await self._sleep(self.delay)
        finally:
            with self._lock:
                self._held -= 1
