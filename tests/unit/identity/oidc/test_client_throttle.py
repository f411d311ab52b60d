"""Throttling of client authentication by secret (identity/oidc/client_throttle.py), the core
alone: counted per client id and per address before the argon2 hash, a locked attempt costs
no hash (and, once seen, no store transaction), unknown ids are counted like registered
ones, a cached secret never touches the counters, and an app keeps working from its usual
address while strangers lock its client id (issue 17, defect 2; SECURITY.md T15)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from identity.citizens.passwords import Verification
from identity.errors import InvalidClient, Overloaded, Throttled
from identity.oidc.client_registry import ClientRegistry, generate_client_id
from identity.oidc.client_secret_cache import VerifiedSecrets
from identity.oidc.client_throttle import (
    ADDRESS_POLICY,
    CLIENT_POLICY,
    ClientAuthThrottle,
    RefusalDelay,
)
from tests.conftest import ManualClock
from tests.fakes import (
    CountingPasswords,
    MemoryClientStore,
    MemoryThrottleStore,
    MemoryThrottleTransaction,
)
from tests.unit.identity.oidc.test_clients import CB

KEY = bytes(range(32, 64))
APP_ADDRESS = "198.51.100.20"
ATTACKER = "203.0.113.66"


class CountingThrottleStore(MemoryThrottleStore):
    """Counts transactions: each is a database round trip in the SQL store."""

    def __init__(self) -> None:
        super().__init__()
        self.transactions = 0

    @contextmanager
    def transaction(self) -> Iterator[MemoryThrottleTransaction]:
        self.transactions += 1
        with super().transaction() as tx:
            yield tx


@pytest.fixture
def throttle_store() -> CountingThrottleStore:
    return CountingThrottleStore()


@pytest.fixture
def passwords() -> CountingPasswords:
    return CountingPasswords()


def make_registry(
    throttle_store: CountingThrottleStore,
    passwords: CountingPasswords,
    clock: ManualClock,
    *,
    cache_ttl: float = 60.0,
) -> ClientRegistry:
    return ClientRegistry(
        store=MemoryClientStore(),
        passwords=passwords,
        clock=clock,
        verified_secrets=VerifiedSecrets(ttl=cache_ttl),
        throttle=ClientAuthThrottle(store=throttle_store, key=KEY),
    )


@pytest.fixture
def registry(
    throttle_store: CountingThrottleStore, passwords: CountingPasswords, clock: ManualClock
) -> ClientRegistry:
    return make_registry(throttle_store, passwords, clock)


def app_of(registry: ClientRegistry) -> tuple[str, str]:
    registration = registry.register(name="Dinsos", scope="openid", redirect_uris=[CB])
    assert registration.client_secret is not None
    return registration.app.client_id, registration.client_secret


def guess(registry: ClientRegistry, client_id: str, address: str) -> None:
    with pytest.raises(InvalidClient):
        registry.authenticate_secret(client_id, "guess-" + "x" * 40, address=address)


def test_the_policies_are_the_documented_ones() -> None:
    assert (ADDRESS_POLICY.max_failures, ADDRESS_POLICY.window.total_seconds()) == (20, 300)
    assert (CLIENT_POLICY.max_failures, CLIENT_POLICY.window.total_seconds()) == (30, 300)
    assert ADDRESS_POLICY.lockout.total_seconds() == CLIENT_POLICY.lockout.total_seconds() == 60
    assert ADDRESS_POLICY.max_lockout.total_seconds() == 3600
    assert CLIENT_POLICY.max_lockout.total_seconds() == 900


def test_an_address_is_locked_after_20_failures_and_then_costs_no_hash(
    registry: ClientRegistry, passwords: CountingPasswords
) -> None:
    client_id, secret = app_of(registry)
    for _ in range(20):
        guess(registry, client_id, ATTACKER)
    assert passwords.verifications == 20
    for attempt in ("another guess " + "y" * 40, secret):  # even the right secret waits
        with pytest.raises(Throttled) as refused:
            registry.authenticate_secret(client_id, attempt, address=ATTACKER)
        assert refused.value.retry_after == 60
    assert passwords.verifications == 20
    # Another address is not affected by this one's lock.
    assert registry.authenticate_secret(client_id, secret, address=APP_ADDRESS).client_id


def test_a_client_id_is_locked_after_30_failures_from_any_addresses(
    registry: ClientRegistry, passwords: CountingPasswords
) -> None:
    client_id, secret = app_of(registry)
    for n in range(30):
        guess(registry, client_id, f"192.0.2.{n}")
    with pytest.raises(Throttled):
        registry.authenticate_secret(client_id, secret, address="192.0.2.200")
    assert passwords.verifications == 30


@pytest.mark.parametrize("limit", ["address", "client id"])
def test_unknown_client_ids_are_counted_like_registered_ones(
    throttle_store: CountingThrottleStore, clock: ManualClock, limit: str
) -> None:
    """No enumeration: the same work, the same count, the same refusal."""
    outcomes = []
    for registered in (True, False):
        passwords = CountingPasswords()
        registry = make_registry(CountingThrottleStore(), passwords, clock)
        client_id = app_of(registry)[0] if registered else generate_client_id()
        steps = []
        for n in range(31):
            address = ATTACKER if limit == "address" else f"192.0.2.{n}"
            try:
                registry.authenticate_secret(client_id, "guess-" + "x" * 40, address=address)
            except InvalidClient:
                steps.append("401")
            except Throttled as exc:
                steps.append(f"429 {exc.retry_after}")
        outcomes.append((steps, passwords.verifications))
    assert outcomes[0] == outcomes[1]
    expected_hashes = 20 if limit == "address" else 30
    assert outcomes[0][1] == expected_hashes


def test_a_locked_attempt_costs_no_store_transaction_once_a_worker_has_seen_the_lock(
    registry: ClientRegistry, throttle_store: CountingThrottleStore, passwords: CountingPasswords
) -> None:
    client_id, _ = app_of(registry)
    for _ in range(20):
        guess(registry, client_id, ATTACKER)
    transactions, hashes = throttle_store.transactions, passwords.verifications

    async def flood() -> int:
        refused = 0
        for _ in range(200):
            try:
                await registry.authenticate_secret_async(
                    client_id, "guess-" + "z" * 40, address=ATTACKER
                )
            except Throttled:
                refused += 1
        return refused

    assert asyncio.run(flood()) == 200
    assert passwords.verifications == hashes
    assert throttle_store.transactions == transactions  # answered from the worker's memory


def test_a_cached_secret_never_touches_the_throttle(
    registry: ClientRegistry, throttle_store: CountingThrottleStore, passwords: CountingPasswords
) -> None:
    """The refresh grant's hot path: a secret verified a moment ago costs no round trip."""
    client_id, secret = app_of(registry)

    async def authenticate() -> str:
        app = await registry.authenticate_secret_async(client_id, secret, address=APP_ADDRESS)
        return app.client_id

    asyncio.run(authenticate())  # verified with argon2: reserved, then cleared
    transactions, hashes = throttle_store.transactions, passwords.verifications
    for _ in range(50):
        assert asyncio.run(authenticate()) == client_id
    assert (throttle_store.transactions, passwords.verifications) == (transactions, hashes)


def test_an_app_keeps_working_from_its_usual_address_while_strangers_lock_its_id(
    throttle_store: CountingThrottleStore, passwords: CountingPasswords, clock: ManualClock
) -> None:
    # ttl=0: every check costs argon2, as when a worker's cached entry has expired.
    registry = make_registry(throttle_store, passwords, clock, cache_ttl=0)
    client_id, secret = app_of(registry)
    registry.authenticate_secret(client_id, secret, address=APP_ADDRESS)
    for n in range(30):  # a botnet: one failure per address, the id gets locked
        guess(registry, client_id, f"192.0.2.{n}")
    with pytest.raises(Throttled):
        registry.authenticate_secret(client_id, secret, address="192.0.2.250")
    clock.advance(30)
    assert registry.authenticate_secret(client_id, secret, address=APP_ADDRESS).client_id
    # From its own address the app's failures still count per address.
    for _ in range(20):
        guess(registry, client_id, APP_ADDRESS)
    with pytest.raises(Throttled):
        registry.authenticate_secret(client_id, secret, address=APP_ADDRESS)


def test_an_attempt_the_hashing_pool_refused_is_not_counted(
    registry: ClientRegistry, throttle_store: CountingThrottleStore, passwords: CountingPasswords
) -> None:
    client_id, _ = app_of(registry)

    async def full_pool(stored_hash: str | None, password: str) -> Verification:
        raise Overloaded(1)

    passwords.verify_async = full_pool  # type: ignore[method-assign]

    async def attempt() -> None:
        await registry.authenticate_secret_async(client_id, "guess-" + "x" * 40, address=ATTACKER)

    for _ in range(50):
        with pytest.raises(Overloaded):
            asyncio.run(attempt())
    assert all(counter.failures == 0 for counter in throttle_store.rows.values())


def test_operator_tools_without_an_address_are_not_throttled(
    registry: ClientRegistry, throttle_store: CountingThrottleStore
) -> None:
    client_id, secret = app_of(registry)
    for _ in range(40):
        guess_without_address = "guess-" + "x" * 40
        with pytest.raises(InvalidClient):
            registry.authenticate_secret(client_id, guess_without_address)
    assert throttle_store.transactions == 0
    assert registry.authenticate_secret(client_id, secret).client_id == client_id


def test_refusals_are_held_a_moment_but_never_more_than_the_bound_at_once() -> None:
    """The tarpit: a throttled answer waits ``delay``; past ``max_held`` waiting answers,
    the next one is sent at once (many connections cannot pile up held coroutines)."""
    slept: list[float] = []

    async def main() -> list[bool]:
        release = asyncio.Event()

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            await release.wait()

        refusals = RefusalDelay(delay=0.5, max_held=2, sleep=sleep)
        held = [asyncio.ensure_future(refusals.hold()) for _ in range(2)]
        await asyncio.sleep(0)
        assert refusals.held == 2
        await asyncio.wait_for(refusals.hold(), timeout=5)  # the third is not held
        release.set()
        await asyncio.gather(*held)
        return [refusals.held == 0]

    assert asyncio.run(main()) == [True]
    assert slept == [0.5, 0.5]
