"""Bad client secrets must not exhaust the CPU (issue 17, defect 2; SECURITY.md T15, T15b).

The attack: one client on many connections sends ``POST /token`` with random Basic secrets
(an unknown client id costs the same dummy hash). Each wrong secret cost an argon2id
verification on the event loop's shared threads, so the hashes filled them and every other
route waited. Now:

- client authentication is throttled per address and per client id before any hash: 429 with
  ``Retry-After`` and an RFC 6749 §5.2 body ``temporarily_unavailable``, at ``/token``,
  ``/introspect`` and ``/revoke`` alike, and a locked attempt costs no hash;
- hashes run on a bounded pool of their own: with it saturated, other routes still answer,
  and a hash beyond its bound is refused at once (503) instead of queueing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from identity.citizens.passwords import Verification
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.oidc_helpers import CountingHashes, OidcWorld, RelyingApp, basic_auth, oidc_world

WAIT = 10.0  # seconds: the longest a blocked step may take before the test fails


@pytest.fixture
def world_settings() -> dict[str, Any]:
    """The shared ``world`` with one hashing thread and room for two hashes in its queue."""
    return {"hashing_threads": 1, "hashing_queue": 2}


def wrong_secret(world: OidcWorld, rp: RelyingApp, path: str = "/token", n: int = 0) -> Any:
    form = {"grant_type": "refresh_token", "refresh_token": "x", "token": "x"}
    return world.client.post(path, data=form, headers=rp.basic(f"guess-{n:040d}"))


def assert_temporarily_unavailable(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == "temporarily_unavailable"
    assert set(response.json()) == {"error", "error_description"}
    assert 1 <= int(response.headers["retry-after"]) <= 3600
    assert response.headers["cache-control"] == "no-store"
    assert "www-authenticate" not in response.headers


def test_wrong_client_secrets_are_throttled_per_address_without_hashing(
    world: OidcWorld, rp: RelyingApp
) -> None:
    hashes = CountingHashes(world)
    for n in range(20):
        assert wrong_secret(world, rp, n=n).status_code == 401
    assert hashes.calls == 20
    refused = wrong_secret(world, rp, n=99)
    assert_temporarily_unavailable(refused, 429)
    assert int(refused.headers["retry-after"]) == 60
    # The same path at introspection and revocation; the right secret waits too.
    assert_temporarily_unavailable(wrong_secret(world, rp, "/introspect"), 429)
    assert_temporarily_unavailable(wrong_secret(world, rp, "/revoke"), 429)
    right = world.client.post("/revoke", data={"token": "x"}, headers=rp.basic())
    assert_temporarily_unavailable(right, 429)
    assert hashes.calls == 20  # no locked attempt cost a hash


def test_unknown_client_ids_are_throttled_like_registered_ones(world: OidcWorld) -> None:
    hashes = CountingHashes(world)
    answers = []
    for n in range(21):
        response = world.client.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers=basic_auth(f"nobody{n}", "guess-" + "x" * 40),  # a different unknown id each
        )
        answers.append(response.status_code)
    assert answers == [401] * 20 + [429]
    assert hashes.calls == 20


def test_a_saturated_hashing_pool_starves_no_other_route(world: OidcWorld, rp: RelyingApp) -> None:
    """Eight wrong secrets at once, each hash blocked on an event: one runs, two wait, five
    are refused at once with 503; meanwhile /authorize (database work in a thread) and
    /healthz answer. Before, the hashes took every thread of the shared pool."""
    service = world.app.state.services.clients.passwords
    release = threading.Event()
    lock = threading.Lock()
    running = [0]

    def blocked_hash(stored_hash: str | None, password: str) -> Verification:
        with lock:
            running[0] += 1
        release.wait(WAIT * 3)
        return Verification(False)

    service.verify = blocked_hash
    with ThreadPoolExecutor(max_workers=10) as threads:
        try:
            flood: list[Future[Any]] = [
                threads.submit(wrong_secret, world, rp, "/token", n) for n in range(8)
            ]
            # Until every request is refused or holds a hashing thread (the rest queue).
            deadline = time.monotonic() + WAIT
            while sum(f.done() for f in flood) + running[0] < 6:
                assert time.monotonic() < deadline, "the flood did not settle"
                time.sleep(0.01)
            authorize = threads.submit(world.authorize, rp)
            healthz = threads.submit(world.client.get, "/healthz")
            assert authorize.result(timeout=WAIT).status_code == 303
            assert healthz.result(timeout=WAIT).status_code == 200
            refused = [f.result() for f in flood if f.done()]
            assert running[0] == 1
            assert len(refused) == 5
            for response in refused:
                assert_temporarily_unavailable(response, 503)
        finally:
            release.set()
        answered = sorted(f.result(timeout=WAIT).status_code for f in flood)
    assert answered == [401] * 3 + [503] * 5


def test_a_login_beyond_the_pools_bound_is_refused_at_once(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    with oidc_world(make_settings(hashing_threads=1, hashing_queue=0), database) as world:
        service = world.app.state.services.citizens.passwords
        release = threading.Event()
        entered = threading.Event()

        def blocked_hash(stored_hash: str | None, password: str) -> Verification:
            entered.set()
            release.wait(WAIT * 3)
            return Verification(False)

        service.verify = blocked_hash
        body = {"nik": "3171010101900001", "password": "not the password"}
        with ThreadPoolExecutor(max_workers=2) as threads:
            try:
                first = threads.submit(world.client.post, "/login", json=body)
                assert entered.wait(WAIT)
                second = world.client.post("/login", json={**body, "nik": "3171010101900002"})
                assert second.status_code == 503
                assert second.headers["retry-after"] == "1"
                assert second.headers["content-type"] == "application/problem+json"
            finally:
                release.set()
            assert first.result(timeout=WAIT).status_code == 401
