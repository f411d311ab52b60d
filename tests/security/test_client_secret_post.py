"""``client_secret_post`` for the apps whose libraries default to it (issue 17, defect 6;
SECURITY.md T15, T15b, T30).

RFC 6749 §2.3.1 and OIDC Core §9: an app registered for ``client_secret_post`` sends
``client_id`` and ``client_secret`` in the form body, and only that way; RFC 6749 §2.3: a
request "MUST NOT use more than one authentication method". So at ``/token``,
``/introspect`` and ``/revoke`` alike:

- a post app authenticates with the secret in the body (every grant, introspection,
  revocation);
- a post app sending its (right) secret by HTTP Basic is ``invalid_client``, and a Basic app
  sending it in the body is too; both at once is ``invalid_request``;
- a posted secret is throttled, hashed on the bounded pool and cached exactly as a Basic one:
  429 after the address's limit with no hash, and the next request of a verified app costs
  no hash (the refresh grant's fast path);
- a malformed or odd posted secret is ``invalid_client``, never a 500.
"""

from __future__ import annotations

from typing import Any

import pytest

from identity.errors import InvalidClient
from identity.oidc.client_auth import posted_credentials
from tests.oidc_helpers import CountingHashes, OidcWorld, RelyingApp

ENDPOINTS = ("/token", "/introspect", "/revoke")
#: A form that every endpoint accepts once the client is authenticated: an unknown refresh
#: token (so /token answers invalid_grant) and a token to introspect or revoke.
PROBE = {"grant_type": "refresh_token", "refresh_token": "unknown", "token": "unknown"}
#: What each endpoint answers an authenticated client for PROBE.
AUTHENTICATED = {"/token": 400, "/introspect": 200, "/revoke": 200}


@pytest.fixture
def post_rp(world: OidcWorld) -> RelyingApp:
    return world.register_app(
        name="Aplikasi Lama",
        redirect_uri="https://lama.example.go.id/callback",
        token_endpoint_auth_method="client_secret_post",
    )


def probe(world: OidcWorld, endpoint: str, fields: dict[str, str], **headers: str) -> Any:
    return world.client.post(endpoint, data={**PROBE, **fields}, headers=headers)


def assert_invalid_client(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")  # RFC 6749 §5.2
    assert response.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- the secret in the body


def test_a_post_app_runs_the_code_flow_with_the_secret_in_the_body(
    world: OidcWorld, post_rp: RelyingApp
) -> None:
    world.login()
    world.consent(post_rp)
    body = world.tokens(post_rp)  # the exchange sends client_id and client_secret in the body
    assert {"access_token", "id_token", "refresh_token"} <= set(body)
    assert world.userinfo(body["access_token"]).status_code == 200
    refreshed = world.refresh(post_rp, body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    rotated = refreshed.json()
    assert rotated["refresh_token"] != body["refresh_token"]
    assert world.introspect(post_rp, rotated["access_token"])["active"] is True
    assert world.introspect(post_rp, rotated["refresh_token"])["active"] is True
    assert world.revoke(post_rp, rotated["refresh_token"]).status_code == 200
    assert world.introspect(post_rp, rotated["refresh_token"]) == {"active": False}


def test_a_post_auditor_gets_a_client_credentials_token(world: OidcWorld) -> None:
    auditor = world.register_auditor(token_endpoint_auth_method="client_secret_post")
    response = world.token(auditor, {"grant_type": "client_credentials", "scope": "audit:read"})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    events = world.client.get("/audit/events", headers={"Authorization": f"Bearer {token}"})
    assert events.status_code == 200


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_post_app_authenticates_at_every_endpoint(
    world: OidcWorld, post_rp: RelyingApp, endpoint: str
) -> None:
    response = probe(world, endpoint, post_rp.posted())
    assert response.status_code == AUTHENTICATED[endpoint], response.text


# ---------------------------------------------------------------- only the registered way


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_post_app_sending_its_secret_by_basic_is_invalid_client(
    world: OidcWorld, post_rp: RelyingApp, endpoint: str
) -> None:
    assert_invalid_client(probe(world, endpoint, {}, **post_rp.basic()))
    # also with its client_id in the body beside the header (still one method: Basic)
    fields = {"client_id": post_rp.client_id}
    assert_invalid_client(probe(world, endpoint, fields, **post_rp.basic()))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_basic_app_sending_its_secret_in_the_body_is_invalid_client(
    world: OidcWorld, rp: RelyingApp, endpoint: str
) -> None:
    assert_invalid_client(probe(world, endpoint, rp.posted()))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_both_ways_at_once_is_invalid_request(
    world: OidcWorld, post_rp: RelyingApp, rp: RelyingApp, endpoint: str
) -> None:
    """RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request",
    whichever app registered which method; nothing is hashed."""
    hashes = CountingHashes(world)
    for app in (post_rp, rp):
        response = probe(world, endpoint, app.posted(), **app.basic())
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
    assert hashes.calls == 0


def test_the_wrong_way_is_refused_even_right_after_the_right_way(
    world: OidcWorld, post_rp: RelyingApp
) -> None:
    """The per-worker cache of verified secrets answers only the method the app registered:
    a secret verified a moment ago by post is not let in by Basic."""
    assert probe(world, "/token", post_rp.posted()).status_code == 400  # invalid_grant
    hashes = CountingHashes(world)
    assert_invalid_client(probe(world, "/token", {}, **post_rp.basic()))
    assert hashes.calls == 1  # the full path: read, hash, counted as a failure
    assert probe(world, "/token", post_rp.posted()).status_code == 400
    assert hashes.calls == 1  # and the right way is still answered from memory


# ---------------------------------------------------------------- throttle, pool, cache


def test_wrong_posted_secrets_are_throttled_like_basic_ones_without_hashing(
    world: OidcWorld, post_rp: RelyingApp, rp: RelyingApp
) -> None:
    """The per-address limit (20 failures) counts posted and Basic guesses alike; then 429
    with Retry-After at every endpoint, and no hash, whichever way the secret comes."""
    hashes = CountingHashes(world)
    for n in range(10):
        guess = f"guess-{n:040d}"
        assert_invalid_client(probe(world, "/token", post_rp.posted(guess)))
        assert_invalid_client(probe(world, "/token", {}, **rp.basic(guess)))
    assert hashes.calls == 20
    for endpoint in ENDPOINTS:
        for fields, headers in ((post_rp.posted(), {}), ({}, rp.basic())):
            refused = probe(world, endpoint, fields, **headers)
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"] == "temporarily_unavailable"
            assert 1 <= int(refused.headers["retry-after"]) <= 3600
    assert hashes.calls == 20  # a locked attempt costs no hash


def test_a_post_apps_refresh_costs_no_hash_once_its_secret_is_verified(
    world: OidcWorld, post_rp: RelyingApp
) -> None:
    """The refresh grant's fast path: the secret verified by the code exchange is answered
    from the worker's memory (an HMAC), as for a Basic app."""
    world.login()
    world.consent(post_rp)
    body = world.tokens(post_rp)
    hashes = CountingHashes(world)
    for _ in range(3):
        response = world.refresh(post_rp, body["refresh_token"])
        assert response.status_code == 200, response.text
        body = response.json()
    assert hashes.calls == 0


# ---------------------------------------------------------------- malformed and odd input


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_malformed_posted_credentials_are_invalid_client_before_any_hash(
    world: OidcWorld, post_rp: RelyingApp, endpoint: str
) -> None:
    hashes = CountingHashes(world)
    for fields in (
        {"client_secret": post_rp.secret or ""},  # no client_id
        {"client_id": "", "client_secret": post_rp.secret or ""},
        {"client_id": post_rp.client_id, "client_secret": ""},
    ):
        assert_invalid_client(probe(world, endpoint, fields))
    assert hashes.calls == 0


@pytest.mark.parametrize(
    "secret",
    [
        b"%ff%fe",  # not UTF-8 once unescaped
        b"%C3%A9t%C3%A9-" + b"x" * 40,  # UTF-8 outside printable ASCII
        b"\xe9\xe9-raw-latin-1",  # raw bytes above 0x7F
        b"%E2%80%A8%EF%BF%BF",  # a line separator and a noncharacter
        b"%ED%A0%80",  # an escaped lone surrogate
        b"a+b%20c%2B%25",  # spaces and escapes
        b"x" * 5000,  # longer than any secret
    ],
)
def test_odd_posted_secrets_are_invalid_client_never_500(
    world: OidcWorld, post_rp: RelyingApp, secret: bytes
) -> None:
    body = b"grant_type=refresh_token&refresh_token=x&token=x&client_id="
    body += post_rp.client_id.encode() + b"&client_secret=" + secret
    for endpoint in ENDPOINTS:
        response = world.client.post(
            endpoint, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert_invalid_client(response)
    multipart = world.client.post(
        "/token",
        files={
            "grant_type": (None, b"client_credentials"),
            "client_id": (None, post_rp.client_id.encode()),
            "client_secret": (None, secret),
        },
    )
    assert multipart.status_code in (400, 401), multipart.text


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_nul_in_a_posted_secret_is_invalid_request(
    world: OidcWorld, post_rp: RelyingApp, endpoint: str
) -> None:
    body = f"grant_type=client_credentials&token=x&client_id={post_rp.client_id}&client_secret="
    response = world.client.post(
        endpoint,
        content=body.encode() + b"a%00b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "form",
    [
        {"client_id": "app", "client_secret": "a\ud800b"},  # a lone surrogate
        {"client_id": "a\udcffp", "client_secret": "secret"},
        {"client_id": "app", "client_secret": "a\x00b"},
        {"client_id": "app\x00", "client_secret": "secret"},
        {"client_id": "app"},
        {"client_secret": "secret"},
    ],
)
def test_posted_credentials_refuse_what_cannot_be_a_credential(form: dict[str, str]) -> None:
    """The core's own check, for callers other than the HTTP form parser (which already
    refuses a NUL and never yields a surrogate)."""
    with pytest.raises(InvalidClient):
        posted_credentials(form)


def test_posted_credentials_are_read_as_given() -> None:
    assert posted_credentials({"client_id": "app", "client_secret": "s e+c%"}) == (
        "app",
        "s e+c%",
    )
