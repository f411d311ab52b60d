"""The login page (OIDC Core §3.1.2.3): labelled fields; one answer for an unknown NIK and a
wrong password; throttling as a 429 page with Retry-After; a new session at every login
(session fixation); the TOTP second step (RFC 6238) with amr/acr; language switch."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlsplit

import pytest

from identity.http.login import MAX_NIK_CHARS
from identity.http.pages.login import PENDING_LOGIN_COOKIE
from identity.login.sessions import SESSION_COOKIE
from identity.oidc.tokens import ACR_MULTI_FACTOR, ACR_PASSWORD
from tests.oidc_helpers import PASSWORD, OidcWorld, RelyingApp, query_of
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

UNKNOWN_NIK = "3171010101900009"


def _labels(html: str) -> dict[str, str]:
    return dict(re.findall(r'<label for="([^"]+)">([^<]+)</label>', html))


def test_the_login_page_names_the_app_and_labels_every_field(
    world: OidcWorld, rp: RelyingApp
) -> None:
    req = begin(world, rp)
    page = world.client.get(f"/login?req={req}")
    assert page.status_code == 200
    assert '<html lang="id">' in page.text
    assert "Dinas Sosial meminta Anda masuk" in page.text
    inputs = set(re.findall(r'<input id="([^"]+)"', page.text))
    assert inputs == {"nik", "password"}
    assert set(_labels(page.text)) == inputs
    assert 'type="password"' in page.text and 'autocomplete="current-password"' in page.text


def test_a_successful_login_starts_a_session_and_resumes_the_request(
    world: OidcWorld, rp: RelyingApp
) -> None:
    req = begin(world, rp)
    response = submit_login(world, req)
    assert response.status_code == 303
    assert response.headers["location"] == f"http://testserver/authorize/resume?req={req}"
    cookie = world.client.cookies.get(SESSION_COOKIE)
    session = world.app.state.services.sessions.get(cookie)
    assert session is not None and session.citizen_id == world.citizen_id
    assert session.amr == ("pwd",) and session.acr == ACR_PASSWORD
    # the resume goes on to the consent screen (the app's purposes need consent)
    assert urlsplit(follow(world, response).headers["location"]).path == "/consent"


def test_a_login_without_a_request_goes_to_the_account(world: OidcWorld) -> None:
    response = submit_login(world)
    assert response.status_code == 303 and response.headers["location"] == "/account"
    assert world.client.get("/account").status_code == 200
    assert world.client.get("/login", follow_redirects=False).headers["location"] == "/account"


def test_every_login_gets_a_new_session_and_ends_the_old_one(
    world: OidcWorld, rp: RelyingApp
) -> None:
    planted = world.login()  # a session the browser already holds (or one planted on it)
    old_cookie = world.client.cookies.get(SESSION_COOKIE)
    req = begin(world, rp, prompt="login")
    response = submit_login(world, req)
    set_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    new_cookie = set_cookie.split(";", 1)[0].split("=", 1)[1]
    assert response.status_code == 303
    assert new_cookie and new_cookie != old_cookie
    assert world.app.state.services.sessions.get(old_cookie) is None
    assert world.app.state.services.sessions.get(new_cookie).id != planted.id


@pytest.mark.parametrize("nik", [SAMPLE["nik"], UNKNOWN_NIK])
def test_unknown_nik_and_wrong_password_get_the_same_page(
    world: OidcWorld, rp: RelyingApp, nik: str
) -> None:
    req = begin(world, rp)
    password = "kata sandi yang salah" if nik == SAMPLE["nik"] else PASSWORD
    response = submit_login(world, req, nik=nik, password=password)
    assert response.status_code == 400
    assert "NIK atau kata sandi salah." in response.text
    # the NIK stays in its field, as typed, to correct; the password is never echoed
    assert f'value="{nik}"' in response.text and response.text.count(nik) == 1
    assert password not in response.text
    assert "<title>Kesalahan: Masuk ke Jati · Jati</title>" in response.text
    assert world.client.cookies.get(SESSION_COOKIE) is None
    body = response.text.replace(csrf_of(response.text), "").replace(nik, "NIK")
    # the same page for both causes (the CSRF token and the typed NIK aside)
    other_nik = UNKNOWN_NIK if nik == SAMPLE["nik"] else SAMPLE["nik"]
    other = submit_login(world, req, nik=other_nik, password="kata sandi yang salah")
    assert other.text.replace(csrf_of(other.text), "").replace(other_nik, "NIK") == body


@pytest.mark.parametrize(
    "fields",
    [{"nik": "", "password": PASSWORD}, {"nik": SAMPLE["nik"]}, {"nik": "3" * 40, "password": "x"}],
    ids=["empty-nik", "no-password", "too-long"],
)
def test_a_malformed_login_is_a_clear_400(
    world: OidcWorld, rp: RelyingApp, fields: dict[str, str]
) -> None:
    req = begin(world, rp)
    page = world.client.get(f"/login?req={req}")
    response = world.client.post(
        f"/login?req={req}", data={"csrf_token": csrf_of(page.text), **fields}
    )
    assert response.status_code == 400
    assert "Isi NIK dan kata sandi Anda." in response.text
    assert world.client.cookies.get(SESSION_COOKIE) is None
    typed = fields.get("nik", "")
    kept = typed if len(typed) <= MAX_NIK_CHARS else ""
    field = re.search(r'<input id="nik"[^>]*value="([^"]*)"', response.text)
    assert field is not None and field.group(1) == kept


def test_an_unknown_request_id_is_a_clear_400(world: OidcWorld) -> None:
    for req in ("A" * 43, "not-a-request-id"):
        page = world.client.get(f"/login?req={req}")
        assert page.status_code == 400
        assert "Permintaan masuk tidak dikenal" in page.text


def test_too_many_failures_answer_a_429_page_with_retry_after(
    world: OidcWorld, rp: RelyingApp
) -> None:
    req = begin(world, rp)
    for _ in range(5):
        assert submit_login(world, req, password="salah salah salah").status_code == 400
    response = submit_login(world, req)  # even the right password waits
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Terlalu banyak percobaan" in response.text
    assert f"{response.headers['retry-after']} detik" in response.text
    assert world.client.cookies.get(SESSION_COOKIE) is None


def test_english_by_switch_link_cookie_and_ui_locales(world: OidcWorld, rp: RelyingApp) -> None:
    req = begin(world, rp)
    page = world.client.get(f"/login?req={req}")
    switch = re.search(r'<a href="([^"]+)" hreflang="en">', page.text)
    assert switch is not None and "lang=en" in switch.group(1)
    english = world.client.get(switch.group(1).replace("&amp;", "&"))
    assert '<html lang="en">' in english.text and "Sign in to Jati" in english.text
    assert "lang=en" in english.headers["set-cookie"]
    # the cookie keeps English on the next page, and a wrong password is answered in English
    response = submit_login(world, req, password="not the password")
    assert "The NIK or the password is wrong." in response.text
    world.client.cookies.delete("lang")
    req_en = begin(world, rp, ui_locales="en-US id")
    assert "Sign in to Jati" in world.client.get(f"/login?req={req_en}").text
    req_id = begin(world, rp)
    assert "Masuk ke Jati" in world.client.get(f"/login?req={req_id}").text


def test_a_nik_login_hint_fills_the_field(world: OidcWorld, rp: RelyingApp) -> None:
    req = begin(world, rp, login_hint=SAMPLE["nik"])
    assert f'value="{SAMPLE["nik"]}"' in world.client.get(f"/login?req={req}").text
    req = begin(world, rp, login_hint='"><b>x')
    page = world.client.get(f"/login?req={req}")
    assert "<b>x" not in page.text and 'id="nik" name="nik"' in page.text


# ---------------------------------------------------------------- second factor


def test_an_enrolled_citizen_needs_a_code_before_any_session(
    world: OidcWorld, rp: RelyingApp
) -> None:
    secret = enrol_totp(world)
    req = begin(world, rp)
    response = submit_login(world, req)
    assert response.status_code == 303
    assert path_of(response.headers["location"]) == f"/login/otp?req={req}"
    assert world.client.cookies.get(SESSION_COOKIE) is None  # the password alone: no session
    pending = [c for c in response.headers.get_list("set-cookie") if c.startswith("jati_login=")]
    assert len(pending) == 1 and "Path=/login" in pending[0] and "HttpOnly" in pending[0]
    assert world.citizen_id not in pending[0]  # sealed, not readable
    page = world.client.get(f"/login/otp?req={req}")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
    token = csrf_of(page.text)
    wrong = world.client.post(f"/login/otp?req={req}", data={"csrf_token": token, "code": "12345x"})
    assert wrong.status_code == 400 and "Kode salah" in wrong.text
    assert world.client.cookies.get(SESSION_COOKIE) is None
    code = totp_code(secret, now_of(world))
    done = world.client.post(
        f"/login/otp?req={req}", data={"csrf_token": token, "code": code}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"http://testserver/authorize/resume?req={req}"
    session = world.app.state.services.sessions.get(world.client.cookies.get(SESSION_COOKIE))
    assert session is not None and session.citizen_id == world.citizen_id
    assert session.amr == ("pwd", "otp") and session.acr == ACR_MULTI_FACTOR
    assert world.client.cookies.get(PENDING_LOGIN_COOKIE) is None  # used up
    # the ID token says so too (OIDC Core §2: amr, acr)
    follow(world, done)  # consent screen next; grant it, then the code
    world.consent(rp)
    code_redirect = world.client.get(f"/authorize/resume?req={req}", follow_redirects=False)
    answer = query_of(code_redirect.headers["location"])
    tokens = world.exchange(rp, answer["code"], world.last_verifier)
    assert tokens.status_code == 200, tokens.text
    payload = tokens.json()["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["amr"] == ["pwd", "otp"] and claims["acr"] == ACR_MULTI_FACTOR


def test_a_used_code_is_refused_at_the_next_login(world: OidcWorld) -> None:
    secret = enrol_totp(world)
    code = totp_code(secret, now_of(world))
    for expected in (303, 400):
        world.client.cookies.clear()
        response = submit_login(world)
        assert path_of(response.headers["location"]) == "/login/otp"
        page = world.client.get("/login/otp")
        answer = world.client.post(
            "/login/otp", data={"csrf_token": csrf_of(page.text), "code": code},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == expected


def test_a_tampered_or_missing_pending_login_is_refused(world: OidcWorld) -> None:
    enrol_totp(world)
    submit_login(world)
    value = world.client.cookies.get(PENDING_LOGIN_COOKIE)
    assert value
    world.client.cookies.delete(PENDING_LOGIN_COOKIE)
    world.client.cookies.set(PENDING_LOGIN_COOKIE, value[:-4] + "AAAA", path="/login")
    page = world.client.get("/login/otp")
    assert page.status_code == 400 and "Waktu untuk memasukkan kode telah habis" in page.text
    token = csrf_of(world.client.get("/login").text)
    answer = world.client.post("/login/otp", data={"csrf_token": token, "code": "123456"})
    assert answer.status_code == 400
    assert world.client.cookies.get(SESSION_COOKIE) is None


def test_code_guessing_is_throttled_with_a_429_page(world: OidcWorld) -> None:
    secret = enrol_totp(world)
    submit_login(world)
    page = world.client.get("/login/otp")
    token = csrf_of(page.text)
    good = totp_code(secret, now_of(world))
    bad = "000000" if good != "000000" else "111111"
    for _ in range(5):
        response = world.client.post("/login/otp", data={"csrf_token": token, "code": bad})
        assert response.status_code == 400
    response = world.client.post("/login/otp", data={"csrf_token": token, "code": good})
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
    assert world.client.cookies.get(SESSION_COOKIE) is None


def test_logout_ends_the_session(world: OidcWorld) -> None:
    submit_login(world)
    cookie = world.client.cookies.get(SESSION_COOKIE)
    page = world.client.get("/account")
    response = world.client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 200 and "Anda telah keluar" in response.text
    assert world.app.state.services.sessions.get(cookie) is None
    assert world.client.get("/account", follow_redirects=False).headers["location"] == "/login"
