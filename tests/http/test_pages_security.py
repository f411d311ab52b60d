"""The pages' protections: security headers on every answer (CSP with one script, no
framing, no referrer, no-store), CSRF on every form POST (refused, 403, nothing changed),
cookie attributes, the JSON login API left as it was, no personal data in logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.http.pages.csrf import CSRF_COOKIE
from identity.login.sessions import SESSION_COOKIE
from identity.service.settings import Settings
from identity.service.web.security_headers import (
    PAGE_CSP,
    PROOF_SCRIPT_INTEGRITY,
    WEBAUTHN_SCRIPT_INTEGRITY,
)
from identity.storage.database import Database
from tests.oidc_helpers import PASSWORD, OidcWorld, RelyingApp, oidc_world
from tests.pages_helpers import (
    account_csrf,
    begin,
    consent_page,
    csrf_of,
    follow,
    notice_hash_of,
    submit_consent,
    submit_login,
)
from tests.personal_data import SAMPLE, SEEDED

_WEBAUTHN_TAG = (
    f'<script src="/static/webauthn.js" integrity="{WEBAUTHN_SCRIPT_INTEGRITY}" defer></script>'
)


def _set_cookies(response: Any) -> list[str]:
    return response.headers.get_list("set-cookie")


def _cookie(response: Any, name: str) -> str:
    found = [c for c in _set_cookies(response) if c.startswith(name + "=")]
    assert len(found) == 1, _set_cookies(response)
    return found[0]


def _assert_page_headers(response: Any) -> None:
    headers = response.headers
    assert headers["content-type"].startswith("text/html")
    csp = headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert "form-action 'self'" in csp
    script_src = [d.strip() for d in csp.split(";") if d.strip().startswith("script-src")]
    assert script_src == [  # the passkey script and the console's proof checker, by hash only
        f"script-src '{WEBAUTHN_SCRIPT_INTEGRITY}' '{PROOF_SCRIPT_INTEGRITY}'"
    ]
    assert "unsafe-inline" not in csp
    assert headers.get_list("x-content-type-options") == ["nosniff"]
    assert headers.get_list("referrer-policy") == ["no-referrer"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    scriptless = response.text.replace(_WEBAUTHN_TAG, "")  # on the pages with a passkey form
    assert "<script" not in scriptless and " style=" not in response.text


def test_every_page_carries_the_security_headers(world: OidcWorld, rp: RelyingApp) -> None:
    req = begin(world, rp)
    pages = [world.client.get(f"/login?req={req}"), world.client.get("/login")]
    follow(world, submit_login(world, req))  # session, then the resume
    pages.append(consent_page(world, req))
    pages.append(world.client.get("/account"))
    notice = world.ledger.current_notice(rp.client_id)
    assert notice is not None
    pages.append(world.client.get(f"/notices/{rp.client_id}/{notice.version}"))
    pages.append(world.client.post("/account/requests", data={}))  # the CSRF refusal page
    pages.append(world.client.get("/"))  # the front page
    pages.append(world.client.get("/end_session/confirm"))  # the logout confirmation
    for page in pages:
        _assert_page_headers(page)
    # the pages tied to a sign-in request may end at the app's redirect URI, and only there
    assert pages[0].headers["content-security-policy"].count("https://") == 1
    assert (
        "form-action 'self' https://dinsos.example.go.id;"
        in (pages[0].headers["content-security-policy"])
    )
    assert pages[1].headers["content-security-policy"] == PAGE_CSP


def test_api_answers_get_sane_headers_too(world: OidcWorld) -> None:
    for response in (world.client.get("/healthz"), world.client.get("/no-such-route")):
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]
        assert response.headers.get_list("referrer-policy") == ["no-referrer"]
        assert response.headers["x-frame-options"] == "DENY"
    docs = world.client.get("/docs")  # Swagger UI keeps its scripts, never framed
    assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"
    css = world.client.get("/static/jati.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_csrf_cookie_and_session_cookie_attributes(world: OidcWorld, rp: RelyingApp) -> None:
    req = begin(world, rp)
    page = world.client.get(f"/login?req={req}")
    csrf = _cookie(page, CSRF_COOKIE).lower()
    assert "httponly" in csrf and "samesite=strict" in csrf and "path=/" in csrf
    assert "secure" not in csrf  # http issuer
    response = submit_login(world, req)
    session = _cookie(response, SESSION_COOKIE).lower()
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session


def test_cookies_are_secure_under_https(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    settings = make_settings(issuer="https://id.example.go.id")
    with oidc_world(settings, database) as world:
        world.client.base_url = world.client.base_url.copy_with(scheme="https")
        rp = world.register_app()
        req = begin(world, rp)
        page = world.client.get(f"/login?req={req}")
        assert "secure" in _cookie(page, CSRF_COOKIE).lower()
        response = world.client.post(
            f"/login?req={req}",
            data={"csrf_token": csrf_of(page.text), "nik": SAMPLE["nik"], "password": PASSWORD},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        assert "secure" in _cookie(response, SESSION_COOKIE).lower()
        assert response.headers["strict-transport-security"].startswith("max-age=")


def _forms(world: OidcWorld, rp: RelyingApp) -> dict[str, dict[str, str]]:
    """Every page form, with the fields it posts except the CSRF token."""
    req = begin(world, rp)
    follow(world, submit_login(world, req))
    page = consent_page(world, req)
    grants = world.consent(rp)
    return {
        f"/login?req={req}": {"nik": SAMPLE["nik"], "password": PASSWORD},
        "/login/otp": {"code": "123456"},
        f"/consent?req={req}": {
            "notice_hash": notice_hash_of(page.text),
            "choice-bansos-eligibility": "yes",
            "choice-newsletter": "no",
        },
        f"/account/consents/{grants[0].grant_id}/withdraw": {},
        "/account/requests": {"kind": "restriction"},
        "/account/totp/enrol": {},
        "/account/totp/confirm": {"code": "123456"},
        "/account/totp/disable": {"code": "123456"},
        "/logout": {},
        f"/end_session/confirm?client_id={rp.client_id}": {"action": "confirm"},
    }


@pytest.mark.parametrize("token", ["missing", "wrong", "other-browser", "no-cookie"])
def test_every_form_refuses_a_post_without_its_csrf_token(
    world: OidcWorld, rp: RelyingApp, token: str
) -> None:
    forms = _forms(world, rp)
    valid = account_csrf(world)
    other = TestClient(world.app)
    other_token = csrf_of(other.get("/login").text)  # valid, but for another browser
    grants_before = world.ledger.grants_of(world.citizen_id)
    requests_before = world.app.state.services.subject_requests.requests_of(world.citizen_id)
    session_cookie = world.client.cookies.get(SESSION_COOKIE)
    for path, fields in forms.items():
        data = dict(fields)
        if token == "wrong":
            data["csrf_token"] = valid[:-2] + ("AA" if not valid.endswith("AA") else "BB")
        elif token == "other-browser":
            data["csrf_token"] = other_token
        elif token == "no-cookie":
            data["csrf_token"] = valid
        client = world.client
        if token == "no-cookie":  # the right token, from a browser without the cookie
            client = TestClient(world.app, cookies={SESSION_COOKIE: session_cookie or ""})
        response = client.post(path, data=data, follow_redirects=False)
        assert response.status_code == 403, (path, response.status_code, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert "Formulir tidak dapat diproses" in response.text
        assert "Tidak ada yang diubah" in response.text
        # the links on the refusal page (language switch, open again) lead to pages
        for link in re.findall(r'<a href="(/[^"]*)"', response.text):
            target = client.get(link.replace("&amp;", "&"), follow_redirects=False)
            assert target.status_code in (200, 303, 400), (path, link, target.status_code)
            client.cookies.delete("lang")  # the switch link remembers English: forget it
    # nothing changed: no consent recorded or withdrawn, no request, still signed in
    assert world.ledger.grants_of(world.citizen_id) == grants_before
    assert (
        world.app.state.services.subject_requests.requests_of(world.citizen_id) == requests_before
    )
    assert world.client.cookies.get(SESSION_COOKIE) == session_cookie
    assert world.app.state.services.sessions.get(session_cookie) is not None
    assert not world.app.state.services.second_factor.is_enabled(world.citizen_id)


def test_a_json_body_to_the_consent_form_is_refused(world: OidcWorld, rp: RelyingApp) -> None:
    req = begin(world, rp)
    follow(world, submit_login(world, req))
    response = world.client.post(f"/consent?req={req}", json={"choice-newsletter": "yes"})
    assert response.status_code == 403
    assert world.ledger.grants_of(world.citizen_id) == []


def test_the_json_login_api_still_answers_json(world: OidcWorld) -> None:
    response = world.client.post("/login", json={"nik": SAMPLE["nik"], "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["authenticated"] is True
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    wrong = world.client.post("/login", json={"nik": SAMPLE["nik"], "password": "salah sekali"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")


def test_no_personal_data_reaches_the_logs(
    world: OidcWorld, rp: RelyingApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    req = begin(world, rp)
    submit_login(world, req, password="kata sandi keliru")  # a failure
    submit_login(world, req, nik="3171019999990001")  # an unknown NIK
    follow(world, submit_login(world, req))
    submit_consent(world, req, {"bansos-eligibility": "yes"})  # a missing choice
    submit_consent(world, req, {"bansos-eligibility": "yes", "newsletter": "no"})
    world.client.get("/account")
    token = account_csrf(world)
    world.client.post(
        "/account/requests",
        data={"csrf_token": token, "kind": "correction", "field-email": "baru.siti@contoh.go.id"},
    )
    text = caplog.text
    for value in (*SEEDED, PASSWORD, "kata sandi keliru", "3171019999990001", "baru.siti"):
        assert value not in text
    assert SAMPLE["nik"] not in text and SAMPLE["name"] not in text
