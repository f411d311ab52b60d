"""Recovery codes (issue 18, part 4): made anew from the account page (the old ones stop
working), a sign-in with one (after the password, or NIK + birth date + code for a citizen
without a password) that works once and opens a restricted session (the account page, with
its banner; no app gets a code), throttled like a login; the "Tidak bisa masuk?" page in
both languages, linked from the code step and the throttled page; CSRF refusals that
change nothing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from audit.entry import Action
from identity.citizens.access_log import citizen_timeline
from identity.citizens.account_access import AMR_RECOVERY_CODE
from identity.citizens.service import SELF
from identity.login.sessions import SESSION_COOKIE, Session
from identity.oidc.tokens import ACR_PASSWORD
from tests.http.test_pages_security import _assert_page_headers
from tests.oidc_helpers import OFFICIAL, OidcWorld, RelyingApp
from tests.pages_helpers import csrf_of, enrol_totp, follow, post_account, submit_login
from tests.personal_data import SAMPLE, seeded

NIK, NAME = seeded("3171010302910011", "Dewi Lestari Pertiwi")
BIRTHDATE = "1991-02-03"
_CODE = re.compile(r"<li><code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code></li>")
UNUSED = "ABCD-EFGH-JKMN-PQRS"  # in the code format, never issued


def _codes(world: OidcWorld, citizen_id: str | None = None) -> tuple[str, ...]:
    codes: tuple[str, ...] = world.app.state.services.recovery_codes.generate(
        citizen_id or world.citizen_id, actor=SELF, now=datetime.now(UTC)
    )
    return codes


def _remaining(world: OidcWorld, citizen_id: str | None = None) -> int:
    left: int = world.app.state.services.recovery_codes.remaining(citizen_id or world.citizen_id)
    return left


def _session(world: OidcWorld) -> Session | None:
    session: Session | None = world.app.state.services.sessions.get(
        world.client.cookies.get(SESSION_COOKIE)
    )
    return session


def _after_password(world: OidcWorld) -> None:
    """The password step of a citizen with a second factor: the pending-login cookie set."""
    response = submit_login(world)
    assert response.status_code == 303 and response.headers["location"].startswith("/login/otp")


def _submit(world: OidcWorld, **fields: str) -> Any:
    page = world.client.get("/login/recovery")
    assert page.status_code == 200, page.text
    return world.client.post(
        "/login/recovery",
        data={"csrf_token": csrf_of(page.text), **fields},
        follow_redirects=False,
    )


@pytest.fixture
def with_factor(world: OidcWorld) -> tuple[OidcWorld, tuple[str, ...]]:
    """The sample citizen with a password, an authenticator app and ten recovery codes."""
    enrol_totp(world)
    return world, _codes(world)


@pytest.fixture
def passwordless(world: OidcWorld) -> tuple[str, tuple[str, ...]]:
    """A citizen without a password (registered at the counter) who holds recovery codes."""
    citizen_id, _activation = world.app.state.services.account_access.register(
        nik=NIK, name=NAME, birthdate=date.fromisoformat(BIRTHDATE), actor=OFFICIAL
    )
    return citizen_id, _codes(world, citizen_id)


def test_a_code_after_the_password_opens_a_restricted_session_once(
    with_factor: tuple[OidcWorld, tuple[str, ...]],
) -> None:
    world, codes = with_factor
    _after_password(world)
    page = world.client.get("/login/recovery")
    assert 'name="nik"' not in page.text and 'name="code"' in page.text
    _assert_page_headers(page)
    signed_in = _submit(world, code=codes[0].lower().replace("-", " "))
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account"
    session = _session(world)
    assert session is not None and session.restricted
    assert session.amr == ("pwd", AMR_RECOVERY_CODE) and session.acr == ACR_PASSWORD
    account = follow(world, signed_in)
    assert account.status_code == 200
    assert "Anda masuk dengan kode pemulihan" in account.text
    assert "Kode yang belum dipakai: 9 dari 10." in account.text
    assert 'name="replace" value="yes"' in account.text  # the lost app can be replaced
    assert _remaining(world) == 9
    # the same code, once more, is refused (and never echoed)
    world.client.cookies.delete(SESSION_COOKIE)
    _after_password(world)
    again = _submit(world, code=codes[0])
    assert again.status_code == 400 and "sudah pernah dipakai" in again.text
    assert codes[0] not in again.text and 'aria-invalid="true"' in again.text
    assert _session(world) is None and _remaining(world) == 9
    state = world.app.state.services
    state.audit_log.sequence()
    timeline, _ = citizen_timeline(state.audit_log, state.pseudonymizer, world.citizen_id)
    used = [e for e in timeline if e.action == Action.LOGIN and "recovery_codes" in e.data_items]
    assert len(used) == 1  # the citizen sees the code used in their log


def test_a_restricted_session_gets_no_code_from_authorize(
    with_factor: tuple[OidcWorld, tuple[str, ...]], rp: RelyingApp
) -> None:
    world, codes = with_factor
    world.consent(rp)
    _after_password(world)
    assert _submit(world, code=codes[1]).status_code == 303
    response = world.authorize(rp)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login" and "code=" not in location.query
    assert not response.headers["location"].startswith(rp.redirect_uri)
    quiet = world.authorize(rp, prompt="none")
    assert "error=login_required" in quiet.headers["location"]
    assert "code=" not in quiet.headers["location"]
    assert world.client.get("/account").status_code == 200


def test_a_citizen_without_a_password_signs_in_with_nik_birthdate_and_code(
    world: OidcWorld, passwordless: tuple[str, tuple[str, ...]]
) -> None:
    citizen_id, codes = passwordless
    page = world.client.get("/login/recovery")
    assert 'name="nik"' in page.text and 'name="birthdate"' in page.text
    signed_in = _submit(world, nik=NIK, birthdate=BIRTHDATE, code=codes[0])
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account"
    session = _session(world)
    assert session is not None and session.restricted and session.citizen_id == citizen_id
    assert session.amr == (AMR_RECOVERY_CODE,)
    assert "Anda masuk dengan kode pemulihan" in world.client.get("/account").text
    world.client.cookies.delete(SESSION_COOKIE)
    reused = _submit(world, nik=NIK, birthdate=BIRTHDATE, code=codes[0])
    assert reused.status_code == 400 and _session(world) is None
    assert "NIK, tanggal lahir, atau kode pemulihan tidak cocok" in reused.text
    assert f'value="{NIK}"' in reused.text and codes[0] not in reused.text
    # a wrong birth date: the same answer, and the code it came with stays usable
    wrong_date = _submit(world, nik=NIK, birthdate="1991-02-04", code=codes[1])
    assert wrong_date.status_code == 400 and _session(world) is None
    assert "NIK, tanggal lahir, atau kode pemulihan tidak cocok" in wrong_date.text
    assert _remaining(world, citizen_id) == 9
    again = _submit(world, nik=NIK, birthdate=BIRTHDATE, code=codes[1])
    assert again.status_code == 303 and _remaining(world, citizen_id) == 8


def test_a_citizen_with_a_password_cannot_skip_it(
    with_factor: tuple[OidcWorld, tuple[str, ...]],
) -> None:
    world, codes = with_factor
    refused = _submit(world, nik=SAMPLE["nik"], birthdate=SAMPLE["birthdate"], code=codes[0])
    assert refused.status_code == 400 and _session(world) is None
    assert _remaining(world) == 10  # not touched


def test_new_codes_replace_the_old_ones(
    with_factor: tuple[OidcWorld, tuple[str, ...]],
) -> None:
    world, old = with_factor
    world.login()
    account = world.client.get("/account").text
    assert "Buat kode pemulihan baru" in account and 'action="/account/recovery-codes"' in account
    made = post_account(world, "/account/recovery-codes")
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    _assert_page_headers(made)
    new = _CODE.findall(made.text)
    assert len(new) == 10 and not set(new) & set(old)
    assert "hanya ditampilkan satu kali" in made.text
    world.client.cookies.delete(SESSION_COOKIE)
    _after_password(world)
    assert _submit(world, code=old[2]).status_code == 400
    assert _submit(world, code=new[0]).status_code == 303


def test_too_many_wrong_codes_are_throttled_like_a_login(
    world: OidcWorld, passwordless: tuple[str, tuple[str, ...]]
) -> None:
    citizen_id, codes = passwordless
    for _ in range(5):
        assert _submit(world, nik=NIK, birthdate=BIRTHDATE, code=UNUSED).status_code == 400
    locked = _submit(world, nik=NIK, birthdate=BIRTHDATE, code=codes[0])
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert "Terlalu banyak percobaan" in locked.text and 'href="/help/sign-in"' in locked.text
    assert _session(world) is None and _remaining(world, citizen_id) == 10


def test_after_the_password_wrong_codes_are_throttled_too(
    with_factor: tuple[OidcWorld, tuple[str, ...]],
) -> None:
    world, codes = with_factor
    _after_password(world)
    statuses = [_submit(world, code=UNUSED).status_code for _ in range(5)]
    assert statuses == [400] * 5
    locked = _submit(world, code=codes[0])
    assert locked.status_code == 429 and _remaining(world) == 10


def test_a_malformed_code_says_how_a_code_looks(
    world: OidcWorld, passwordless: tuple[str, tuple[str, ...]]
) -> None:
    response = _submit(world, nik=NIK, birthdate=BIRTHDATE, code="12345")
    assert response.status_code == 400 and "16 huruf dan angka" in response.text
    missing = _submit(world, nik=NIK, birthdate="", code="12345")
    assert missing.status_code == 400 and 'href="#birthdate"' in missing.text


def test_csrf_refusals_change_nothing(
    with_factor: tuple[OidcWorld, tuple[str, ...]],
) -> None:
    world, codes = with_factor
    world.login()
    world.client.get("/account")
    refused = world.client.post("/account/recovery-codes", data={}, follow_redirects=False)
    assert refused.status_code == 403 and _CODE.search(refused.text) is None
    world.client.cookies.delete(SESSION_COOKIE)
    _after_password(world)
    for token in ({}, {"csrf_token": "forged"}):
        response = world.client.post(
            "/login/recovery", data={"code": codes[0], **token}, follow_redirects=False
        )
        assert response.status_code == 403
    assert _session(world) is None and _remaining(world) == 10
    assert _submit(world, code=codes[0]).status_code == 303  # the old list still stands


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("id", ("Tidak bisa masuk?", "kode pemulihan", "loket Dukcapil", "kode aktivasi")),
        ("en", ("Cannot sign in?", "recovery code", "Dukcapil counter", "activation code")),
    ],
)
def test_the_help_page_in_both_languages(
    world: OidcWorld, lang: str, words: tuple[str, ...]
) -> None:
    page = world.client.get(f"/help/sign-in?lang={lang}")
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
    _assert_page_headers(page)
    assert page.headers["cache-control"] == "no-store"
    for text in words:
        assert text in page.text
    assert 'href="/login/recovery"' in page.text and 'href="/activate"' in page.text


def test_the_code_step_links_to_the_recovery_code_and_help(
    with_factor: tuple[OidcWorld, tuple[str, ...]],
) -> None:
    world, _ = with_factor
    _after_password(world)
    otp = world.client.get("/login/otp")
    assert 'href="/login/recovery"' in otp.text and 'href="/help/sign-in"' in otp.text
    english = world.client.get("/login/recovery?lang=en")
    assert "Enter one of your recovery codes" in english.text
