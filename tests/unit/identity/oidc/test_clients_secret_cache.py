"""Client secrets verified a moment ago (identity/oidc/client_secret_cache.py), the core alone:
the fast answer goes only to the right secret, a wrong one still costs the read and the
argon2 verification, and a secret rotated away stops working within the documented bound
(SECURITY.md T15a)."""

from __future__ import annotations

import asyncio
import builtins
import hashlib

import pytest

from identity.errors import InvalidClient
from identity.oidc.client_registry import ClientRegistry, generate_client_secret
from identity.oidc.client_secret_cache import SECRET_CACHE_TTL, VerifiedSecrets
from identity.oidc.clients import RelyingApp
from tests.fakes import CountingPasswords, MemoryClientStore
from tests.unit.identity.oidc.test_clients import CB, NOW

ADDRESS = "203.0.113.7"


class CountingStore(MemoryClientStore):
    """Counts the reads authentication makes."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_with_secret_hash(self, client_id: str) -> tuple[RelyingApp, str | None] | None:
        self.reads += 1
        return super().get_with_secret_hash(client_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def passwords() -> CountingPasswords:
    return CountingPasswords()


def _registry(
    store: CountingStore, passwords: CountingPasswords, clock: Clock, ttl: float = SECRET_CACHE_TTL
) -> ClientRegistry:
    return ClientRegistry(
        store=store,
        passwords=passwords,
        clock=lambda: NOW,
        verified_secrets=VerifiedSecrets(ttl=ttl, monotonic=clock),
    )


@pytest.fixture
def registry(store: CountingStore, passwords: CountingPasswords, clock: Clock) -> ClientRegistry:
    return _registry(store, passwords, clock)


def _app(registry: ClientRegistry) -> tuple[str, str]:
    registration = registry.register(name="Dinsos", scope="openid", redirect_uris=[CB])
    assert registration.client_secret is not None
    return registration.app.client_id, registration.client_secret


def _rotate(store: CountingStore, passwords: CountingPasswords, client_id: str) -> str:
    """What a secret rotation would do: a new secret's hash replaces the stored one."""
    new_secret = generate_client_secret()
    store.replace_secret_hash(client_id, passwords.hash(new_secret))
    return new_secret


def test_a_verified_secret_is_answered_without_a_read_or_argon2(
    registry: ClientRegistry, store: CountingStore, passwords: CountingPasswords
) -> None:
    client_id, secret = _app(registry)
    app = registry.authenticate_secret(client_id, secret)
    reads, verifications = store.reads, passwords.verifications
    for _ in range(5):
        assert registry.authenticate_secret(client_id, secret) == app
    assert (store.reads, passwords.verifications) == (reads, verifications)


def test_a_wrong_secret_still_costs_a_read_and_one_argon2_verification(
    registry: ClientRegistry, store: CountingStore, passwords: CountingPasswords
) -> None:
    client_id, secret = _app(registry)
    registry.authenticate_secret(client_id, secret)  # the right one is cached now
    wrong = [secret[:-1] + ("A" if secret[-1] != "A" else "B"), secret + "x", "", secret.upper()]
    for attempt in wrong:
        reads, verifications = store.reads, passwords.verifications
        with pytest.raises(InvalidClient):
            registry.authenticate_secret(client_id, attempt)
        assert (store.reads, passwords.verifications) == (reads + 1, verifications + 1)


def test_a_failure_does_not_evict_the_apps_cached_secret(
    registry: ClientRegistry, passwords: CountingPasswords
) -> None:
    client_id, secret = _app(registry)
    registry.authenticate_secret(client_id, secret)
    with pytest.raises(InvalidClient):
        registry.authenticate_secret(client_id, "a-stranger-guessing-" + "x" * 30)
    verifications = passwords.verifications
    registry.authenticate_secret(client_id, secret)
    assert passwords.verifications == verifications


def test_a_secret_rotated_away_works_at_most_the_ttl_after_its_verification(
    registry: ClientRegistry, store: CountingStore, passwords: CountingPasswords, clock: Clock
) -> None:
    client_id, old = _app(registry)
    registry.authenticate_secret(client_id, old)
    new = _rotate(store, passwords, client_id)
    clock.now += SECRET_CACHE_TTL - 1
    registry.authenticate_secret(client_id, old)  # within the documented bound
    clock.now += 1
    with pytest.raises(InvalidClient):
        registry.authenticate_secret(client_id, old)
    assert registry.authenticate_secret(client_id, new).client_id == client_id


def test_the_new_secret_verified_ends_the_old_ones_entry_at_once(
    registry: ClientRegistry, store: CountingStore, passwords: CountingPasswords
) -> None:
    client_id, old = _app(registry)
    registry.authenticate_secret(client_id, old)
    new = _rotate(store, passwords, client_id)
    assert registry.authenticate_secret(client_id, new).client_id == client_id
    with pytest.raises(InvalidClient):
        registry.authenticate_secret(client_id, old)


def test_use_never_extends_an_entry(
    registry: ClientRegistry, passwords: CountingPasswords, clock: Clock
) -> None:
    client_id, secret = _app(registry)
    registry.authenticate_secret(client_id, secret)
    for _ in range(3):
        clock.now += SECRET_CACHE_TTL / 3 - 0.01
        registry.authenticate_secret(client_id, secret)
    verifications = passwords.verifications
    clock.now += 0.05  # the first verification is now ttl old: argon2 again
    registry.authenticate_secret(client_id, secret)
    assert passwords.verifications == verifications + 1


def test_another_worker_sees_a_rotation_at_once(
    registry: ClientRegistry, store: CountingStore, passwords: CountingPasswords, clock: Clock
) -> None:
    client_id, old = _app(registry)
    registry.authenticate_secret(client_id, old)
    other_worker = _registry(store, passwords, clock)
    new = _rotate(store, passwords, client_id)
    with pytest.raises(InvalidClient):
        other_worker.authenticate_secret(client_id, old)
    assert other_worker.authenticate_secret(client_id, new).client_id == client_id


def test_a_zero_ttl_verifies_every_time(
    store: CountingStore, passwords: CountingPasswords, clock: Clock
) -> None:
    registry = _registry(store, passwords, clock, ttl=0)
    client_id, secret = _app(registry)
    for expected in (1, 2, 3):
        registry.authenticate_secret(client_id, secret)
        assert passwords.verifications == expected


def test_forgetting_a_client_verifies_its_secret_again(
    registry: ClientRegistry, passwords: CountingPasswords
) -> None:
    client_id, secret = _app(registry)
    registry.authenticate_secret(client_id, secret)
    registry.verified_secrets.forget(client_id)
    verifications = passwords.verifications
    registry.authenticate_secret(client_id, secret)
    assert passwords.verifications == verifications + 1


def test_the_cache_holds_neither_the_secret_nor_an_unkeyed_hash_of_it(
    registry: ClientRegistry,
) -> None:
    client_id, secret = _app(registry)
    registry.authenticate_secret(client_id, secret)
    held = repr(vars(registry.verified_secrets)).encode() + b"".join(
        entry[0] for entry in registry.verified_secrets._entries.values()
    )
    for form in (
        secret.encode(),
        hashlib.sha256(secret.encode()).digest(),
        hashlib.sha256(secret.encode()).hexdigest().encode(),
    ):
        assert form not in held
    # the key is drawn per process (per cache): another one keeps another digest
    other: VerifiedSecrets[str] = VerifiedSecrets()
    other.remember(client_id, secret, "app")
    assert other._entries[client_id][0] != registry.verified_secrets._entries[client_id][0]


def test_the_async_path_answers_a_cached_secret_and_refuses_a_wrong_one(
    registry: ClientRegistry, passwords: CountingPasswords
) -> None:
    client_id, secret = _app(registry)

    async def both() -> builtins.list[object]:
        first = await registry.authenticate_secret_async(client_id, secret, address=ADDRESS)
        again = await registry.authenticate_secret_async(client_id, secret, address=ADDRESS)
        try:
            await registry.authenticate_secret_async(client_id, secret + "x", address=ADDRESS)
        except InvalidClient as exc:
            return [first, again, exc]
        return [first, again, None]

    verifications = passwords.verifications
    first, again, refused = asyncio.run(both())
    assert first == again and isinstance(refused, InvalidClient)
    assert passwords.verifications == verifications + 2  # the first and the wrong one
