"""The relying-party SDK: discovery and JWKS over HTTP with caching, ID-token checks, claim
types and leeway, and that it imports without the server's dependencies."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from identity.relying_party import InvalidToken, Reason, TokenVerifier
from tests.token_helpers import (
    CLIENT_ID,
    ISSUER,
    NOW,
    SECTOR,
    FakeIssuer,
    Key,
    access_claims,
    forge,
    issuer_for,
    verifier_for,
)


@contextmanager
def _online(
    fake: FakeIssuer, now: list[float] | None = None
) -> Iterator[tuple[str, TokenVerifier]]:
    """(base URL, verifier): ``fake`` running, and a verifier reading its discovery and JWKS,
    whose key cache's clock reads ``now[0]`` (0 unless given)."""
    clock = [0.0] if now is None else now
    with fake.running() as base:
        verifier = TokenVerifier(issuer=base, audience=CLIENT_ID, clock=lambda: NOW)
        verifier.keys._clock = lambda: clock[0]
        yield base, verifier


def _token(key: Key, issuer: str) -> str:
    return forge(key, claims=access_claims(iss=issuer))


def test_reads_discovery_and_jwks_once_then_verifies_from_cache() -> None:
    key = Key.new("EdDSA")
    fake, now = FakeIssuer(key), [0.0]
    with _online(fake, now) as (base, verifier):
        for _ in range(50):
            assert verifier.verify_access_token(_token(key, base))["iss"] == base
        assert fake.requests == ["/.well-known/openid-configuration", "/jwks.json"]
        now[0] = 301.0  # past the JWKS max-age: one more read, discovery is not re-read
        verifier.verify_access_token(_token(key, base))
        assert fake.requests[2:] == ["/jwks.json"]


def test_a_key_published_after_the_first_read_is_found_by_one_refresh() -> None:
    old, new = Key.new("EdDSA"), Key.new("ES256")
    fake, now = FakeIssuer(old), [0.0]
    with _online(fake, now) as (base, verifier):
        verifier.verify_access_token(_token(old, base))
        fake.keys = [old.jwk, new.jwk]
        now[0] = 61.0  # beyond the refresh rate limit, within the cache lifetime
        assert verifier.verify_access_token(_token(new, base))["iss"] == base
        assert fake.requests.count("/jwks.json") == 2


def test_an_outage_keeps_the_keys_already_held() -> None:
    key = Key.new("EdDSA")
    fake, now = FakeIssuer(key), [0.0]
    with _online(fake, now) as (base, verifier):
        verifier.verify_access_token(_token(key, base))
        fake.fail = True
        now[0] = 400.0
        assert verifier.verify_access_token(_token(key, base))["iss"] == base


def test_no_keys_at_all_is_keys_unavailable() -> None:
    fake = FakeIssuer()
    fake.fail = True
    with _online(fake) as (base, verifier):
        with pytest.raises(InvalidToken) as caught:
            verifier.verify_access_token(_token(Key.new("EdDSA"), base))
        assert caught.value.reason is Reason.KEYS_UNAVAILABLE


def test_discovery_naming_another_issuer_is_refused() -> None:
    key = Key.new("EdDSA")
    fake = FakeIssuer(key)
    fake.issuer_claim = "https://impostor.example"
    with _online(fake) as (base, verifier):
        with pytest.raises(InvalidToken) as caught:
            verifier.verify_access_token(_token(key, base))
        assert caught.value.reason is Reason.KEYS_UNAVAILABLE
        assert "/jwks.json" not in fake.requests


def test_key_url_headers_are_not_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    key = Key.new("EdDSA")
    fake = FakeIssuer(key)
    with _online(fake) as (base, verifier):
        token = forge(key, claims=access_claims(iss=base), header={"jku": base + "/evil"})
        with pytest.raises(InvalidToken) as caught:
            verifier.verify_access_token(token)
        assert caught.value.reason is Reason.FORBIDDEN_HEADER
        assert "/evil" not in fake.requests


def test_jwks_entries_with_private_material_or_other_uses_are_skipped() -> None:
    good = Key.new("EdDSA")
    leaked = dict(Key.new("EdDSA").jwk, d="c2VjcmV0")
    encryption = dict(Key.new("ES256").jwk, use="enc")
    symmetric = {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}
    verifier = TokenVerifier(
        issuer=ISSUER,
        audience=CLIENT_ID,
        jwks={"keys": [good.jwk, leaked, encryption, symmetric]},
        clock=lambda: NOW,
    )
    assert verifier.verify_access_token(forge(good))["iss"] == ISSUER
    for kid in (leaked["kid"], encryption["kid"], "hmac"):
        with pytest.raises(InvalidToken) as caught:
            verifier.verify_access_token(forge(good, header={"kid": kid}))
        assert caught.value.reason is Reason.UNKNOWN_KEY


def test_leeway_is_small_and_configurable() -> None:
    key = Key.new("EdDSA")
    expired_20s_ago = forge(key, claims=access_claims(exp=int(NOW) - 20, iat=int(NOW) - 620))
    assert verifier_for(key).verify_access_token(expired_20s_ago)
    with pytest.raises(InvalidToken, match="expired"):
        verifier_for(key, leeway=10).verify_access_token(expired_20s_ago)
    with pytest.raises(ValueError, match="leeway"):
        verifier_for(key, leeway=3600)


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"exp": None}, Reason.MISSING_CLAIM),
        ({"exp": str(int(NOW) + 600)}, Reason.INVALID_CLAIM),
        ({"exp": True}, Reason.INVALID_CLAIM),
        ({"iat": None}, Reason.MISSING_CLAIM),
        ({"aud": None}, Reason.MISSING_CLAIM),
        ({"aud": 7}, Reason.INVALID_CLAIM),
        ({"sub": None}, Reason.MISSING_CLAIM),
        ({"sub": 42}, Reason.INVALID_CLAIM),
        ({"sub": ""}, Reason.INVALID_CLAIM),
        ({"client_id": None}, Reason.MISSING_CLAIM),
        ({"jti": None}, Reason.MISSING_CLAIM),
        ({"scope": ["openid"]}, Reason.INVALID_CLAIM),
        ({"nbf": "soon"}, Reason.INVALID_CLAIM),
        ({"iss": None}, Reason.WRONG_ISSUER),
    ],
)
def test_required_claims_and_their_types(override: dict[str, Any], reason: Reason) -> None:
    key = Key.new("EdDSA")
    with pytest.raises(InvalidToken) as caught:
        verifier_for(key).verify_access_token(forge(key, claims=access_claims(**override)))
    assert caught.value.reason is reason


def test_audience_list_containing_this_app_is_accepted() -> None:
    key = Key.new("EdDSA")
    token = forge(key, claims=access_claims(aud=["other-api", CLIENT_ID]))
    assert verifier_for(key).verify_access_token(token)["aud"] == ["other-api", CLIENT_ID]


def _id_token(key: Key, **kwargs: Any) -> str:
    fields: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "subject_id": "c-1",
        "sector_identifier": SECTOR,
        "auth_time": int(NOW) - 100,
        "acr": "urn:jati:acr:password",
        "amr": ["pwd"],
    }
    fields.update(kwargs)
    return issuer_for(key).id_token(**fields).token


def test_id_token_nonce_must_match() -> None:
    key = Key.new("EdDSA")
    verifier = verifier_for(key)
    token = _id_token(key, nonce="expected")
    assert verifier.verify_id_token(token, nonce="expected")["nonce"] == "expected"
    for nonce, bad in (("other", token), ("expected", _id_token(key))):
        with pytest.raises(InvalidToken) as caught:
            verifier.verify_id_token(bad, nonce=nonce)
        assert caught.value.reason is Reason.NONCE_MISMATCH


def test_id_token_max_age_uses_auth_time() -> None:
    key = Key.new("EdDSA")
    token = _id_token(key)
    assert verifier_for(key).verify_id_token(token, max_age=300)
    with pytest.raises(InvalidToken) as caught:
        verifier_for(key).verify_id_token(token, max_age=30)
    assert caught.value.reason is Reason.EXPIRED


def test_id_token_for_several_audiences_needs_azp_of_this_app() -> None:
    key = Key.new("EdDSA")
    claims = {
        "iss": ISSUER,
        "sub": "s",
        "aud": [CLIENT_ID, "other"],
        "exp": int(NOW) + 60,
        "iat": int(NOW),
    }
    verifier = verifier_for(key)
    with pytest.raises(InvalidToken) as caught:
        verifier.verify_id_token(forge(key, header={"typ": "JWT"}, claims=claims))
    assert caught.value.reason is Reason.WRONG_AUDIENCE
    good = forge(key, header={"typ": "JWT"}, claims={**claims, "azp": CLIENT_ID})
    assert verifier.verify_id_token(good)["azp"] == CLIENT_ID


def test_errors_never_contain_the_token_or_claim_values() -> None:
    key = Key.new("EdDSA")
    token = forge(key, claims=access_claims(iss="https://evil.example", sub="secret-subject"))
    with pytest.raises(InvalidToken) as caught:
        verifier_for(key).verify_access_token(token)
    message = str(caught.value)
    assert "evil" not in message and "secret-subject" not in message and token[:20] not in message


def test_constructor_refuses_bad_configuration() -> None:
    with pytest.raises(ValueError, match="trailing slash"):
        TokenVerifier(issuer=ISSUER + "/", audience=CLIENT_ID, jwks={"keys": []})
    with pytest.raises(ValueError, match="audience"):
        TokenVerifier(issuer=ISSUER, audience="", jwks={"keys": []})
    with pytest.raises(ValueError, match="jwks"):
        TokenVerifier(issuer=ISSUER, audience=CLIENT_ID, jwks={"not": "a set"})


def test_sdk_imports_without_the_server_dependencies() -> None:
    code = (
        "import sys\n"
        "import identity.relying_party as rp\n"
        "heavy = {'fastapi', 'sqlalchemy', 'starlette', 'alembic', 'pydantic', 'uvicorn'}\n"
        "loaded = heavy & {m.split('.')[0] for m in sys.modules}\n"
        "assert not loaded, loaded\n"
        "assert rp.TokenVerifier and rp.InvalidToken\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
