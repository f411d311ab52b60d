"""Erasure on its own page (UU PDP Art. 8, 43-45): it says what goes, what stays and why,
which apps lose access and that it cannot be undone; it needs the ticked statement and a
fresh proof (password, authenticator code or passkey); a refusal erases nothing."""

from __future__ import annotations

import json

import pytest
from httpx2 import Response

from identity.login.sessions import SESSION_COOKIE
from tests.oidc_helpers import PASSWORD, OidcWorld, RelyingApp
from tests.pages_helpers import csrf_of, enrol_totp, now_of, submit_login, totp_code
from tests.personal_data import SAMPLE
from tests.webauthn_authenticator import SoftAuthenticator


@pytest.fixture
def signed_in(world: OidcWorld) -> OidcWorld:
    assert submit_login(world).status_code == 303
    return world


def _erase(world: OidcWorld, **fields: str) -> Response:
    token = csrf_of(world.client.get("/account/erase").text)
    return world.client.post(
        "/account/erase", data={"csrf_token": token, **fields}, follow_redirects=False
    )


def _erased(world: OidcWorld) -> bool:
    return world.app.state.services.citizens.tombstone(world.citizen_id) is not None


def test_the_page_says_what_goes_what_stays_and_who_loses_access(
    signed_in: OidcWorld, rp: RelyingApp
) -> None:
    world = signed_in
    world.consent(rp)
    response = world.client.get("/account/erase")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    html = response.text
    assert "<title>Hapus akun dan data saya · Jati</title>" in html
    for words in ("Nama lengkap", "Tanggal lahir", "NIK", "kata sandi", "passkey"):
        assert words in html
    assert "<li>Dinas Sosial</li>" in html  # the connected app that loses access
    assert "UU PDP Art. 31" in html and "Entri log audit tentang Anda" in html  # kept, why
    assert "tidak dapat dibatalkan" in html
    assert 'type="password"' in html and 'name="method" value="password"' in html
    assert SAMPLE["name"] not in html and SAMPLE["nik"] not in html
    # the account page links here and no longer offers erasure among its requests
    account = world.client.get("/account").text
    assert 'href="/account/erase?lang=id"' in account and 'value="erasure"' not in account


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"method": "password", "password": "x"}, "Centang pernyataan"),
        ({"confirm-erasure": "yes", "method": "password"}, "Masukkan kata sandi Anda."),
        ({"confirm-erasure": "yes", "method": "password", "password": "salah-sekali"},
         "Kata sandi salah."),
        ({"confirm-erasure": "yes", "method": "totp", "code": "123456"}, "Kode salah"),
        ({"confirm-erasure": "yes"}, "Buktikan bahwa ini Anda"),
        ({"confirm-erasure": "yes", "method": "passkey", "credential": "{}"},
         "Passkey tidak dapat diperiksa."),
    ],
)  # fmt: skip
def test_a_refusal_is_a_clear_400_and_erases_nothing(
    signed_in: OidcWorld, fields: dict[str, str], message: str
) -> None:
    world = signed_in
    response = _erase(world, **fields)
    assert response.status_code == 400
    assert message in response.text and "Tidak ada yang dihapus." in response.text
    assert "<title>Kesalahan: Hapus akun dan data saya · Jati</title>" in response.text
    assert not _erased(world)
    assert world.client.get("/account").status_code == 200  # still signed in


def test_erasure_with_the_password_ends_the_account_and_every_app_access(
    signed_in: OidcWorld, rp: RelyingApp
) -> None:
    world = signed_in
    world.consent(rp)
    access_token = world.tokens(rp)["access_token"]
    cookie = world.client.cookies.get(SESSION_COOKIE)
    sessions = world.app.state.services.sessions
    other = sessions.create(world.citizen_id, auth_time=sessions.clock(), amr=["pwd"], acr="x")[0]
    response = _erase(world, **{"confirm-erasure": "yes", "method": "password",
                                "password": PASSWORD})  # fmt: skip
    assert response.status_code == 200, response.text
    assert "Data Anda telah dihapus" in response.text
    assert _erased(world)
    assert sessions.get(cookie) is None and sessions.get(other) is None
    assert "UU PDP Art. 31" in response.text  # what is kept, with its basis
    assert world.introspect(rp, access_token)["active"] is False
    assert submit_login(world).status_code == 400


def test_erasure_with_an_authenticator_code(signed_in: OidcWorld) -> None:
    world = signed_in
    secret = enrol_totp(world)  # confirmed with the previous step's code: this one is unused
    code = totp_code(secret, now_of(world))
    response = _erase(world, **{"confirm-erasure": "yes", "method": "totp", "code": code})
    assert response.status_code == 200, response.text
    assert _erased(world)


def test_erasure_with_a_passkey_that_must_be_the_citizens_own(signed_in: OidcWorld) -> None:
    world = signed_in
    mine = SoftAuthenticator(origin="http://testserver")
    token = csrf_of(world.client.get("/account").text)
    options = world.client.post("/account/passkeys/options", data={"csrf_token": token})
    world.client.post(
        "/account/passkeys",
        data={"csrf_token": token, "credential": json.dumps(mine.create(options.json()))},
    )
    html = world.client.get("/account/erase").text
    assert 'data-passkey-options="/account/erase/passkey/options"' in html
    token = csrf_of(html)
    options = world.client.post("/account/erase/passkey/options", data={"csrf_token": token})
    assert options.status_code == 200, options.text
    credential = mine.get(options.json())
    response = world.client.post(
        "/account/erase",
        data={"csrf_token": token, "confirm-erasure": "yes", "method": "passkey",
              "credential": json.dumps(credential)},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert _erased(world)


def test_the_options_need_a_session(world: OidcWorld) -> None:
    token = csrf_of(world.client.get("/login").text)
    response = world.client.post("/account/erase/passkey/options", data={"csrf_token": token})
    assert response.status_code == 401
    page = world.client.get("/account/erase", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
