"""One test per attack on the OAuth 2.0 / OpenID Connect endpoints (RFC 6749 §10, RFC 6819,
RFC 9700, RFC 7523 §3, RFC 7636): forged, expired, replayed or misdirected client
assertions; code theft, replay and PKCE failures; refresh token replay; tokens of one kind
used as another; secrets at rest and in logs. Each attack gets the exact RFC error and
changes nothing, except that a detected replay revokes what it must."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from identity.service.settings import Settings
from identity.storage.database import Database
from tests.oidc_helpers import ASSERTION_TYPE, ISSUER, OidcWorld, RelyingApp, oidc_world
from tests.personal_data import SAMPLE, ServiceLines
from tests.token_helpers import Key, b64


@pytest.fixture
def jwt_app(world: OidcWorld) -> RelyingApp:
    return world.register_app(
        name="Dukcapil", key=Key.new("EdDSA"), redirect_uri="https://dukcapil.example.go.id/cb"
    )


def _authenticate(world: OidcWorld, fields: dict[str, str], **headers: str) -> Any:
    """A token request whose grant must fail (an unknown refresh token): a client that
    authenticates gets invalid_grant, one that does not gets invalid_client."""
    form = {"grant_type": "refresh_token", "refresh_token": "unknown", **fields}
    return world.client.post("/token", data=form, headers=headers)


def _assert_invalid_client(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


def _assertion_fields(assertion: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}


# ------------------------------------------------------------------ client assertions


def test_a_valid_assertion_authenticates(world: OidcWorld, jwt_app: RelyingApp) -> None:
    response = _authenticate(world, _assertion_fields(jwt_app.assertion()))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_an_assertion_with_the_issuer_as_audience_authenticates(
    world: OidcWorld, jwt_app: RelyingApp
) -> None:
    response = _authenticate(world, _assertion_fields(jwt_app.assertion(aud=ISSUER)))
    assert response.json()["error"] == "invalid_grant"


def test_forged_assertion_signed_by_another_key(world: OidcWorld, jwt_app: RelyingApp) -> None:
    forged = jwt_app.assertion(sign_with=Key.new("EdDSA"))  # the registered kid, a foreign key
    _assert_invalid_client(_authenticate(world, _assertion_fields(forged)))


def test_expired_assertion(world: OidcWorld, jwt_app: RelyingApp) -> None:
    now = int(time.time())
    expired = jwt_app.assertion(iat=now - 300, exp=now - 120)
    _assert_invalid_client(_authenticate(world, _assertion_fields(expired)))


def test_replayed_assertion(world: OidcWorld, jwt_app: RelyingApp) -> None:
    assertion = jwt_app.assertion()
    assert _authenticate(world, _assertion_fields(assertion)).json()["error"] == "invalid_grant"
    _assert_invalid_client(_authenticate(world, _assertion_fields(assertion)))


def test_replayed_jti_in_a_fresh_assertion(world: OidcWorld, jwt_app: RelyingApp) -> None:
    assert (
        _authenticate(world, _assertion_fields(jwt_app.assertion(jti="once"))).json()["error"]
        == "invalid_grant"
    )
    _assert_invalid_client(_authenticate(world, _assertion_fields(jwt_app.assertion(jti="once"))))


def test_assertion_for_another_audience(world: OidcWorld, jwt_app: RelyingApp) -> None:
    wrong = jwt_app.assertion(aud="https://other-idp.example.com/token")
    _assert_invalid_client(_authenticate(world, _assertion_fields(wrong)))


def test_assertion_whose_sub_is_another_client(
    world: OidcWorld, jwt_app: RelyingApp, rp: RelyingApp
) -> None:
    confused = jwt_app.assertion(sub=rp.client_id)
    _assert_invalid_client(_authenticate(world, _assertion_fields(confused)))


def test_assertion_whose_iss_is_not_the_client(world: OidcWorld, jwt_app: RelyingApp) -> None:
    _assert_invalid_client(
        _authenticate(world, _assertion_fields(jwt_app.assertion(iss="someone-else")))
    )


def test_long_lived_assertion(world: OidcWorld, jwt_app: RelyingApp) -> None:
    long_lived = jwt_app.assertion(exp=int(time.time()) + 3600)
    _assert_invalid_client(_authenticate(world, _assertion_fields(long_lived)))


def test_assertion_issued_in_the_future(world: OidcWorld, jwt_app: RelyingApp) -> None:
    now = int(time.time())
    future = jwt_app.assertion(iat=now + 120, exp=now + 200)
    _assert_invalid_client(_authenticate(world, _assertion_fields(future)))


def test_assertion_without_jti(world: OidcWorld, jwt_app: RelyingApp) -> None:
    _assert_invalid_client(_authenticate(world, _assertion_fields(jwt_app.assertion(jti=None))))


def test_assertion_without_exp(world: OidcWorld, jwt_app: RelyingApp) -> None:
    _assert_invalid_client(_authenticate(world, _assertion_fields(jwt_app.assertion(exp=None))))


def test_assertion_with_alg_none(world: OidcWorld, jwt_app: RelyingApp) -> None:
    now = int(time.time())
    header = {"alg": "none", "kid": jwt_app.key.kid}  # type: ignore[union-attr]
    claims = {"iss": jwt_app.client_id, "sub": jwt_app.client_id, "aud": ISSUER + "/token",
              "exp": now + 60, "iat": now, "jti": "none-1"}  # fmt: skip
    unsigned = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."
    _assert_invalid_client(_authenticate(world, _assertion_fields(unsigned)))


def test_assertion_hmac_signed_with_the_public_key(world: OidcWorld, jwt_app: RelyingApp) -> None:
    key = jwt_app.key
    assert key is not None
    now = int(time.time())
    header = {"alg": "HS256", "kid": key.kid, "typ": "JWT"}
    claims = {"iss": jwt_app.client_id, "sub": jwt_app.client_id, "aud": ISSUER + "/token",
              "exp": now + 60, "iat": now, "jti": "hs-1"}  # fmt: skip
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    secret = base64.urlsafe_b64decode(key.jwk["x"] + "==")
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    _assert_invalid_client(_authenticate(world, _assertion_fields(f"{signing_input}.{b64(mac)}")))


def test_assertion_carrying_its_own_key(world: OidcWorld, jwt_app: RelyingApp) -> None:
    attacker = Key.new("EdDSA")
    embedded = jwt_app.assertion(
        sign_with=attacker, header_jwk=attacker.jwk, header_kid=attacker.kid
    )
    _assert_invalid_client(_authenticate(world, _assertion_fields(embedded)))


def test_assertion_algorithm_swapped_to_es256(world: OidcWorld, jwt_app: RelyingApp) -> None:
    swapped = jwt_app.assertion(header_alg="ES256", sign_with=Key.new("ES256"))
    _assert_invalid_client(_authenticate(world, _assertion_fields(swapped)))


def test_assertion_of_a_secret_client(world: OidcWorld, rp: RelyingApp) -> None:
    """A client registered for client_secret_basic cannot switch to an assertion, whatever
    key it signs with (the method must match the registration)."""
    fake = RelyingApp(rp.client_id, rp.redirect_uri, key=Key.new("EdDSA"))
    _assert_invalid_client(_authenticate(world, _assertion_fields(fake.assertion())))


def test_basic_credentials_for_a_private_key_jwt_client(
    world: OidcWorld, jwt_app: RelyingApp
) -> None:
    headers = RelyingApp(jwt_app.client_id, "", secret="x" * 43).basic()
    _assert_invalid_client(_authenticate(world, {}, **headers))


def test_an_unsupported_assertion_type(world: OidcWorld, jwt_app: RelyingApp) -> None:
    fields = _assertion_fields(jwt_app.assertion())
    fields["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    _assert_invalid_client(_authenticate(world, fields))


def test_two_authentication_methods_at_once(
    world: OidcWorld, rp: RelyingApp, jwt_app: RelyingApp
) -> None:
    response = _authenticate(world, _assertion_fields(jwt_app.assertion()), **rp.basic())
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_client_secret_in_the_body(world: OidcWorld, rp: RelyingApp) -> None:
    fields = {"client_id": rp.client_id, "client_secret": rp.secret or ""}
    _assert_invalid_client(_authenticate(world, fields))


def test_wrong_client_secret(world: OidcWorld, rp: RelyingApp) -> None:
    _assert_invalid_client(_authenticate(world, {}, **rp.basic(secret="y" * 43)))


def test_no_client_authentication(world: OidcWorld) -> None:
    _assert_invalid_client(_authenticate(world, {"client_id": "anyone"}))


# ------------------------------------------------------------------ codes and PKCE


def test_code_reuse_revokes_what_the_first_exchange_issued(
    world: OidcWorld, rp: RelyingApp
) -> None:
    world.login()
    world.consent(rp)
    code, verifier = world.code_for(rp)
    first = world.exchange(rp, code, verifier).json()
    second = world.exchange(rp, code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert world.introspect(rp, first["access_token"]) == {"active": False}
    assert world.introspect(rp, first["refresh_token"]) == {"active": False}
    assert world.userinfo(first["access_token"]).status_code == 401
    assert world.refresh(rp, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_code_stolen_by_another_client(world: OidcWorld, rp: RelyingApp) -> None:
    thief = world.register_app(name="Pencuri", redirect_uri="https://thief.example.go.id/cb")
    world.login()
    world.consent(rp)
    code, verifier = world.code_for(rp)
    stolen = world.token(
        thief,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
         "code_verifier": verifier},
    )  # fmt: skip
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert world.exchange(rp, code, verifier).status_code == 200  # the owner still can


def test_a_different_redirect_uri_at_the_token_endpoint(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    code, verifier = world.code_for(rp)
    response = world.exchange(rp, code, verifier, redirect_uri="https://evil.example.com/cb")
    assert response.json()["error"] == "invalid_grant"
    assert world.exchange(rp, code, verifier).status_code == 200  # nothing was consumed


def test_a_missing_code_verifier(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    code, _ = world.code_for(rp)
    response = world.token(
        rp, {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_a_wrong_code_verifier(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    code, verifier = world.code_for(rp)
    response = world.exchange(rp, code, verifier[:-1] + ("A" if verifier[-1] != "A" else "B"))
    assert response.json()["error"] == "invalid_grant"
    assert world.exchange(rp, code, verifier).status_code == 200


def test_the_challenge_presented_as_a_plain_verifier(world: OidcWorld, rp: RelyingApp) -> None:
    """An attacker who saw the authorization request (the challenge) cannot redeem a stolen
    code with it: only S256 is accepted, so the challenge is not a verifier."""
    world.login()
    world.consent(rp)
    from identity.oidc.pkce import s256_challenge

    verifier = "v" * 64
    code, _ = world.code_for(rp, code_challenge=s256_challenge(verifier))
    response = world.exchange(rp, code, s256_challenge(verifier))
    assert response.json()["error"] == "invalid_grant"


def test_an_expired_code(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    code, verifier = world.code_for(rp)
    service = world.app.state.services.token_service
    service.code_grant.clock = lambda: datetime.now(UTC) + timedelta(seconds=61)
    response = world.exchange(rp, code, verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_guessed_code(world: OidcWorld, rp: RelyingApp) -> None:
    response = world.exchange(rp, "A" * 43, "v" * 64)
    assert response.json()["error"] == "invalid_grant"


# ------------------------------------------------------------------ refresh tokens


def test_refresh_token_reuse_revokes_the_whole_family(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    first = world.tokens(rp)
    second = world.refresh(rp, first["refresh_token"]).json()
    reuse = world.refresh(rp, first["refresh_token"])  # the old one, again: a thief or a leak
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert world.refresh(rp, second["refresh_token"]).json()["error"] == "invalid_grant"
    assert world.introspect(rp, second["access_token"]) == {"active": False}
    assert world.userinfo(second["access_token"]).status_code == 401


def test_a_refresh_token_of_another_client(world: OidcWorld, rp: RelyingApp) -> None:
    other = world.register_app(name="Lain", redirect_uri="https://lain.example.go.id/cb")
    world.login()
    world.consent(rp)
    body = world.tokens(rp)
    assert world.refresh(other, body["refresh_token"]).json()["error"] == "invalid_grant"
    assert world.refresh(rp, body["refresh_token"]).status_code == 200  # not revoked by it


def test_an_expired_refresh_token(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    body = world.tokens(rp)
    grant = world.app.state.services.token_service.refresh_grant
    grant.clock = lambda: datetime.now(UTC) + timedelta(days=15)
    assert world.refresh(rp, body["refresh_token"]).json()["error"] == "invalid_grant"


# ------------------------------------------------------------------ tokens as other tokens


def test_an_id_token_is_not_an_access_token_at_userinfo(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    body = world.tokens(rp)
    assert world.userinfo(body["id_token"]).status_code == 401


def test_an_unsigned_token_at_userinfo(world: OidcWorld) -> None:
    assert world.userinfo("eyJhbGciOiJub25lIn0.e30.").status_code == 401


def test_an_auditor_token_at_userinfo(world: OidcWorld) -> None:
    auditor = world.register_auditor()
    token = world.token(auditor, {"grant_type": "client_credentials"}).json()["access_token"]
    assert world.userinfo(token).status_code == 401


def test_userinfo_without_a_token(world: OidcWorld) -> None:
    response = world.client.get("/userinfo")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "error=" not in response.headers["www-authenticate"]  # RFC 6750 §3.1


def test_a_refresh_token_sent_as_an_access_token(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    body = world.tokens(rp)
    assert world.userinfo(body["refresh_token"]).status_code == 401


# ------------------------------------------------------------------ token endpoint hygiene


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password", "username": "x", "password": "y"}, "unsupported_grant_type"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
    ],
)
def test_malformed_token_requests_get_the_rfc_error(
    world: OidcWorld, rp: RelyingApp, form: dict[str, str], error: str
) -> None:
    response = world.token(rp, form)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


def test_a_repeated_token_parameter(world: OidcWorld, rp: RelyingApp) -> None:
    response = world.client.post(
        "/token",
        content="grant_type=refresh_token&refresh_token=a&refresh_token=b",
        headers={**rp.basic(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


# ------------------------------------------------------------------ secrets at rest and in logs


def test_the_session_cookie_is_httponly_lax_and_secure_under_https(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    with oidc_world(make_settings(issuer="https://id.example.go.id"), database) as world:
        attributes = world.app.state.services.sessions.cookie_attributes()
    assert attributes == {
        "key": "jati_session",
        # the session's 8 hours and the hour its citizen is still known for a kept form
        # (identity/http/pages/intent.py); the server's expiry is the authority
        "max_age": 8 * 3600 + 3600,
        "path": "/",
        "secure": True,
        "httponly": True,
        "samesite": "lax",
    }


def _signed_in_and_exchanged(world: OidcWorld, rp: RelyingApp) -> tuple[str | None, str, str, Any]:
    """The citizen logs in and consents; a code (asked with the NIK as login hint) is
    exchanged. Returns (session cookie, code, verifier, token response)."""
    world.login()
    cookie = world.client.cookies.get("jati_session")
    world.consent(rp)
    code, verifier = world.code_for(rp, login_hint=SAMPLE["nik"])
    return cookie, code, verifier, world.exchange(rp, code, verifier).json()


def test_codes_tokens_and_cookies_are_stored_only_as_hashes(
    world: OidcWorld, rp: RelyingApp, database: Database
) -> None:
    cookie, code, _, body = _signed_in_and_exchanged(world, rp)
    secrets_ = [cookie, code, body["refresh_token"], body["access_token"], SAMPLE["nik"]]
    tables = [
        "identity_session",
        "identity_authorization_request",
        "identity_authorization_code",
        "identity_token_family",
        "identity_refresh_token",
        "identity_revoked_token",
        "identity_client_assertion",
    ]
    world.authorize(rp, login_hint=SAMPLE["nik"])  # a pending request holding the hint
    with database.read() as session:
        for table in tables:
            for row in session.execute(text(f"SELECT * FROM {table}")):
                dump = " ".join(str(v) for v in row)
                for secret in secrets_:
                    assert secret not in dump, table
    if database.dialect == "sqlite":
        path = Path(database.url.removeprefix("sqlite:///"))
        for file in (path, path.with_name(path.name + "-wal")):
            raw = file.read_bytes() if file.exists() else b""
            for secret in secrets_[:4]:
                assert secret.encode() not in raw, file.name


def test_no_token_code_or_personal_value_reaches_a_log_line(
    world: OidcWorld, rp: RelyingApp, service_lines: ServiceLines
) -> None:
    cookie, code, verifier, body = _signed_in_and_exchanged(world, rp)
    world.userinfo(body["access_token"])
    world.refresh(rp, body["refresh_token"])
    world.refresh(rp, body["refresh_token"])  # a reuse, logged as a warning
    world.revoke(rp, body["access_token"])
    forbidden = [cookie, code, verifier, body["refresh_token"], body["access_token"],
                 body["id_token"], *(v for k, v in SAMPLE.items() if k != "birthdate")]  # fmt: skip
    assert service_lines.lines
    for name, line in service_lines.lines:
        for value in forbidden:
            assert value not in line, name
