"""Requested authentication context classes (issue 17, defect 7; OIDC Core §3.1.2.1
``acr_values``, §5.5 ``claims``, §5.5.1.1): a citizen with a second factor steps up before
any code; an essential ``acr`` that cannot be met ends with
``unmet_authentication_requirements`` at the redirect URI; a voluntary one gets the
session's class; the ID token says what was done; discovery says what is supported; the
JSON login API no longer calls a password alone an authentication."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from identity.login.sessions import SESSION_COOKIE
from identity.oidc.tokens import ACR_MULTI_FACTOR, ACR_PASSWORD
from identity.relying_party import TokenVerifier
from tests.oidc_helpers import ISSUER, PASSWORD, OidcWorld, RelyingApp, query_of
from tests.pages_helpers import (
    begin,
    csrf_of,
    enrol_totp,
    follow,
    now_of,
    path_of,
    submit_login,
    totp_code,
)
from tests.personal_data import SAMPLE

MFA = ACR_MULTI_FACTOR
ESSENTIAL_MFA = json.dumps({"id_token": {"acr": {"essential": True, "values": [MFA]}}})


def _id_token(world: OidcWorld, rp: RelyingApp, code: str) -> dict[str, Any]:
    response = world.exchange(rp, code, world.last_verifier)
    assert response.status_code == 200, response.text
    verifier = TokenVerifier(
        issuer=ISSUER, audience=rp.client_id, jwks=world.client.get("/jwks.json").json()
    )
    return verifier.verify_id_token(response.json()["id_token"])


def _answer(response: Any, rp: RelyingApp) -> dict[str, str]:
    """The query sent back to the app's redirect URI."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(rp.redirect_uri + "?"), location
    return query_of(location)


@pytest.mark.parametrize(
    "asked",
    [{"acr_values": MFA}, {"claims": ESSENTIAL_MFA}],
    ids=["acr_values", "essential-claims"],
)
def test_a_password_session_of_a_totp_citizen_steps_up_before_any_code(
    world: OidcWorld, rp: RelyingApp, asked: dict[str, str]
) -> None:
    secret = enrol_totp(world)
    world.login()  # signed in with the password alone (before enrolling, say)
    world.consent(rp)
    old_cookie = world.client.cookies.get(SESSION_COOKIE)
    response = world.authorize(rp, state="st-1", **asked)
    assert response.status_code == 303
    location = response.headers["location"]
    assert urlsplit(location).path == "/login/otp", location  # no code: the code is asked
    assert "code=" not in location
    page = world.client.get(path_of(location))
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
    assert "Dinas Sosial meminta verifikasi tambahan" in page.text
    done = world.client.post(
        path_of(location),
        data={"csrf_token": csrf_of(page.text), "code": totp_code(secret, now_of(world))},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "/authorize/resume?req=" in done.headers["location"]
    answer = _answer(follow(world, done), rp)
    assert answer["state"] == "st-1" and answer["iss"] == ISSUER
    claims = _id_token(world, rp, answer["code"])
    assert claims["acr"] == MFA and claims["amr"] == ["pwd", "otp"]
    assert world.app.state.services.sessions.get(old_cookie) is None  # a new session replaced it


def test_a_wrong_code_at_the_step_up_issues_nothing(world: OidcWorld, rp: RelyingApp) -> None:
    enrol_totp(world)
    world.login()
    world.consent(rp)
    location = world.authorize(rp, acr_values=MFA).headers["location"]
    page = world.client.get(path_of(location))
    wrong = world.client.post(
        path_of(location), data={"csrf_token": csrf_of(page.text), "code": "12345x"}
    )
    assert wrong.status_code == 400
    again = world.client.get(
        f"/authorize/resume?{urlsplit(location).query}", follow_redirects=False
    )
    assert urlsplit(again.headers["location"]).path == "/login/otp"  # still asked


def test_prompt_none_with_a_step_up_needed_is_login_required(
    world: OidcWorld, rp: RelyingApp
) -> None:
    enrol_totp(world)
    world.login()
    world.consent(rp)
    answer = _answer(world.authorize(rp, acr_values=MFA, prompt="none", state="q"), rp)
    assert answer["error"] == "login_required" and answer["state"] == "q"
    assert "code" not in answer


def test_an_essential_acr_unmet_without_a_second_factor_is_refused_at_the_redirect_uri(
    world: OidcWorld, rp: RelyingApp
) -> None:
    world.consent(rp)
    req = begin(world, rp, claims=ESSENTIAL_MFA, state="st-2")
    resumed = follow(world, submit_login(world, req))  # a password login: all this citizen has
    answer = _answer(resumed, rp)
    assert answer["error"] == "unmet_authentication_requirements"
    assert answer["state"] == "st-2" and answer["iss"] == ISSUER
    assert "code" not in answer


def test_an_essential_acr_jati_does_not_know_is_refused_at_once(
    world: OidcWorld, rp: RelyingApp
) -> None:
    claims = json.dumps({"id_token": {"acr": {"essential": True, "value": "urn:x:loa:4"}}})
    answer = _answer(world.authorize(rp, claims=claims, state="st-3"), rp)
    assert answer["error"] == "unmet_authentication_requirements"
    assert answer["state"] == "st-3" and answer["iss"] == ISSUER


@pytest.mark.parametrize(
    "asked",
    [
        {"acr_values": MFA},
        {"acr_values": f"urn:x:unknown {MFA}"},
        {"claims": json.dumps({"id_token": {"acr": {"values": [MFA]}}})},
    ],
    ids=["acr_values", "with-unknown", "voluntary-claims"],
)
def test_a_voluntary_acr_not_met_gets_a_code_with_the_sessions_acr(
    world: OidcWorld, rp: RelyingApp, asked: dict[str, str]
) -> None:
    world.login()
    world.consent(rp)
    answer = _answer(world.authorize(rp, **asked), rp)
    claims = _id_token(world, rp, answer["code"])
    assert claims["acr"] == ACR_PASSWORD and claims["amr"] == ["pwd"]


def test_an_mfa_session_meets_an_essential_mfa_request_without_asking(
    world: OidcWorld, rp: RelyingApp
) -> None:
    enrol_totp(world)
    world.login(amr=["pwd", "otp"], acr=MFA)
    world.consent(rp)
    answer = _answer(world.authorize(rp, claims=ESSENTIAL_MFA), rp)
    assert _id_token(world, rp, answer["code"])["acr"] == MFA


@pytest.mark.parametrize(
    "claims",
    [
        "not json",
        "[]",
        '"id_token"',
        '{"id_token": "acr"}',
        '{"id_token": {"acr": 5}}',
        '{"userinfo": {"name": true}}',
        '{"id_token": {"acr": {"essential": "yes"}}}',
        '{"id_token": {"acr": {"values": "urn:jati:acr:mfa"}}}',
        '{"id_token": {"acr": {"value": ["urn:jati:acr:mfa"]}}}',
        "[" * 2000 + "]" * 2000,
    ],
    ids=[
        "not-json", "array", "string", "member-not-object", "claim-not-object",
        "userinfo-claim-not-object", "essential-not-bool", "values-not-array",
        "value-not-string", "too-deep",
    ],
)  # fmt: skip
def test_a_malformed_claims_parameter_is_invalid_request(
    world: OidcWorld, rp: RelyingApp, claims: str
) -> None:
    world.login()
    world.consent(rp)
    answer = _answer(world.authorize(rp, claims=claims, state="st-4"), rp)
    assert answer["error"] == "invalid_request", answer
    assert answer["state"] == "st-4" and answer["iss"] == ISSUER
    assert "code" not in answer


def test_other_claim_requests_are_ignored(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp, newsletter=False)
    claims = json.dumps(
        {"id_token": {"email": {"essential": True}, "nik": None}, "userinfo": {"phone": None}}
    )
    answer = _answer(world.authorize(rp, claims=claims), rp)
    released = _id_token(world, rp, answer["code"])
    assert "email" not in released and "nik" not in released  # scopes and consent decide


def test_discovery_says_which_acr_values_and_that_claims_is_supported(world: OidcWorld) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        body = world.client.get(path).json()
        assert body["acr_values_supported"] == [ACR_PASSWORD, MFA]
        assert body["claims_parameter_supported"] is True


def test_the_json_login_api_says_second_factor_required(world: OidcWorld) -> None:
    enrol_totp(world)
    response = world.client.post("/login", json={"nik": SAMPLE["nik"], "password": PASSWORD})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("/second_factor_required")
    assert "authenticated" not in body and "auth_time" not in body and "amr" not in body
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    # a wrong password still gets the one opaque answer, not this one
    wrong = world.client.post("/login", json={"nik": SAMPLE["nik"], "password": "salah sekali"})
    assert wrong.status_code == 401
    assert not wrong.json()["type"].endswith("/second_factor_required")
