"""Sign-out by a cross-site link (issue 17, defect 8; OpenID Connect RP-Initiated Logout 1.0
§2): ``/end_session`` without an ``id_token_hint`` of the session's citizen ends nothing;
the citizen confirms on a CSRF-protected page, or cancels and stays signed in. With the
app's own hint of this citizen, the logout runs at once, as before."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from identity.http.pages.login import PENDING_LOGIN_COOKIE
from identity.login.sessions import SESSION_COOKIE
from tests.oidc_helpers import BUDI, OidcWorld, RelyingApp
from tests.pages_helpers import csrf_of, path_of

CONFIRM = "/end_session/confirm"


def _alive(world: OidcWorld, cookie: str | None) -> bool:
    return world.app.state.services.sessions.get(cookie) is not None


def _signed_in(world: OidcWorld) -> str | None:
    """Sign the sample citizen in; returns the session cookie."""
    world.login()
    return world.client.cookies.get(SESSION_COOKIE)


def _confirmation(world: OidcWorld, params: dict[str, str] | None = None) -> Any:
    """GET /end_session as a link of another site would, then the page it leads to."""
    response = world.client.get("/end_session", params=params or {}, follow_redirects=False)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert urlsplit(location).path == CONFIRM, location
    page = world.client.get(path_of(location), follow_redirects=False)
    assert page.status_code == 200, page.text
    return page


def _action(page: Any) -> str:
    found = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert found is not None
    return found.group(1).replace("&amp;", "&")


def _submit(world: OidcWorld, page: Any, action: str) -> Any:
    """POST the confirmation's form with its CSRF token: ``confirm`` or ``cancel``."""
    return world.client.post(
        _action(page),
        data={"csrf_token": csrf_of(page.text), "action": action},
        follow_redirects=False,
    )


def test_a_cross_site_link_shows_the_confirmation_and_ends_nothing(world: OidcWorld) -> None:
    cookie = _signed_in(world)
    page = _confirmation(world)
    assert _alive(world, cookie)
    assert "jati_session" not in page.headers.get("set-cookie", "")
    # the pages' rules: Bahasa Indonesia first, the English switch, CSP, no-store, a CSRF field
    assert '<html lang="id">' in page.text and "<h1>Keluar dari Jati?</h1>" in page.text
    assert "Ya, keluar" in page.text and "Batal, tetap masuk" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "form-action 'self';" in page.headers["content-security-policy"]
    assert "<script" not in page.text
    csrf_of(page.text)
    english = world.client.get(f"{CONFIRM}?lang=en")
    assert '<html lang="en">' in english.text and "Sign out of Jati?" in english.text
    assert "Yes, sign out" in english.text
    assert _alive(world, cookie)


def test_its_post_without_the_csrf_token_is_403_and_ends_nothing(world: OidcWorld) -> None:
    cookie = _signed_in(world)
    page = _confirmation(world)
    for data in ({"action": "confirm"}, {"action": "confirm", "csrf_token": "A" * 43}):
        response = world.client.post(_action(page), data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "Tidak ada yang diubah" in response.text
    assert _alive(world, cookie)


def test_its_post_with_the_csrf_token_ends_the_session(world: OidcWorld) -> None:
    cookie = _signed_in(world)
    page = _confirmation(world)
    response = _submit(world, page, "confirm")
    assert response.status_code == 200 and "Anda telah keluar" in response.text
    assert not _alive(world, cookie)
    cleared = response.headers.get_list("set-cookie")
    assert any(c.startswith('jati_session=""') for c in cleared)
    assert any(c.startswith(f'{PENDING_LOGIN_COOKIE}=""') for c in cleared)


def test_cancel_keeps_the_session(world: OidcWorld) -> None:
    cookie = _signed_in(world)
    page = _confirmation(world)
    response = _submit(world, page, "cancel")
    assert response.status_code == 303 and response.headers["location"] == "/account"
    assert _alive(world, cookie)
    assert world.client.get("/account").status_code == 200


def test_a_client_id_alone_asks_too_and_the_app_gets_its_state_back(
    world: OidcWorld, rp: RelyingApp
) -> None:
    cookie = _signed_in(world)
    page = _confirmation(
        world,
        {"client_id": rp.client_id, "post_logout_redirect_uri": rp.redirect_uri, "state": "bye"},
    )
    assert "Dinas Sosial meminta Anda keluar dari Jati" in page.text
    # the form may end at the app's registered URI (Chromium checks form redirects), only there
    assert (
        "form-action 'self' https://dinsos.example.go.id;"
        in page.headers["content-security-policy"]
    )
    assert _alive(world, cookie)
    response = _submit(world, page, "confirm")
    assert response.status_code == 303
    assert response.headers["location"] == rp.redirect_uri + "?state=bye"
    assert not _alive(world, cookie)


def test_the_confirmation_checks_its_parameters_again(world: OidcWorld, rp: RelyingApp) -> None:
    cookie = _signed_in(world)
    token = csrf_of(world.client.get("/account").text)
    forged = {"client_id": rp.client_id, "post_logout_redirect_uri": "https://evil.example/"}
    page = world.client.get(CONFIRM, params=forged)
    assert page.status_code == 400 and "location" not in page.headers
    response = world.client.post(
        CONFIRM, params=forged, data={"csrf_token": token, "action": "confirm"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 400 and "location" not in response.headers
    assert _alive(world, cookie)


def test_a_hint_of_another_citizen_asks_first(world: OidcWorld, rp: RelyingApp) -> None:
    budi = world.register_citizen(BUDI)
    world.login(budi)
    world.consent(rp, budi)
    hint = world.tokens(rp)["id_token"]  # Budi's ID token
    world.login()  # Siti signs in on this browser
    cookie = world.client.cookies.get(SESSION_COOKIE)
    page = _confirmation(
        world, {"id_token_hint": hint, "post_logout_redirect_uri": rp.redirect_uri}
    )
    assert _alive(world, cookie)
    action = _action(page)
    assert "id_token_hint" not in action  # the hint is never put in a page
    assert parse_qs(urlsplit(action).query)["client_id"] == [rp.client_id]


def test_a_hint_of_this_citizen_signs_out_at_once(world: OidcWorld, rp: RelyingApp) -> None:
    world.login()
    world.consent(rp)
    hint = world.tokens(rp)["id_token"]
    cookie = world.client.cookies.get(SESSION_COOKIE)
    response = world.client.get(
        "/end_session",
        params={"id_token_hint": hint, "post_logout_redirect_uri": rp.redirect_uri, "state": "s"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == rp.redirect_uri + "?state=s"
    assert not _alive(world, cookie)


def test_without_a_session_there_is_nothing_to_confirm(world: OidcWorld, rp: RelyingApp) -> None:
    params = {"client_id": rp.client_id, "post_logout_redirect_uri": rp.redirect_uri}
    response = world.client.get("/end_session", params=params, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == rp.redirect_uri
    page = world.client.get(CONFIRM, params=params, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == rp.redirect_uri
    signed_out = world.client.get(CONFIRM)
    assert signed_out.status_code == 200 and "Anda telah keluar" in signed_out.text
