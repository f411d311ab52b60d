"""Sessions (issue 18 part 5): "Perangkat dan sesi" on the account page lists the citizen's
sessions with a short browser summary, ends one or all others (CSRF, audited, another
citizen's session untouched); a restricted session (a recovery-code sign-in) opens the
account page but no app: ``/authorize`` treats it as no session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from identity.citizens.access_log import TimelineEntry, citizen_timeline
from identity.http.pages.local_time import local_time
from identity.login.sessions import SESSION_COOKIE
from identity.oidc.tokens import ACR_PASSWORD
from tests.oidc_helpers import BUDI, PASSWORD, OidcWorld, RelyingApp, query_of
from tests.pages_helpers import csrf_of, enrol_totp, post_account
from tests.personal_data import SAMPLE

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Mobile Safari/537.36"
)


def _restricted_login(world: OidcWorld) -> None:
    cookie, _session = world.app.state.services.sessions.create(
        world.citizen_id, auth_time=datetime.now(UTC), amr=["pwd"], acr=ACR_PASSWORD,
        restricted=True,
    )  # fmt: skip
    world.client.cookies.set(SESSION_COOKIE, cookie)


# ------------------------------------------------------------------ restricted sessions


def test_a_restricted_session_gets_no_code_and_is_sent_to_log_in(
    world: OidcWorld, rp: RelyingApp
) -> None:
    world.consent(rp)
    _restricted_login(world)
    response = world.authorize(rp)
    assert response.status_code == 303
    location = response.headers["location"]
    assert urlsplit(location).path == "/login" and "code" not in query_of(location)
    none = world.authorize(rp, prompt="none")
    answer = query_of(none.headers["location"])
    assert none.headers["location"].startswith(rp.redirect_uri)
    assert answer["error"] == "login_required" and "code" not in answer


def test_a_restricted_session_resumes_nothing_and_opens_no_consent_screen(
    world: OidcWorld, rp: RelyingApp
) -> None:
    req = query_of(world.authorize(rp).headers["location"])["req"]  # no session yet
    _restricted_login(world)
    resumed = world.client.get(f"/authorize/resume?req={req}", follow_redirects=False)
    assert urlsplit(resumed.headers["location"]).path == "/login"
    consent = world.client.get(f"/consent?req={req}", follow_redirects=False)
    assert consent.status_code == 303 and urlsplit(consent.headers["location"]).path == "/login"


def test_a_restricted_session_cannot_step_up_with_a_code(world: OidcWorld, rp: RelyingApp) -> None:
    enrol_totp(world)
    req = query_of(world.authorize(rp).headers["location"])["req"]
    _restricted_login(world)
    page = world.client.get(f"/login/otp?req={req}", follow_redirects=False)
    assert page.status_code == 400 and 'name="code"' not in page.text


def test_a_restricted_session_opens_the_account_page(world: OidcWorld) -> None:
    _restricted_login(world)
    response = world.client.get("/account", follow_redirects=False)
    assert response.status_code == 200


# ------------------------------------------------------------------ devices and sessions


def _sign_in(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "nik": SAMPLE["nik"], "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/account"


@pytest.fixture
def phone(world: OidcWorld) -> Iterator[TestClient]:
    """A second browser of the same citizen (Chrome on Android); the world's client is
    Firefox on Windows. Both are signed in."""
    world.client.headers["user-agent"] = FIREFOX_WINDOWS
    _sign_in(world.client)
    client = TestClient(world.app, headers={"user-agent": CHROME_ANDROID})
    _sign_in(client)
    yield client
    client.close()


def _session_ids(html: str) -> list[str]:
    return re.findall(r'action="/account/sessions/([0-9a-f]{64})/end"', html)


def _section(html: str) -> str:
    return html[html.index('id="sessions"') : html.index('id="sign-out"')]


def _ended_entries(world: OidcWorld) -> list[TimelineEntry]:
    services = world.app.state.services
    services.audit_log.sequence()
    entries, _ = citizen_timeline(services.audit_log, services.pseudonymizer, world.citizen_id)
    return [e for e in entries if e.action == "erase" and e.data_items == ("sessions",)]


def test_the_list_shows_both_browsers_and_marks_this_device(
    world: OidcWorld, phone: TestClient
) -> None:
    section = _section(world.client.get("/account").text)
    assert "Perangkat dan sesi" in section
    assert "Firefox di Windows" in section and "Chrome di Android" in section
    assert section.count("· perangkat ini") == 1
    this_card = section[section.index("Firefox di Windows") :]
    assert "· perangkat ini" in this_card[: this_card.index("</h3>")]
    assert len(_session_ids(section)) == 1  # only the other one has a button
    assert "Keluarkan semua perangkat lain" in section
    assert FIREFOX_WINDOWS not in section and "128.0" not in section  # never the header
    english = _section(phone.get("/account?lang=en").text)
    assert "Devices and sessions" in english and "Chrome on Android" in english
    assert english.count("· this device") == 1 and "Firefox on Windows" in english
    stored = world.app.state.services.sessions.list_for(world.citizen_id)
    # times in Jakarta's zone, in each language's style (issue 19), never UTC
    started = max(s.created_at for s in stored)
    assert local_time(started, "id") in section and local_time(started, "en") in english
    assert re.search(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}\.\d{2} WIB\b", section)
    assert "UTC" not in section and "UTC" not in english
    assert {(s.browser, s.system) for s in stored} == {
        ("Firefox", "Windows"),
        ("Chrome", "Android"),
    }


def test_ending_the_other_session_signs_that_browser_out(
    world: OidcWorld, phone: TestClient
) -> None:
    (other,) = _session_ids(world.client.get("/account").text)
    response = post_account(world, f"/account/sessions/{other}/end")
    assert response.status_code == 303
    assert response.headers["location"] == "/account?done=session-ended#sessions"
    page = world.client.get(response.headers["location"])
    assert "Sesi itu telah diakhiri." in page.text and "Chrome di Android" not in page.text
    after = phone.get("/account", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"] == "/login"
    assert world.client.get("/account").status_code == 200  # this one stays
    (entry,) = _ended_entries(world)
    assert entry.actor_kind == "citizen" and entry.purpose == "account-security"
    again = post_account(world, f"/account/sessions/{other}/end")
    assert again.status_code == 404 and len(_ended_entries(world)) == 1


def test_end_others_keeps_only_this_browser(world: OidcWorld, phone: TestClient) -> None:
    third = TestClient(world.app, headers={"user-agent": "curl/8.5.0"})
    _sign_in(third)
    assert "Peramban tidak dikenal" in _section(third.get("/account").text)
    response = post_account(world, "/account/sessions/end-others")
    assert response.status_code == 303
    assert response.headers["location"] == "/account?done=sessions-ended#sessions"
    for gone in (phone, third):
        assert gone.get("/account", follow_redirects=False).status_code == 303
    (kept,) = world.app.state.services.sessions.list_for(world.citizen_id)
    section = _section(world.client.get("/account").text)
    assert _session_ids(section) == [] and "Keluarkan semua perangkat lain" not in section
    assert kept.browser == "Firefox" and len(_ended_entries(world)) == 1
    third.close()


def test_the_current_session_is_not_ended_from_the_list(world: OidcWorld) -> None:
    world.client.headers["user-agent"] = FIREFOX_WINDOWS
    _sign_in(world.client)
    (current,) = world.app.state.services.sessions.list_for(world.citizen_id)
    response = post_account(world, f"/account/sessions/{current.id}/end")
    assert response.status_code == 400
    assert "gunakan tombol Keluar" in _section(response.text)
    assert world.client.get("/account").status_code == 200 and _ended_entries(world) == []


def test_another_citizens_session_is_left_alone(world: OidcWorld, phone: TestClient) -> None:
    budi_id = world.register_citizen(BUDI)
    budi = TestClient(world.app)
    cookie, budi_session = world.app.state.services.sessions.create(
        budi_id, auth_time=datetime.now(UTC), amr=["pwd"], acr=ACR_PASSWORD
    )
    budi.cookies.set(SESSION_COOKIE, cookie)
    response = post_account(world, f"/account/sessions/{budi_session.id}/end")
    assert response.status_code == 404
    assert budi.get("/account", follow_redirects=False).status_code == 200
    post_account(world, "/account/sessions/end-others")
    assert budi.get("/account", follow_redirects=False).status_code == 200
    assert post_account(world, "/account/sessions/not-an-id/end").status_code == 404
    budi.close()


def test_without_the_csrf_token_nothing_ends(world: OidcWorld, phone: TestClient) -> None:
    (other,) = _session_ids(world.client.get("/account").text)
    for path in (f"/account/sessions/{other}/end", "/account/sessions/end-others"):
        for data in ({}, {"csrf_token": "forged"}):
            response = world.client.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, response.text
    assert phone.get("/account", follow_redirects=False).status_code == 200
    assert len(world.app.state.services.sessions.list_for(world.citizen_id)) == 2
    assert _ended_entries(world) == []


def test_without_a_session_the_forms_go_to_login(world: OidcWorld) -> None:
    token = csrf_of(world.client.get("/login").text)
    response = world.client.post(
        "/account/sessions/end-others", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
