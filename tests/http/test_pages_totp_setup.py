"""Setting up an authenticator app that people can use (issue 18, part 3): the key URI as a
server-drawn inline SVG QR code, the key in groups of four, a wrong code that keeps the
secret and says what to do, recovery codes shown once when the factor is on, the lost app
replaced from a recovery-code session; CSRF, throttling, both languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import segno

from identity.login.sessions import SESSION_COOKIE
from identity.login.totp import ENROLMENT_LIFETIME
from identity.oidc.tokens import ACR_PASSWORD
from tests.http.test_pages_security import _assert_page_headers
from tests.oidc_helpers import OidcWorld
from tests.pages_helpers import (
    csrf_of,
    enrol_totp,
    now_of,
    post_account,
    secret_of,
    steady_totp,
    totp_code,
)

_GROUPED = re.compile(r'id="totp-secret">((?:[A-Z2-7]{4} )+[A-Z2-7]{1,4})<')
_LINK = re.compile(r'href="(otpauth://[^"]+)"')
_SVG = re.compile(r"<svg [^>]*>.*?</svg>", re.S)
_PATH = re.compile(r'class="qrline"[^>]* d="([^"]+)"')
_STEP = re.compile(r"([Mmh])(-?[0-9.]+)(?: (-?[0-9.]+))?")
_CODE = re.compile(r"<li><code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code></li>")


@pytest.fixture
def signed_in(world: OidcWorld) -> OidcWorld:
    world.login()
    return world


def _uri(html: str) -> str:
    found = _LINK.search(html)
    assert found is not None, "no otpauth link"
    return found.group(1).replace("&amp;", "&")


def _dark_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules (column, row) the SVG's path draws (segno's ``M x y`` then ``h n``
    runs and relative ``m dx dy`` moves, at one unit a module)."""
    path = _PATH.search(svg)
    assert path is not None, svg[:200]
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for op, first, second in _STEP.findall(path.group(1)):
        if op == "M":
            x, y = float(first), float(second)
        elif op == "m":
            x, y = x + float(first), y + float(second)
        else:
            dark.update((int(x) + i, int(y)) for i in range(int(float(first))))
            x += float(first)
    return dark


def _expected_modules(uri: str, border: int = 4) -> set[tuple[int, int]]:
    matrix = segno.make(uri, error="m", micro=False).matrix
    return {
        (col + border, row + border)
        for row, line in enumerate(matrix)
        for col, value in enumerate(line)
        if value
    }


def _enrol(world: OidcWorld, **fields: str) -> Any:
    response = post_account(world, "/account/totp/enrol", **fields)
    assert response.status_code == 200, response.text
    return response


def _confirm(world: OidcWorld, page: Any, code: str | None = None, **fields: str) -> Any:
    """POST the enrolment page's code form (``code`` by default: the app's current one)."""
    if code is None:
        code = totp_code(secret_of(page.text), now_of(world))
    return world.client.post(
        "/account/totp/confirm",
        data={"csrf_token": csrf_of(page.text), "code": code, **fields},
        follow_redirects=False,
    )


def _wrong(secret: bytes, world: OidcWorld) -> str:
    now = now_of(world)
    right = {totp_code(secret, now + d) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def test_the_qr_code_is_an_inline_svg_of_the_key_uri_and_the_key_is_grouped(
    signed_in: OidcWorld,
) -> None:
    page = _enrol(signed_in)
    _assert_page_headers(page)
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    svg = _SVG.search(html)
    assert svg is not None and 'role="img"' in svg.group(0) and "aria-label=" in svg.group(0)
    assert "<title>" in svg.group(0) and "<img" not in html and "data:image" not in html
    uri = _uri(html)
    assert _dark_modules(svg.group(0)) == _expected_modules(uri)  # the QR code is the URI
    grouped = _GROUPED.search(html)
    assert grouped is not None
    groups = grouped.group(1).split(" ")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)  # 160 bits: 32 characters
    assert parse_qs(urlsplit(uri).query)["secret"] == ["".join(groups)]
    assert parse_qs(urlsplit(uri).query)["issuer"] == ["Jati"]
    assert "Pindai kode QR ini" in html and "Kunci pengaturan" in html


def test_a_wrong_code_keeps_the_secret_and_says_what_to_do(signed_in: OidcWorld) -> None:
    world = signed_in
    first = _enrol(world)
    secret = secret_of(first.text)
    wrong = _confirm(world, first, _wrong(secret, world))
    assert wrong.status_code == 400 and wrong.headers["cache-control"] == "no-store"
    assert secret_of(wrong.text) == secret and _uri(wrong.text) == _uri(first.text)
    shown_again, shown_first = _SVG.search(wrong.text), _SVG.search(first.text)
    assert shown_again is not None and shown_first is not None
    assert shown_again.group(0) == shown_first.group(0)  # the same QR code
    assert "jam ponsel" in wrong.text and "kode terbaru" in wrong.text
    assert 'aria-invalid="true"' in wrong.text and 'href="#code"' in wrong.text
    factor = world.app.state.services.second_factor
    assert not factor.is_enabled(world.citizen_id)
    confirmed = _confirm(world, wrong)
    assert confirmed.status_code == 200 and factor.is_enabled(world.citizen_id)


def test_the_wrong_code_page_in_english(signed_in: OidcWorld) -> None:
    world = signed_in
    first = post_account(world, "/account/totp/enrol", lang="en")
    assert '<html lang="en">' in first.text and "Scan this QR code" in first.text
    wrong = _confirm(world, first, _wrong(secret_of(first.text), world), lang="en")
    assert wrong.status_code == 400
    assert "time on your phone" in wrong.text and "newest code" in wrong.text
    assert secret_of(wrong.text) == secret_of(first.text)


def test_an_expired_enrolment_asks_to_start_again(signed_in: OidcWorld) -> None:
    world = signed_in
    page = _enrol(world)
    factor = world.app.state.services.second_factor
    later = datetime.now(UTC) + ENROLMENT_LIFETIME + timedelta(minutes=1)
    factor.clock = lambda: later
    response = _confirm(world, page, totp_code(secret_of(page.text)))
    assert response.status_code == 400 and "kedaluwarsa" in response.text
    assert 'id="totp-secret"' not in response.text
    assert factor.pending_enrolment(world.citizen_id) is None


def test_confirming_shows_ten_recovery_codes_once(signed_in: OidcWorld) -> None:
    world = signed_in
    steady_totp()  # three codes of consecutive steps follow
    page = _enrol(world)
    secret = secret_of(page.text)
    shown = _confirm(world, page, totp_code(secret, now_of(world) - 30))
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    codes = _CODE.findall(shown.text)
    assert len(codes) == 10 == len(set(codes))
    assert "Faktor kedua aktif." in shown.text and "hanya bisa dipakai satu kali" in shown.text
    assert "menggantikan semua kode pemulihan" in shown.text and "tempat yang aman" in shown.text
    account = world.client.get("/account").text
    assert "Kode yang belum dipakai: 10 dari 10." in account
    assert not any(code in account for code in codes)  # shown once
    # turned off and on again, with unused codes still in hand: they are kept
    post_account(world, "/account/totp/disable", code=totp_code(secret, now_of(world)))
    again = _enrol(world)
    kept = _confirm(world, again)
    assert kept.status_code == 303
    assert kept.headers["location"] == "/account?done=totp-on#second-factor"
    assert world.app.state.services.recovery_codes.remaining(world.citizen_id) == 10


def test_a_recovery_code_session_replaces_a_lost_app(world: OidcWorld) -> None:
    old_secret = enrol_totp(world)
    world.login()  # a full session: the old app's code is needed to remove it
    assert 'name="replace"' not in world.client.get("/account").text
    assert post_account(world, "/account/totp/enrol", replace="yes").status_code == 409
    cookie, _ = world.app.state.services.sessions.create(
        world.citizen_id,
        auth_time=datetime.now(UTC),
        amr=("pwd", "recovery-code"),
        acr=ACR_PASSWORD,
        restricted=True,
    )
    world.client.cookies.set(SESSION_COOKIE, cookie)
    account = world.client.get("/account").text
    assert 'name="replace" value="yes"' in account
    page = _enrol(world, replace="yes")
    new_secret = secret_of(page.text)
    assert new_secret != old_secret
    factor = world.app.state.services.second_factor
    assert not factor.is_enabled(world.citizen_id)  # the lost app no longer works
    confirmed = _confirm(world, page)
    assert confirmed.status_code == 200 and factor.is_enabled(world.citizen_id)


def test_the_forms_refuse_a_missing_csrf_token_and_change_nothing(signed_in: OidcWorld) -> None:
    world = signed_in
    world.client.get("/account")
    assert world.client.post("/account/totp/enrol", data={}).status_code == 403
    factor = world.app.state.services.second_factor
    assert factor.pending_enrolment(world.citizen_id) is None
    page = _enrol(world)
    secret = secret_of(page.text)
    code = totp_code(secret, now_of(world))
    refused = world.client.post("/account/totp/confirm", data={"code": code})
    assert refused.status_code == 403 and not factor.is_enabled(world.citizen_id)
    assert world.app.state.services.recovery_codes.remaining(world.citizen_id) == 0


def test_too_many_wrong_codes_lock_the_set_up_and_link_to_help(signed_in: OidcWorld) -> None:
    world = signed_in
    page = _enrol(world)
    wrong = _wrong(secret_of(page.text), world)
    statuses = [_confirm(world, page, wrong) for _ in range(6)]
    assert [r.status_code for r in statuses[:5]] == [400] * 5
    locked = statuses[5]
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert 'href="/help/sign-in"' in locked.text
