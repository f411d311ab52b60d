"""The activation pages (issue 18, part 1): a citizen registered with an activation code
chooses their own password and signs in with it; one answer for every refusal, the NIK and
the birth date kept, the code never echoed; a used code refused; CSRF on both forms; the
login throttle; both languages; the sealed short-lived ``jati_activate`` cookie."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from identity.http.pages.activate import ACTIVATION_COOKIE
from identity.login.sessions import SESSION_COOKIE
from identity.oidc.tokens import ACR_PASSWORD
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.http.test_pages_security import _assert_page_headers
from tests.oidc_helpers import OFFICIAL, OidcWorld, oidc_world
from tests.pages_helpers import csrf_of, submit_login
from tests.personal_data import seeded

NIK, NAME = seeded("3171010101900009", "Bagus Prasetyo Wibowo")
BIRTHDATE = "1990-01-01"
NEW_PASSWORD = "pohon jati di tepi sawah"
WRONG_CODE = "ABCD-EFGH-JKMN-PQRS"
REFUSED = {"id": "Akun tidak dapat diaktifkan dengan isian ini.", "en": "cannot be activated"}


@dataclass(frozen=True, slots=True)
class Registered:
    citizen_id: str
    code: str


@pytest.fixture
def registered(world: OidcWorld) -> Registered:
    """A citizen registered at the counter, with an activation code and no password."""
    citizen_id, code = world.app.state.services.account_access.register(
        nik=NIK, name=NAME, birthdate=date.fromisoformat(BIRTHDATE), actor=OFFICIAL
    )
    return Registered(citizen_id, code)


def _pending(world: OidcWorld, citizen_id: str) -> bool:
    """The citizen's activation code is still outstanding."""
    return world.app.state.services.activations.pending(citizen_id) is not None


def _set_cookie(response: Any, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(name + "=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def submit_code(
    world: OidcWorld,
    code: str,
    *,
    nik: str = NIK,
    birthdate: str = BIRTHDATE,
    lang: str | None = None,
) -> Any:
    """GET /activate, then POST its form."""
    page = world.client.get("/activate" + (f"?lang={lang}" if lang else ""))
    assert page.status_code == 200, page.text
    form = {"csrf_token": csrf_of(page.text), "nik": nik, "birthdate": birthdate, "code": code}
    return world.client.post("/activate", data=form, follow_redirects=False)


def submit_password(world: OidcWorld, password: str, repeat: str | None = None) -> Any:
    """GET /activate/setup, then POST its form."""
    page = world.client.get("/activate/setup")
    assert page.status_code == 200, page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "password": password,
        "password_repeat": password if repeat is None else repeat,
    }
    return world.client.post("/activate/setup", data=form, follow_redirects=False)


def _without_token(html: str) -> str:
    return html.replace(csrf_of(html), "")


# ---------------------------------------------------------------- the way through


def test_the_code_page_explains_and_labels_every_field(world: OidcWorld) -> None:
    page = world.client.get("/activate")
    assert page.status_code == 200
    _assert_page_headers(page)
    html = page.text
    assert '<html lang="id">' in html and "Aktifkan akun Anda" in html
    assert "Tidak ada orang lain, termasuk petugas" in html
    inputs = set(re.findall(r'<input id="([^"]+)"', html))
    assert inputs == {"nik", "birthdate", "code"}
    assert set(re.findall(r'<label for="([^"]+)">', html)) == inputs
    assert 'type="date"' in html and "1990-01-31" in html  # the format, for typed dates
    code = re.search(r'<input id="code"[^>]*>', html)
    assert code is not None
    for attribute in ('autocomplete="one-time-code"', 'spellcheck="false"', 'aria-describedby="'):
        assert attribute in code.group(0)
    assert "aria-invalid" not in html and "<script" not in html


def test_activation_sets_the_citizens_own_password_and_signs_in(
    world: OidcWorld, registered: Registered
) -> None:
    response = submit_code(world, registered.code.lower().replace("-", " "))  # as typed
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/activate/setup"
    assert world.client.cookies.get(SESSION_COOKIE) is None
    cookie = _set_cookie(response, ACTIVATION_COOKIE)
    lowered = cookie.lower()
    assert "path=/activate" in lowered and "httponly" in lowered
    assert "samesite=strict" in lowered and "max-age=900" in lowered
    assert "secure" not in lowered  # an http issuer
    assert registered.citizen_id not in cookie and registered.code not in cookie  # sealed
    setup = world.client.get("/activate/setup")
    assert setup.status_code == 200
    _assert_page_headers(setup)
    assert setup.text.count('autocomplete="new-password"') == 2
    assert "Paling sedikit 8 karakter" in setup.text and "passkey" in setup.text
    assert _pending(world, registered.citizen_id)  # nothing used up yet
    done = submit_password(world, NEW_PASSWORD)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/account"
    assert 'jati_activate=""' in _set_cookie(done, ACTIVATION_COOKIE)  # cleared
    session = world.app.state.services.sessions.get(world.client.cookies.get(SESSION_COOKIE))
    assert session is not None and session.citizen_id == registered.citizen_id
    assert session.amr == ("pwd",) and session.acr == ACR_PASSWORD
    assert not _pending(world, registered.citizen_id)
    assert world.client.get("/account").status_code == 200
    # the password is the citizen's own: it signs them in at /login
    world.client.cookies.clear()
    login = submit_login(world, nik=NIK, password=NEW_PASSWORD)
    assert login.status_code == 303 and login.headers["location"] == "/account"


def test_a_used_code_is_refused_the_second_time(world: OidcWorld, registered: Registered) -> None:
    first = submit_code(world, registered.code)
    ticket = world.client.cookies.get(ACTIVATION_COOKIE)
    assert first.status_code == 303 and ticket
    assert submit_password(world, NEW_PASSWORD).status_code == 303
    again = submit_code(world, registered.code)
    assert again.status_code == 400 and REFUSED["id"] in again.text
    # a second tab that checked the code before it was used: refused at the last step
    world.client.cookies.set(ACTIVATION_COOKIE, ticket, path="/activate")
    late = submit_password(world, "another long password")
    assert late.status_code == 400
    assert "sudah dipakai" in late.text and 'href="/activate"' in late.text
    world.client.cookies.clear()
    assert submit_login(world, nik=NIK, password="another long password").status_code == 400
    assert submit_login(world, nik=NIK, password=NEW_PASSWORD).status_code == 303


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("nik", "birthdate", "code"),
    [
        (NIK, BIRTHDATE, WRONG_CODE),
        (NIK, "1990-01-02", None),  # the right code, a wrong birth date
        ("3171010101900017", BIRTHDATE, None),  # the right code, an unknown NIK
    ],
    ids=["wrong-code", "wrong-birthdate", "unknown-nik"],
)
def test_every_refusal_gets_one_answer_keeping_the_nik_and_never_the_code(
    world: OidcWorld, registered: Registered, nik: str, birthdate: str, code: str | None
) -> None:
    typed = code or registered.code
    response = submit_code(world, typed, nik=nik, birthdate=birthdate)
    assert response.status_code == 400
    _assert_page_headers(response)
    html = response.text
    assert REFUSED["id"] in html and 'href="#code"' in html
    assert f'value="{nik}"' in html and f'value="{birthdate}"' in html  # kept
    assert typed not in html and typed.replace("-", "") not in html  # never echoed
    assert ACTIVATION_COOKIE not in response.headers.get("set-cookie", "")
    assert _pending(world, registered.citizen_id)  # nothing changed
    # the same page whatever the cause (the kept values and the CSRF token aside)
    other = submit_code(world, WRONG_CODE, nik=NIK, birthdate=BIRTHDATE)
    assert _without_token(html).replace(nik, NIK).replace(birthdate, BIRTHDATE) == (
        _without_token(other.text)
    )


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"code": "7KQ2-M9XD-4HPA"}, "16 huruf dan angka dalam empat kelompok", "code"),
        ({"code": "UUUU-UUUU-UUUU-UUUU"}, "16 huruf dan angka dalam empat kelompok", "code"),
        ({"code": ""}, "Isi kode aktivasi", "code"),
        ({"birthdate": "01/01/1990"}, "tahun-bulan-tanggal", "birthdate"),
        ({"birthdate": "1990-02-30"}, "tahun-bulan-tanggal", "birthdate"),
        ({"nik": ""}, "Isi NIK Anda", "nik"),
    ],
    ids=["short-code", "not-the-alphabet", "no-code", "not-iso", "no-such-day", "no-nik"],
)
def test_a_malformed_form_says_which_field_and_how(
    world: OidcWorld, registered: Registered, fields: dict[str, str], message: str, field: str
) -> None:
    values = {"nik": NIK, "birthdate": BIRTHDATE, "code": registered.code, **fields}
    response = submit_code(world, values["code"], nik=values["nik"], birthdate=values["birthdate"])
    assert response.status_code == 400
    assert message in response.text
    assert f'href="#{field}"' in response.text  # the summary links to the field
    marked = re.search(rf'<input id="{field}"[^>]*>', response.text)
    assert marked is not None and 'aria-invalid="true"' in marked.group(0)
    assert "form-error" in marked.group(0)
    assert _pending(world, registered.citizen_id)


def test_too_many_failures_answer_429_even_with_the_right_code(
    world: OidcWorld, registered: Registered
) -> None:
    for _ in range(5):
        assert submit_code(world, WRONG_CODE).status_code == 400
    response = submit_code(world, registered.code)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Terlalu banyak percobaan" in response.text
    assert world.client.cookies.get(ACTIVATION_COOKIE) is None
    assert _pending(world, registered.citizen_id)


def test_forms_without_the_csrf_token_are_refused_and_change_nothing(
    world: OidcWorld, registered: Registered
) -> None:
    world.client.get("/activate")  # the browser holds a CSRF cookie
    fields = {"nik": NIK, "birthdate": BIRTHDATE, "code": registered.code}
    refused = world.client.post("/activate", data=fields, follow_redirects=False)
    assert refused.status_code == 403
    assert world.client.cookies.get(ACTIVATION_COOKIE) is None
    assert submit_code(world, registered.code).status_code == 303
    passwords = {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
    for token in ({}, {"csrf_token": "forged"}):
        response = world.client.post(
            "/activate/setup", data={**passwords, **token}, follow_redirects=False
        )
        assert response.status_code == 403
    assert world.client.cookies.get(SESSION_COOKIE) is None
    assert _pending(world, registered.citizen_id)


@pytest.mark.parametrize(
    ("password", "repeat", "message", "field"),
    [
        (NEW_PASSWORD, NEW_PASSWORD + "!", "Kedua kata sandi tidak sama", "password_repeat"),
        ("qz7#kpx", "qz7#kpx", "paling sedikit 8 karakter", "password"),
        ("", "", "paling sedikit 8 karakter", "password"),
    ],
    ids=["mismatch", "too-short", "empty"],
)
def test_a_refused_password_says_why_and_changes_nothing(
    world: OidcWorld, registered: Registered, password: str, repeat: str, message: str, field: str
) -> None:
    assert submit_code(world, registered.code).status_code == 303
    response = submit_password(world, password, repeat)
    assert response.status_code == 400
    assert message in response.text and f'href="#{field}"' in response.text
    assert not password or password not in response.text  # never echoed
    assert world.client.cookies.get(SESSION_COOKIE) is None
    assert _pending(world, registered.citizen_id)
    assert submit_password(world, NEW_PASSWORD).status_code == 303  # the ticket still stands


@pytest.mark.parametrize("cookie", [None, "not-a-sealed-ticket"], ids=["none", "altered"])
def test_the_setup_page_without_a_ticket_sends_back_to_the_code(
    world: OidcWorld, cookie: str | None
) -> None:
    if cookie is not None:
        world.client.cookies.set(ACTIVATION_COOKIE, cookie, path="/activate")
    page = world.client.get("/activate/setup")
    assert page.status_code == 400
    _assert_page_headers(page)
    assert "Waktu untuk memilih kata sandi telah habis" in page.text
    assert 'href="/activate"' in page.text


# ---------------------------------------------------------------- languages, links, https


def test_both_languages(world: OidcWorld, registered: Registered) -> None:
    english = world.client.get("/activate?lang=en")
    assert '<html lang="en">' in english.text and "Activate your account" in english.text
    assert "Nobody else, not even the officer" in english.text
    refused = submit_code(world, WRONG_CODE, lang="en")  # the cookie keeps English
    assert refused.status_code == 400 and REFUSED["en"] in refused.text
    assert submit_code(world, registered.code).status_code == 303
    setup = world.client.get("/activate/setup")
    assert "Choose how you will sign in" in setup.text and "At least 8 characters" in setup.text
    indonesian = world.client.get("/activate/setup?lang=id")
    assert '<html lang="id">' in indonesian.text and "Pilih cara Anda masuk" in indonesian.text


def test_the_login_page_links_to_activation(world: OidcWorld) -> None:
    assert '<a href="/activate">Aktifkan akun</a>' in world.client.get("/login").text
    english = world.client.get("/login?lang=en").text
    assert '<a href="/activate">Activate your account</a>' in english


@pytest.fixture
def https_world(make_settings: Callable[..., Settings], database: Database) -> Iterator[OidcWorld]:
    with oidc_world(make_settings(issuer="https://id.example.go.id"), database) as world:
        world.client.base_url = world.client.base_url.copy_with(scheme="https")
        yield world


def test_the_ticket_cookie_is_secure_under_https(https_world: OidcWorld) -> None:
    _citizen_id, code = https_world.app.state.services.account_access.register(
        nik=NIK, name=NAME, birthdate=date.fromisoformat(BIRTHDATE), actor=OFFICIAL
    )
    response = submit_code(https_world, code)
    assert response.status_code == 303, response.text
    assert "secure" in _set_cookie(response, ACTIVATION_COOKIE).lower()
