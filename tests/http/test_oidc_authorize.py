"""The authorization endpoint (OIDC Core §3.1.2, RFC 6749 §4.1, RFC 7636, RFC 9207) and the
resume step the pages return to: a bad client or redirect URI is never redirected to;
every other error goes to the redirect URI with ``error``, ``state`` and ``iss``; without a
session the browser goes to the login page, without consent to the consent screen;
``prompt`` and ``max_age`` as the standard says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.oidc_helpers import ISSUER, OidcWorld, RelyingApp, query_of

PROBLEM_JSON = "application/problem+json"


def _redirect_error(response: Any, rp: RelyingApp) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(rp.redirect_uri + "?")
    answer = query_of(location)
    assert answer["iss"] == ISSUER  # RFC 9207 §2
    return answer


# ------------------------------------------------------------------ never redirected


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": None},
        {"client_id": "no-such-client"},
        {"redirect_uri": None},
        {"redirect_uri": "https://evil.example.com/callback"},
        {"redirect_uri": "https://dinsos.example.go.id/callback/"},
        {"redirect_uri": "https://dinsos.example.go.id/callback?x=1"},
        {"redirect_uri": "https://DINSOS.example.go.id/callback"},
    ],
    ids=[
        "missing-client",
        "unknown-client",
        "missing-redirect",
        "foreign-redirect",
        "trailing-slash",
        "extra-query",
        "case-changed",
    ],
)
def test_a_bad_client_or_redirect_uri_is_shown_never_redirected(
    world: OidcWorld, rp: RelyingApp, params: dict[str, Any]
) -> None:
    world.login()
    response = world.authorize(rp, **params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["error"] == "invalid_request"


def test_a_repeated_redirect_uri_is_never_redirected(world: OidcWorld, rp: RelyingApp) -> None:
    url = (
        f"/authorize?client_id={rp.client_id}&redirect_uri={rp.redirect_uri}"
        "&redirect_uri=https://evil.example.com/cb&response_type=code&scope=openid"
    )
    response = world.client.get(url, follow_redirects=False)
    assert response.status_code == 400 and "location" not in response.headers


def test_a_repeated_parameter_without_a_client_is_shown_not_a_server_error(
    world: OidcWorld,
) -> None:
    """Schemathesis (issue 17, defect 10): a repeated parameter was refused as redirectable
    before the client and redirect URI were checked, and the redirect URI looked up then
    did not exist: 500. The client is checked first; nothing is redirected."""
    for send in (
        lambda: world.client.get("/authorize?x=1&x=2", follow_redirects=False),
        lambda: world.client.post(
            "/authorize",
            content=b"x=1&x=2",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
    ):
        response = send()
        assert response.status_code == 400, response.text
        assert "location" not in response.headers
        assert response.json()["error"] == "invalid_request"


def test_a_repeated_unknown_parameter_is_not_named_at_the_app(
    world: OidcWorld, rp: RelyingApp
) -> None:
    response = world.client.get(
        f"/authorize?client_id={rp.client_id}&redirect_uri={rp.redirect_uri}"
        "&response_type=code&scope=openid&x%C3%A9=1&x%C3%A9=2",
        follow_redirects=False,
    )
    answer = _redirect_error(response, rp)
    assert answer["error"] == "invalid_request"
    assert answer["error_description"] == "repeated parameter"


def test_a_post_whose_body_is_not_a_form_is_refused(world: OidcWorld, rp: RelyingApp) -> None:
    """OIDC Core §3.1.2.1: POST parameters come as a form; another body is not "no
    parameters" (schemathesis, issue 17, defect 10)."""
    response = world.client.post(
        "/authorize",
        content=f"client_id={rp.client_id}".encode(),
        headers={"Content-Type": "text/plain"},
        follow_redirects=False,
    )
    assert response.status_code == 400 and "location" not in response.headers
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


def test_an_auditor_app_cannot_use_the_code_flow(world: OidcWorld) -> None:
    auditor = world.register_auditor()
    response = world.client.get(
        "/authorize",
        params={"client_id": auditor.client_id, "redirect_uri": "https://x.example.go.id/cb"},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


# ------------------------------------------------------------------ errors at the redirect URI


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"scope": "profile email"}, "invalid_scope"),
        ({"scope": "openid unknown"}, "invalid_scope"),
        ({"scope": "openid phone"}, "invalid_scope"),  # not registered for the app
        ({"scope": "openid nik"}, "invalid_scope"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # defaults to plain (§4.3)
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"code_challenge": "x" * 129}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"prompt": "select_account"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "https://x.example/r"}, "request_uri_not_supported"),
        ({"registration": "{}"}, "registration_not_supported"),
        ({"purpose": "no-such-purpose"}, "invalid_request"),
        ({"nonce": "x" * 600}, "invalid_request"),
    ],
    ids=str,
)
def test_other_errors_go_to_the_redirect_uri_with_state_and_iss(
    world: OidcWorld, rp: RelyingApp, params: dict[str, Any], error: str
) -> None:
    world.login()
    answer = _redirect_error(world.authorize(rp, state="xyz-state", **params), rp)
    assert answer["error"] == error
    assert answer["state"] == "xyz-state"
    assert "code" not in answer


def test_a_repeated_parameter_is_invalid_request(world: OidcWorld, rp: RelyingApp) -> None:
    response = world.client.get(
        f"/authorize?client_id={rp.client_id}&redirect_uri={rp.redirect_uri}"
        "&response_type=code&scope=openid&scope=openid%20email&state=s1",
        follow_redirects=False,
    )
    answer = _redirect_error(response, rp)
    assert answer["error"] == "invalid_request" and answer["state"] == "s1"


def test_the_nik_scope_needs_a_purpose_covering_the_nik(world: OidcWorld) -> None:
    with_nik = world.register_app(
        name="Dukcapil", scope="openid profile nik", client_purposes=("population-admin:e",)
    )
    world.login()
    world.consent(with_nik)
    code, _ = world.code_for(with_nik, scope="openid nik")
    assert code
    without = world.register_app(
        name="Lain",
        scope="openid profile nik",
        client_purposes=("other:e",),
        purposes=False,
        redirect_uri="https://lain.example.go.id/cb",
    )
    answer = _redirect_error(world.authorize(without, scope="openid nik"), without)
    assert answer["error"] == "invalid_scope"


# ------------------------------------------------------------------ the decision


def test_without_a_session_the_browser_goes_to_the_login_page(
    world: OidcWorld, rp: RelyingApp
) -> None:
    response = world.authorize(rp)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(ISSUER + "/login?req=")
    assert response.headers["cache-control"] == "no-store"
    pending = world.app.state.services.authorization_requests.get(query_of(location)["req"])
    assert pending is not None and pending.client.client_id == rp.client_id
    assert {"name", "birthdate", "email"} <= set(pending.claims)
    assert "nik" not in pending.claims and "phone_number" not in pending.claims
    assert {p.code for p in pending.purposes} == {"bansos-eligibility", "newsletter"}
    assert pending.expires_at - pending.created_at == timedelta(minutes=10)


def test_login_then_consent_then_code(world: OidcWorld, rp: RelyingApp) -> None:
    first = world.authorize(rp, state="abc", login_hint="3171014101900003", ui_locales="id en")
    request_id = query_of(first.headers["location"])["req"]
    pending = world.app.state.services.authorization_requests.get(request_id)
    assert pending.login_hint == "3171014101900003" and pending.ui_locales == ("id", "en")
    world.login()
    to_consent = world.client.get(f"/authorize/resume?req={request_id}", follow_redirects=False)
    assert to_consent.status_code == 303
    assert to_consent.headers["location"] == f"{ISSUER}/consent?req={request_id}"
    asked = world.app.state.services.authorization_requests.purposes_to_ask(
        pending, world.citizen_id
    )
    assert {p.code for p in asked} == {"bansos-eligibility", "newsletter"}
    world.consent(rp, newsletter=False)  # one granted, one refused
    done = world.client.get(f"/authorize/resume?req={request_id}", follow_redirects=False)
    answer = _redirect_error(done, rp)
    assert answer["code"] and answer["state"] == "abc"
    assert world.app.state.services.authorization_requests.get(request_id) is None  # used up


def test_a_refused_purpose_does_not_loop_back_to_the_consent_screen(
    world: OidcWorld, rp: RelyingApp
) -> None:
    world.login()
    request_id = query_of(world.authorize(rp).headers["location"])["req"]
    world.consent(rp, bansos_eligibility=False, newsletter=False)
    done = world.client.get(f"/authorize/resume?req={request_id}", follow_redirects=False)
    assert "code" in query_of(done.headers["location"])


def test_with_session_and_consent_the_code_comes_at_once(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    answer = _redirect_error(world.authorize(rp, state="s"), rp)
    assert answer["code"] and answer["state"] == "s"


def test_prompt_none_answers_login_required_and_consent_required(
    world: OidcWorld, rp: RelyingApp
) -> None:
    answer = _redirect_error(world.authorize(rp, prompt="none", state="s"), rp)
    assert answer["error"] == "login_required" and answer["state"] == "s"
    world.login()
    answer = _redirect_error(world.authorize(rp, prompt="none"), rp)
    assert answer["error"] == "consent_required"
    world.consent(rp)
    assert "code" in _redirect_error(world.authorize(rp, prompt="none"), rp)


def test_prompt_login_asks_again_until_a_fresh_login(world: OidcWorld, rp: RelyingApp) -> None:
    world.login(auth_time=datetime.now(UTC) - timedelta(minutes=5))
    world.consent(rp)
    response = world.authorize(rp, prompt="login")
    assert response.headers["location"].startswith(ISSUER + "/login?req=")
    request_id = query_of(response.headers["location"])["req"]
    world.login()  # the login page logs the citizen in again
    done = world.client.get(f"/authorize/resume?req={request_id}", follow_redirects=False)
    assert "code" in query_of(done.headers["location"])


def test_max_age_asks_for_a_new_login_when_the_old_one_is_too_old(
    world: OidcWorld, rp: RelyingApp
) -> None:
    world.login(auth_time=datetime.now(UTC) - timedelta(hours=1))
    world.consent(rp)
    assert world.authorize(rp, max_age="600").headers["location"].startswith(ISSUER + "/login")
    assert "code" in query_of(world.authorize(rp, max_age="7200").headers["location"])


def test_prompt_consent_shows_the_consent_screen_even_with_grants(
    world: OidcWorld, rp: RelyingApp
) -> None:
    world.login()
    world.consent(rp)
    response = world.authorize(rp, prompt="consent")
    assert response.headers["location"].startswith(ISSUER + "/consent?req=")
    request_id = query_of(response.headers["location"])["req"]
    world.consent(rp)  # the citizen confirms
    done = world.client.get(f"/authorize/resume?req={request_id}", follow_redirects=False)
    assert "code" in query_of(done.headers["location"])


def test_denied_answers_access_denied_to_the_app(world: OidcWorld, rp: RelyingApp) -> None:
    request_id = query_of(world.authorize(rp, state="st").headers["location"])["req"]
    response = world.client.get(
        f"/authorize/resume?req={request_id}&denied=1", follow_redirects=False
    )
    answer = _redirect_error(response, rp)
    assert answer["error"] == "access_denied" and answer["state"] == "st"


@pytest.mark.parametrize("req", ["", "unknown", "A" * 43])
def test_an_unknown_request_is_not_resumed(world: OidcWorld, req: str) -> None:
    response = world.client.get(f"/authorize/resume?req={req}", follow_redirects=False)
    assert response.status_code == 400 and "location" not in response.headers


def test_post_authorize_takes_form_parameters(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    from identity.oidc.pkce import s256_challenge

    response = world.client.post(
        "/authorize",
        data={
            "response_type": "code",
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "scope": "openid",
            "code_challenge": s256_challenge("v" * 50),
            "code_challenge_method": "S256",
        },
        follow_redirects=False,
    )
    assert "code" in query_of(response.headers["location"])


def test_the_purpose_parameter_narrows_the_purposes(world: OidcWorld, rp: RelyingApp) -> None:
    response = world.authorize(rp, purpose="newsletter")
    pending = world.app.state.services.authorization_requests.get(
        query_of(response.headers["location"])["req"]
    )
    assert [p.code for p in pending.purposes] == ["newsletter"]


def test_an_expired_session_counts_as_none(world: OidcWorld, rp: RelyingApp) -> None:
    world.app.state.services.sessions.lifetime = timedelta(seconds=1)
    session = world.login()
    assert (
        world.app.state.services.sessions.get(world.client.cookies.get("jati_session")) == session
    )
    world.app.state.services.sessions.clock = lambda: datetime.now(UTC) + timedelta(seconds=5)
    assert world.authorize(rp).headers["location"].startswith(ISSUER + "/login")
