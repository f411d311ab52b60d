"""The whole citizen journey in a real browser (headless Chromium, Debian's ``chromium``
driven by Playwright), against a real ``jati serve`` on a loopback port, set up with the real
CLI, as an operator would (issue 6, "Proof that it works with the world"):

1. ``jati citizen add``, ``jati client add`` (a relying app whose redirect URI is a tiny
   HTTP server of this test), ``jati purpose add`` (two purposes on consent: A and B),
   ``jati notice publish``;
2. the browser opens the authorization URL (code flow, PKCE S256), logs in on the login
   page, sees the consent screen in Bahasa Indonesia with nothing pre-selected, grants A
   (a click on its label) and refuses B (with the keyboard), and lands on the app's
   redirect URI with a code;
3. the app exchanges the code at ``/token`` (``client_secret_basic``) and calls
   ``/userinfo``: only A's claims;
4. the browser opens ``/account`` and withdraws A; the app loses access: ``/userinfo``
   refuses its token, introspection answers ``active: false``, the refresh token is refused.
5. ``/end_session`` without a hint asks first (cancel keeps the session); the app's own
   request, confirmed, signs out and lands on its URI with its ``state`` (issue 17).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.browser.axe_states import States
from tests.browser.conftest import needs_chromium
from tests.helpers import free_port, operator_env, run_jati, serving
from tests.personal_data import seeded

NIK, NAME = seeded("3171016408920002", "Dewi Kartika Sari")
BIRTHDATE = "1992-08-24"
PASSWORD = "kata sandi warga yang panjang"
APP_NAME = "Layanan Bansos Kota"
PURPOSE_A = "Menilai kelayakan bantuan sosial"
PURPOSE_B = "Kabar program"

pytestmark = needs_chromium


# ---------------------------------------------------------------- the relying app's side


class _Callback(BaseHTTPRequestHandler):
    received: list[dict[str, str]]

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        if parts.path == "/callback":  # not the browser's /favicon.ico
            self.received.append({k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()})
        body = b"<!doctype html><title>app</title><p id=done>signed in</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # the code is a secret
        return


@contextmanager
def callback_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A relying app's redirect endpoint on a loopback port; yields (URI, queries seen)."""
    received: list[dict[str, str]] = []
    handler = type("Handler", (_Callback,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback", received
    finally:
        server.shutdown()
        server.server_close()


def _call(
    url: str, *, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{urllib.parse.quote(client_id)}:{urllib.parse.quote(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


# ---------------------------------------------------------------- the operator's side


def _jati(*args: str, cwd: Path, env: dict[str, str], stdin: str | None = None) -> dict[str, Any]:
    result = run_jati(*args, "--json", cwd=cwd, env=env, stdin=stdin)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def _set_up(tmp_path: Path, env: dict[str, str], redirect_uri: str) -> dict[str, str]:
    """Register the citizen, the app, its purposes and its notice with the CLI."""
    upgrade = run_jati("db", "upgrade", cwd=tmp_path, env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    _jati(
        "citizen", "add", "--nik", NIK, "--name", NAME, "--birthdate", BIRTHDATE,
        "--password-stdin", cwd=tmp_path, env=env, stdin=PASSWORD + "\n",
    )  # fmt: skip
    app = _jati(
        "client", "add", "--name", APP_NAME, "--redirect-uri", redirect_uri,
        "--scope", "openid profile email", cwd=tmp_path, env=env,
    )  # fmt: skip
    client_id = app["client_id"]
    _jati(
        "purpose", "add", "--client", client_id, "--code", "bansos-eligibility", "--basis", "a",
        "--item", "name", "--item", "birthdate", "--retention-days", "365",
        "--description-id", PURPOSE_A, "--description-en", "Assess social aid eligibility",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    _jati(
        "purpose", "add", "--client", client_id, "--code", "newsletter", "--basis", "a",
        "--item", "email", "--retention-days", "30",
        "--description-id", PURPOSE_B, "--description-en", "Programme news",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    items = {
        name: {"id": f"Teks {name} dalam Bahasa Indonesia", "en": f"{name} in English"}
        for name in (
            "legality", "purposes", "data_types", "retention", "details_collected",
            "processing_period", "rights",
        )
    }  # fmt: skip
    notice = tmp_path / "notice.json"
    notice.write_text(
        json.dumps(
            {
                "controller": "Dinas Sosial Kota Contoh",
                "items": items,
                "dpo": {"name": "Pejabat Pelindungan Data", "email": "ppd@dinsos.example.go.id"},
            }
        )
    )
    _jati("notice", "publish", "--client", client_id, "--file", str(notice), cwd=tmp_path, env=env)
    return {"client_id": client_id, "client_secret": app["client_secret"]}


def _authorization_url(base: str, client_id: str, redirect_uri: str) -> tuple[str, str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(12)
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "nonce": secrets.token_urlsafe(12),
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )
    return f"{base}/authorize?{query}", verifier, state


def _log_in(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk ke Jati")
    page.get_by_label("NIK (Nomor Induk Kependudukan)").fill(NIK)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()


def _decide(page: Page) -> None:
    """Grant A with a click on its label, refuse B with the keyboard."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Persetujuan penggunaan data pribadi")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_text(APP_NAME).first).to_be_visible()
    radios = page.locator("input[type=radio]")
    expect(radios).to_have_count(4)
    for index in range(4):
        expect(radios.nth(index)).not_to_be_checked()  # Art. 22: nothing pre-selected
    group_a = page.get_by_role("group", name=PURPOSE_A)
    group_b = page.get_by_role("group", name=PURPOSE_B)
    expect(group_a).to_contain_text("persetujuan yang sah secara eksplisit")
    group_a.get_by_text("Setuju", exact=True).click()
    group_b.get_by_label("Tidak setuju").focus()
    page.keyboard.press("Space")
    expect(group_a.get_by_label("Setuju", exact=True)).to_be_checked()
    expect(group_b.get_by_label("Tidak setuju")).to_be_checked()
    expect(
        page.get_by_role("link", name="Baca pemberitahuan privasi lengkap (versi 1)")
    ).to_be_visible()
    page.get_by_role("button", name="Kirim pilihan saya").click()


def test_login_consent_code_userinfo_then_withdrawal_in_chromium(
    tmp_path: Path, database_url: str, browser: Browser
) -> None:
    env = operator_env(tmp_path, database_url, JATI_LOG_LEVEL="INFO")
    states = States("id")
    with callback_server() as (redirect_uri, received):
        app = _set_up(tmp_path, env, redirect_uri)
        with serving(cwd=tmp_path, env=env) as (process, base, _ready):
            context = browser.new_context(locale="id-ID")
            page = context.new_page()
            page.set_default_timeout(15_000)
            url, verifier, state = _authorization_url(base, app["client_id"], redirect_uri)
            page.goto(url)
            states.check(page, "login")
            _log_in(page)
            page.screenshot(path=str(tmp_path / "consent.png"), full_page=True)
            states.check(page, "consent screen")
            _decide(page)
            page.wait_for_url(f"{redirect_uri}?*")
            expect(page.locator("#done")).to_have_text("signed in")
            page.screenshot(path=str(tmp_path / "after-consent.png"))
            (answer,) = received
            assert answer["state"] == state and answer["iss"] == base and "code" in answer

            # the app's back channel: code -> tokens (client_secret_basic), then userinfo
            basic = _basic(app["client_id"], app["client_secret"])
            status, tokens = _call(
                f"{base}/token",
                data={
                    "grant_type": "authorization_code",
                    "code": answer["code"],
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                },
                headers=basic,
            )
            assert status == 200, tokens
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            status, claims = _call(f"{base}/userinfo", headers=bearer)
            assert status == 200, claims
            assert claims["name"] == NAME and claims["birthdate"] == BIRTHDATE  # purpose A
            assert "email" not in claims  # purpose B was refused

            # the citizen withdraws A on the account page
            page.goto(f"{base}/account")
            expect(page.get_by_role("heading", level=1)).to_have_text("Akun saya")
            withdraw = page.get_by_role(
                "button", name=f"Tarik persetujuan untuk {PURPOSE_A} di {APP_NAME}"
            )
            withdraw.click()
            expect(page.get_by_role("status")).to_contain_text("Persetujuan ditarik")
            expect(withdraw).to_have_count(0)
            page.screenshot(path=str(tmp_path / "after-withdrawal.png"), full_page=True)
            states.check(page, "account after a withdrawal")

            # ... and the app loses access at once
            status, _ = _call(f"{base}/userinfo", headers=bearer)
            assert status == 401
            status, introspection = _call(
                f"{base}/introspect", data={"token": tokens["access_token"]}, headers=basic
            )
            assert status == 200 and introspection == {"active": False}
            status, refreshed = _call(
                f"{base}/token",
                data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                headers=basic,
            )
            assert status == 400 and refreshed["error"] == "invalid_grant"

            # sign-out (RP-Initiated Logout §2): a bare link asks first, and cancel keeps the
            # session; the app's own request, confirmed, ends it and returns with its state
            page.goto(f"{base}/end_session")
            expect(page.get_by_role("heading", level=1)).to_have_text("Keluar dari Jati?")
            states.check(page, "sign-out confirmation")
            page.get_by_role("button", name="Batal, tetap masuk").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Akun saya")
            logout = urllib.parse.urlencode(
                {
                    "client_id": app["client_id"],
                    "post_logout_redirect_uri": redirect_uri,
                    "state": "bye",
                }
            )
            page.goto(f"{base}/end_session?{logout}")
            expect(page.get_by_text(f"{APP_NAME} meminta Anda keluar dari Jati")).to_be_visible()
            states.check(page, "sign-out asked by the app")
            page.get_by_role("button", name="Ya, keluar").click()
            page.wait_for_url(f"{redirect_uri}?state=bye")
            assert received[-1] == {"state": "bye"}
            page.goto(f"{base}/account")
            expect(page.get_by_role("heading", level=1)).to_have_text("Masuk ke Jati")
            context.close()
        # the server's own log lines (JSON on stderr): requests, never a person or a secret
        assert process.stderr is not None
        server_log = process.stderr.read()
        assert "/consent" in server_log and "/account" in server_log
        for value in (NIK, NAME, BIRTHDATE, PASSWORD, tokens["access_token"], answer["code"]):
            assert value not in server_log
    assert states.violations == [], "\n".join(states.violations)


def test_english_consent_screen_and_a_missing_choice_in_chromium(
    tmp_path: Path, database_url: str, browser: Browser
) -> None:
    """The English switch, and the browser's own required-field check bypassed: the server
    refuses a missing choice and records nothing (Art. 22)."""
    env = operator_env(tmp_path, database_url, JATI_LOG_LEVEL="WARNING")
    states = States("en")
    with callback_server() as (redirect_uri, received):
        app = _set_up(tmp_path, env, redirect_uri)
        with serving(cwd=tmp_path, env=env) as (_process, base, _ready):
            page = browser.new_page()
            page.set_default_timeout(15_000)
            url, _verifier, _state = _authorization_url(base, app["client_id"], redirect_uri)
            page.goto(url)
            _log_in(page)
            page.get_by_role("link", name="English").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Consent to the use of your personal data"
            )
            page.get_by_role("group", name="Assess social aid eligibility").get_by_label(
                "I agree"
            ).check()
            page.locator("form.consent").evaluate("form => form.noValidate = true")
            page.get_by_role("button", name="Send my choices").click()
            expect(page.get_by_role("alert")).to_contain_text("Nothing was recorded")
            states.check(page, "consent screen refusing a missing choice")
            expect(
                page.get_by_role("group", name="Assess social aid eligibility").get_by_label(
                    "I agree"
                )
            ).to_be_checked()
            expect(
                page.get_by_role("group", name="Programme news").get_by_label("I agree")
            ).not_to_be_checked()
            assert received == []
            page.close()
    assert states.violations == [], "\n".join(states.violations)
