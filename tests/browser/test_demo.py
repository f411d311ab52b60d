"""``jati demo`` in a real browser (headless Chromium, Debian's ``chromium`` driven by
Playwright), as a developer meets it (issue 15):

1. ``jati demo`` on free ports in a fresh directory (its own ``./jati-data``) prints the demo
   citizen's NIK and password and serves Jati and the example app of ``examples/``;
2. on the example's page, "Masuk dengan Jati" leads to Jati's login page (the printed NIK and
   password) and consent screen (one purpose, agreed), then back to the example;
3. the example shows the claims Jati released (userinfo), the ID token's verified claims and
   a link to "who used my data", which opens Jati's account page with the release recorded;
4. SIGTERM stops both servers; their logs never carried the NIK, the name, the password, the
   client secret or the authorization code.
"""

from __future__ import annotations

import signal
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from identity.service.demo import DEMO_APP_NAME, DEMO_EMAIL, DEMO_NAME, DEMO_NIK
from tests.browser.axe_states import States
from tests.browser.conftest import needs_chromium
from tests.helpers import clean_env, running_demo
from tests.personal_data import seeded

seeded(DEMO_NIK, DEMO_NAME, DEMO_EMAIL)

pytestmark = [pytest.mark.slow, needs_chromium]


@pytest.fixture
def demo(
    tmp_path: Path, database_url: str
) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """``jati demo`` running; yields the process and what it printed (name -> value)."""
    env = clean_env(
        JATI_DATABASE_URL=database_url,
        JATI_PASSWORD_PROFILE="test-only-cheapest",
        JATI_AUDIT_MAX_MERGE_DELAY="1",
        JATI_LOG_LEVEL="INFO",
    )
    with running_demo(cwd=tmp_path, env=env) as (process, printed, _):
        yield process, printed


def _sign_in_and_consent(page: Page, printed: dict[str, str], states: States) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk ke Jati")
    states.check(page, "demo login")
    page.get_by_label("NIK (Nomor Induk Kependudukan)").fill(printed["NIK"])
    page.get_by_label("Kata sandi").fill(printed["password"])
    page.get_by_role("button", name="Masuk", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Persetujuan penggunaan data pribadi")
    states.check(page, "demo consent screen")
    expect(page.get_by_text(DEMO_APP_NAME).first).to_be_visible()
    purpose = page.get_by_role("group", name="Menampilkan nama, tanggal lahir dan email Anda")
    purpose.get_by_text("Setuju", exact=True).click()
    page.get_by_role("button", name="Kirim pilihan saya").click()


def test_demo_sign_in_shows_released_and_verified_claims_and_the_access_log(
    tmp_path: Path, demo: tuple[subprocess.Popen[str], dict[str, str]], browser: Browser
) -> None:
    process, printed = demo
    example, issuer = printed["example app"], printed["Jati"]
    context = browser.new_context(locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(15_000)
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/callback?" in r.url else None)

    states = States("id")
    page.goto(example)
    page.get_by_role("button", name="Masuk dengan Jati").click()
    _sign_in_and_consent(page, printed, states)
    page.wait_for_url(f"{example}/")
    page.screenshot(path=str(tmp_path / "demo-signed-in.png"), full_page=True)

    userinfo = page.locator("#userinfo")

    def row(table: Locator, claim: str) -> Locator:
        """The claim's own row: its header is exactly the name (a random value such as a jti
        may contain "sub" or "iss")."""
        return table.locator(f"tr:has(th:text-is('{claim}'))")

    expect(page.get_by_role("heading", name="Data yang dirilis Jati (userinfo)")).to_be_visible()
    for claim, value in (("name", DEMO_NAME), ("email", DEMO_EMAIL), ("birthdate", "1993-08-06")):
        expect(row(userinfo, claim)).to_contain_text(value)
    id_token = page.locator("#id-token")
    expect(page.get_by_role("heading", name="Klaim ID token (terverifikasi)")).to_be_visible()
    expect(row(id_token, "iss")).to_contain_text(issuer)
    expect(row(id_token, "aud")).to_contain_text(printed["client_id"])
    expect(row(id_token, "nonce")).to_be_visible()
    sub = row(userinfo, "sub").locator("td")
    expect(row(id_token, "sub").locator("td")).to_have_text(sub.inner_text())

    link = page.get_by_role("link", name="Siapa yang menggunakan data saya?")
    expect(link).to_have_attribute("href", printed["who used my data"])
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Akun saya")
    states.check(page, "account after the demo sign-in")
    # the release, told as one sentence at once (still queued or integrated)
    release = page.locator("#access-log li.event", has_text=f"{DEMO_APP_NAME} menerima")
    expect(release.first).to_contain_text(
        "untuk Menampilkan nama, tanggal lahir dan email Anda di Layanan Contoh"
    )
    page.screenshot(path=str(tmp_path / "demo-access-log.png"), full_page=True)
    context.close()

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    _, server_log = process.communicate()
    (callback,) = callbacks
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))
    secrets_seen = (DEMO_NIK, DEMO_NAME, printed["password"], printed["client_secret"])
    for value in (*secrets_seen, query["code"], query["state"]):
        assert value not in server_log
    assert "Traceback" not in server_log
    assert states.violations == [], "\n".join(states.violations)
