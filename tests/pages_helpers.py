"""Helpers for the page tests: drive the HTML forms as a browser would, with TestClient."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from tests.oidc_helpers import PASSWORD, OidcWorld, RelyingApp, query_of
from tests.personal_data import SAMPLE

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_NOTICE_HASH = re.compile(r'name="notice_hash" value="([^"]+)"')
_SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def notice_hash_of(html: str) -> str:
    found = _NOTICE_HASH.search(html)
    assert found is not None, "the page has no notice hash"
    return found.group(1)


def secret_of(html: str) -> bytes:
    import base64

    found = _SECRET.search(html)
    assert found is not None, "the page shows no secret"
    text = found.group(1).replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def totp_code(secret: bytes, at: float | None = None) -> str:
    """The code an authenticator app shows now (or at ``at``)."""
    value = TOTP(secret, 6, SHA1(), 30).generate(int(at if at is not None else time.time()))
    return value.decode()


def steady_totp(seconds: float = 5.0) -> None:
    """Wait out the last ``seconds`` of a 30-second TOTP step, so that codes made next are
    checked in the step they were made for (the app's clock is this machine's)."""
    left = 30 - time.time() % 30
    if left < seconds:
        time.sleep(left + 0.1)


def now_of(world: OidcWorld) -> float:
    """The app's time (its session clock), as a POSIX timestamp."""
    return float(world.app.state.services.sessions.clock().timestamp())


def enrol_totp(world: OidcWorld) -> bytes:
    """Enrol the world's citizen in TOTP (confirmed with the previous period's code, so the
    current one is still unused); returns the secret."""
    import base64

    factor = world.app.state.services.second_factor
    enrolment = factor.begin_enrolment(world.citizen_id)
    secret = base64.b32decode(enrolment.secret_base32)
    factor.confirm_enrolment(world.citizen_id, totp_code(secret, now_of(world) - 30))
    return secret


def path_of(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def begin(world: OidcWorld, rp: RelyingApp, **params: Any) -> str:
    """Start an authorization without a session: the request id the login page gets."""
    response = world.authorize(rp, **params)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert urlsplit(location).path == "/login", location
    return query_of(location)["req"]


def submit_login(
    world: OidcWorld,
    req: str | None = None,
    *,
    nik: str = SAMPLE["nik"],
    password: str = PASSWORD,
    lang: str | None = None,
) -> Any:
    """GET the login page, then POST its form."""
    path = f"/login?req={req}" if req else "/login"
    page = world.client.get(path + (f"&lang={lang}" if lang and req else ""))
    assert page.status_code == 200, page.text
    return world.client.post(
        path,
        data={"csrf_token": csrf_of(page.text), "nik": nik, "password": password},
        follow_redirects=False,
    )


def follow(world: OidcWorld, response: Any) -> Any:
    """Follow one 303 within Jati."""
    assert response.status_code == 303, response.text
    return world.client.get(path_of(response.headers["location"]), follow_redirects=False)


def consent_page(world: OidcWorld, req: str, lang: str | None = None) -> Any:
    page = world.client.get(f"/consent?req={req}" + (f"&lang={lang}" if lang else ""))
    assert page.status_code == 200, page.text
    return page


def submit_consent(world: OidcWorld, req: str, choices: dict[str, str], **extra: str) -> Any:
    page = consent_page(world, req)
    form = {
        "csrf_token": csrf_of(page.text),
        "notice_hash": notice_hash_of(page.text),
        **{f"choice-{code}": value for code, value in choices.items()},
        **extra,
    }
    return world.client.post(f"/consent?req={req}", data=form, follow_redirects=False)


def account_csrf(world: OidcWorld) -> str:
    page = world.client.get("/account")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def post_account(world: OidcWorld, path: str, **fields: str) -> Any:
    """POST an account page's form to ``path`` with the page's CSRF token."""
    return world.client.post(
        path, data={"csrf_token": account_csrf(world), **fields}, follow_redirects=False
    )
