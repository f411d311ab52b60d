"""The relying-party SDK's Token Status List reader (identity.relying_party.status_list):
verifies the Status List Token (draft-ietf-oauth-status-list §5.1, §8.3, RFC 8725), caches
it per ``ttl`` / max-age / ``exp``, refetches after, and fails closed."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from identity.credentials.status_list_token import StatusList
from identity.relying_party import InvalidToken, Reason
from identity.relying_party.key_cache import KeyCache
from identity.relying_party.keys import VerificationKey, key_set
from identity.relying_party.status_list import (
    MAX_LIST_BYTES,
    RETRY_AFTER_FAILURE,
    StatusListCache,
    status_list_loader,
)
from tests.token_helpers import Key, QuietHandler, b64, serving

ISSUER = "https://id.example.go.id"
URI = ISSUER + "/statuslists/AAAAAAAAAAAAAAAAAAAAAA"
NOW = 1_800_000_000.0
STATUSES = {0: 0, 1: 1, 2: 2, 3: 3, 7: 1, 1000: 2}


def status_list_json(entries: dict[int, int] | None = None, size: int = 4096) -> dict[str, Any]:
    return StatusList.from_entries(size, 2, STATUSES if entries is None else entries).to_json()


class World:
    """An issuer key, a clock, and a loader that serves whatever token the test sets."""

    def __init__(self, key: Key | None = None) -> None:
        self.key = key or Key.new("EdDSA")
        self.keys: dict[str, VerificationKey] = key_set({"keys": [self.key.jwk]})
        self.time = NOW
        self.token = ""
        self.max_age: float | None = None
        self.loads: list[str] = []
        self.error: Exception | None = None

    def now(self) -> float:
        return self.time

    def load(self, uri: str) -> tuple[str, float | None]:
        self.loads.append(uri)
        if self.error is not None:
            raise self.error
        return self.token, self.max_age

    def claims(self, **overrides: Any) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": URI,
            "iat": int(self.time),
            "exp": int(self.time) + 86_400,
            "ttl": 300,
            "status_list": status_list_json(),
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(
        self,
        *,
        header: dict[str, Any] | None = None,
        sign_with: Key | None = None,
        **claims: Any,
    ) -> str:
        fields = {"alg": self.key.alg, "kid": self.key.kid, "typ": "statuslist+jwt"}
        fields.update(header or {})
        header_json = json.dumps({k: v for k, v in fields.items() if v is not None})
        body = json.dumps(self.claims(**claims))
        signing_input = f"{b64(header_json.encode())}.{b64(body.encode())}"
        return f"{signing_input}.{b64((sign_with or self.key).sign(signing_input.encode()))}"

    def serve(self, **claims: Any) -> str:
        self.token = self.sign(**claims)
        return self.token

    def cache(self, **options: Any) -> StatusListCache:
        return StatusListCache(
            issuer=ISSUER,
            keys=KeyCache(None, keys=self.keys),
            loader=self.load,
            clock=self.now,
            **options,
        )


@pytest.fixture
def world() -> World:
    return World()


def refused(cache: StatusListCache, uri: str = URI, idx: int = 1) -> InvalidToken:
    with pytest.raises(InvalidToken) as caught:
        cache.status(uri, idx)
    return caught.value


# -- reading -----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_reads_every_status_of_a_verified_list(alg: str) -> None:
    world = World(Key.new(alg))
    world.serve()
    cache = world.cache()
    assert [cache.status(URI, i) for i in (0, 1, 2, 3, 7, 1000, 4095)] == [0, 1, 2, 3, 1, 2, 0]
    assert world.loads == [URI]  # one fetch for all those lookups


def test_an_index_outside_the_list_is_an_invalid_claim(world: World) -> None:
    world.serve()
    cache = world.cache()
    for idx in (4096, -1, 10**9):
        assert refused(cache, idx=idx).reason is Reason.INVALID_CLAIM
    for not_an_index in (True, 1.0, "1", None):
        assert refused(cache, idx=not_an_index).reason is Reason.INVALID_CLAIM  # type: ignore[arg-type]


# -- caching -----------------------------------------------------------------------------


def test_the_list_is_kept_for_its_ttl_then_fetched_again(world: World) -> None:
    world.serve(ttl=300)
    cache = world.cache()
    assert cache.status(URI, 5) == 0
    world.serve(ttl=300, status_list=status_list_json({5: 1}))  # revoked at the issuer
    world.time += 299
    assert cache.status(URI, 5) == 0  # still within ttl: the cached list answers
    assert len(world.loads) == 1
    world.time += 1
    assert cache.status(URI, 5) == 1  # ttl passed: the revocation is seen
    assert len(world.loads) == 2


def test_http_max_age_shortens_the_cache_but_never_lengthens_it(world: World) -> None:
    world.serve(ttl=300)
    world.max_age = 60
    cache = world.cache()
    cache.status(URI, 1)
    world.time += 59
    cache.status(URI, 1)
    assert len(world.loads) == 1
    world.max_age = 10_000  # longer than ttl: ttl wins
    world.time += 1
    cache.status(URI, 1)
    assert len(world.loads) == 2
    world.time += 299
    cache.status(URI, 1)
    assert len(world.loads) == 2
    world.time += 1
    cache.status(URI, 1)
    assert len(world.loads) == 3


def test_a_list_is_never_kept_past_its_exp(world: World) -> None:
    world.serve(ttl=3600, exp=int(NOW) + 100)
    cache = world.cache(leeway=0)
    cache.status(URI, 1)
    world.serve(ttl=3600)
    world.time += 100
    cache.status(URI, 1)
    assert len(world.loads) == 2


def test_without_ttl_or_max_age_the_list_is_kept_five_minutes(world: World) -> None:
    world.serve(ttl=None)
    cache = world.cache()
    cache.status(URI, 1)
    world.time += 299
    cache.status(URI, 1)
    world.time += 1
    cache.status(URI, 1)
    assert len(world.loads) == 2


# -- refusals (each fails closed) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "claims", "why"),
    [
        ({"typ": "JWT"}, {}, "typ is not statuslist+jwt"),
        ({"typ": "at+jwt"}, {}, "typ is not statuslist+jwt"),
        ({"typ": None}, {}, "typ is not statuslist+jwt"),
        ({"alg": "none"}, {}, "alg is not in the allow-list"),
        ({"alg": "HS256"}, {}, "alg is not in the allow-list"),
        ({"jku": "https://evil.example/jwks"}, {}, "header jku refused"),
        ({"jwk": {"kty": "OKP"}}, {}, "header jwk refused"),
        ({"crit": ["exp"]}, {}, "header crit refused"),
        ({"kid": "someone-else"}, {}, "no key of the issuer has this kid"),
        ({}, {"sub": ISSUER + "/statuslists/BBBBBBBBBBBBBBBBBBBBBB"}, "sub is not the uri"),
        ({}, {"sub": None}, "sub is not the uri"),
        ({}, {"iss": "https://evil.example"}, "iss is not the expected issuer"),
        ({}, {"exp": int(NOW) - 31}, "expired"),
        ({}, {"iat": int(NOW) + 31}, "iat is in the future"),
        ({}, {"iat": None}, "iat is missing"),
        ({}, {"nbf": int(NOW) + 31}, "nbf is in the future"),
        ({}, {"ttl": 0}, "ttl is not a positive number"),
        ({}, {"ttl": "300"}, "ttl is not a positive number"),
        ({}, {"status_list": None}, "status_list is missing"),
        ({}, {"status_list": {"bits": 3, "lst": status_list_json()["lst"]}}, "bits is not"),
        ({}, {"status_list": {"bits": True, "lst": status_list_json()["lst"]}}, "bits is not"),
        ({}, {"status_list": {"bits": 2, "lst": "eNo+/=="}}, "not base64url"),
        ({}, {"status_list": {"bits": 2, "lst": b64(b"\x03\x00")}}, "not a ZLIB stream"),
        ({}, {"status_list": {"bits": 2, "lst": b64(zlib.compress(b""))}}, "no entries"),
        (
            {},
            {"status_list": {"bits": 2, "lst": b64(zlib.compress(b"\0" * 8) + b"x")}},
            "not one complete ZLIB stream",
        ),
        (
            {},
            {"status_list": {"bits": 2, "lst": b64(zlib.compress(b"ab")[:-2])}},
            "not one complete ZLIB stream",
        ),
    ],
)
def test_a_bad_status_list_token_is_refused(
    world: World, header: dict[str, Any], claims: dict[str, Any], why: str
) -> None:
    world.token = world.sign(header=header, **claims)
    error = refused(world.cache())
    assert error.reason is Reason.STATUS_UNAVAILABLE
    assert why in str(error)
    assert str(error).count("status_unavailable") == 1


def test_a_bad_signature_is_refused(world: World) -> None:
    world.token = world.sign(sign_with=Key.new("EdDSA"))
    assert "signature does not verify" in str(refused(world.cache()))
    tampered = world.sign()
    head, _, sig = tampered.split(".")
    claims = world.claims(status_list=status_list_json({}))  # "nothing revoked"
    world.token = f"{head}.{b64(json.dumps(claims).encode())}.{sig}"
    error = refused(world.cache())
    assert error.reason is Reason.STATUS_UNAVAILABLE
    assert "signature does not verify" in str(error)


def test_an_es256_key_cannot_verify_an_eddsa_header(world: World) -> None:
    es256 = Key.new("ES256")
    world.keys = key_set({"keys": [es256.jwk]})
    world.token = world.sign(header={"alg": "EdDSA", "kid": es256.kid})
    error = refused(world.cache())
    assert error.reason is Reason.STATUS_UNAVAILABLE
    assert "alg does not match" in str(error)


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/statuslists/x",
        "http://id.example.go.id/statuslists/x",  # another scheme is another origin
        "https://id.example.go.id:8443/statuslists/x",
        "https://id.example.go.id.evil.example/statuslists/x",
        "https://user@id.example.go.id/statuslists/x",
        "https://id.example.go.id/statuslists/x#frag",
        "file:///etc/passwd",
        "statuslists/x",
        "",
    ],
)
def test_a_uri_off_the_issuers_origin_is_never_fetched(world: World, uri: str) -> None:
    world.serve(sub=uri)
    error = refused(world.cache(), uri=uri)
    assert error.reason is Reason.STATUS_UNAVAILABLE
    assert "not on the issuer's origin" in str(error)
    assert world.loads == []


def test_an_oversize_token_is_refused_before_parsing(world: World) -> None:
    world.token = "a" * (8 * 1024 * 1024 + 1)
    error = refused(world.cache())
    assert error.reason is Reason.STATUS_UNAVAILABLE
    assert "acceptable size" in str(error)


def test_a_decompression_bomb_is_refused() -> None:
    bomb = zlib.compress(b"\0" * (MAX_LIST_BYTES + 1), 9)
    assert len(bomb) < 32 * 1024  # a small token...
    world = World()
    world.serve(status_list={"bits": 2, "lst": b64(bomb)})
    error = refused(world.cache())  # ...refused, not inflated
    assert error.reason is Reason.STATUS_UNAVAILABLE
    assert f"inflates to over {MAX_LIST_BYTES} bytes" in str(error)


def test_an_unreadable_list_fails_closed_and_is_not_hammered(world: World) -> None:
    world.error = OSError("connection refused")
    cache = world.cache()
    assert refused(cache).reason is Reason.STATUS_UNAVAILABLE
    assert refused(cache).reason is Reason.STATUS_UNAVAILABLE
    assert len(world.loads) == 1  # the second call did not fetch again
    world.error = None
    world.serve()
    world.time += RETRY_AFTER_FAILURE
    assert cache.status(URI, 1) == 1
    assert len(world.loads) == 2


def test_an_expired_cache_whose_refetch_fails_is_not_used(world: World) -> None:
    world.serve()
    cache = world.cache()
    assert cache.status(URI, 0) == 0
    world.time += 300
    world.error = OSError("issuer down")
    assert refused(cache, idx=0).reason is Reason.STATUS_UNAVAILABLE


def test_a_failure_message_carries_no_token(world: World) -> None:
    world.token = world.sign(header={"typ": "JWT"})
    error = refused(world.cache())
    assert world.token[:20] not in str(error)


def test_constructor_refuses_a_trailing_slash_and_a_wild_leeway(world: World) -> None:
    with pytest.raises(ValueError, match="trailing slash"):
        StatusListCache(issuer=ISSUER + "/", keys=KeyCache(None, keys=world.keys))
    with pytest.raises(ValueError, match="leeway"):
        StatusListCache(issuer=ISSUER, keys=KeyCache(None, keys=world.keys), leeway=3600)


# -- the default HTTP loader --------------------------------------------------------------


class FakeStatusProvider:
    """Serves a Status List Token on a loopback port, with what the test asks."""

    def __init__(self) -> None:
        self.token = b""
        self.content_type = "application/statuslist+jwt"
        self.cache_control = "public, max-age=60"
        self.redirect_to: str | None = None
        self.accepts: list[str | None] = []

    @contextmanager
    def running(self) -> Iterator[str]:
        provider = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                provider.accepts.append(self.headers.get("Accept"))
                if provider.redirect_to and self.path != "/final":
                    self.send_response(302)
                    self.send_header("Location", provider.redirect_to)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", provider.content_type)
                self.send_header("Cache-Control", provider.cache_control)
                self.send_header("Content-Length", str(len(provider.token)))
                self.end_headers()
                self.wfile.write(provider.token)

        with serving(Handler) as base:
            yield base


def http_world(base: str) -> tuple[World, StatusListCache, str]:
    world = World()
    uri = base + "/statuslists/AAAAAAAAAAAAAAAAAAAAAA"
    cache = StatusListCache(
        issuer=base, keys=KeyCache(None, keys=world.keys), clock=world.now, timeout=2
    )
    return world, cache, uri


def test_the_default_loader_fetches_over_loopback_http_with_the_media_type() -> None:
    provider = FakeStatusProvider()
    with provider.running() as base:
        world, cache, uri = http_world(base)
        provider.token = world.sign(iss=base, sub=uri).encode()
        assert cache.status(uri, 1) == 1
        assert provider.accepts == ["application/statuslist+jwt"]
        world.time += 60  # max-age 60 < ttl 300
        cache.status(uri, 1)
        assert len(provider.accepts) == 2


def test_the_default_loader_wants_the_statuslist_content_type() -> None:
    provider = FakeStatusProvider()
    provider.content_type = "application/json"
    with provider.running() as base:
        world, cache, uri = http_world(base)
        provider.token = world.sign(iss=base, sub=uri).encode()
        assert refused(cache, uri=uri).reason is Reason.STATUS_UNAVAILABLE


def test_the_default_loader_follows_no_redirect_to_another_origin() -> None:
    provider = FakeStatusProvider()
    with provider.running() as base, FakeStatusProvider().running() as elsewhere:
        world, cache, uri = http_world(base)
        provider.token = world.sign(iss=base, sub=uri).encode()
        provider.redirect_to = elsewhere + "/final"
        assert refused(cache, uri=uri).reason is Reason.STATUS_UNAVAILABLE
        provider.redirect_to = base + "/final"  # the same origin: followed
        world.time += RETRY_AFTER_FAILURE
        assert cache.status(uri, 1) == 1


def test_the_default_loader_refuses_plain_http_off_loopback() -> None:
    load = status_list_loader(timeout=1)
    with pytest.raises(ValueError, match="https"):
        load("http://id.example.go.id/statuslists/x")


def test_the_sdk_module_imports_without_the_server_dependencies() -> None:
    code = (
        "import sys\n"
        "import identity.relying_party.status_list as m\n"
        "heavy = {'fastapi', 'sqlalchemy', 'starlette', 'alembic', 'pydantic', 'uvicorn'}\n"
        "loaded = heavy & {n.split('.')[0] for n in sys.modules}\n"
        "assert not loaded, loaded\n"
        "assert m.StatusListCache\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
