"""The console's pages in a real browser (headless Chromium), in both languages, each state
checked with axe-core at 390 and 1280 CSS pixels (:mod:`tests.browser.axe_states`): an
operator and an auditor made with ``jati staff add`` activate their accounts (password and
authenticator app), sign in with both, and open the pages of their role (the auditor
searches the log and opens an entry with its inclusion proof); a wrong code, a wrong
activation code and a malformed NIK are refused first."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from identity.http.pages.i18n import Translator
from tests.browser.axe_states import HEIGHT, WIDTHS, States
from tests.browser.conftest import needs_chromium
from tests.browser.test_flow import _jati
from tests.helpers import operator_env, run_jati, serving
from tests.pages_helpers import totp_code

pytestmark = needs_chromium

PASSWORD = "kata sandi staf yang panjang"


def _h1(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _steady() -> None:
    """Wait out the last seconds of a 30-second step, so that a code typed now is checked in
    the step it was made for (the browser and the server share this machine's clock)."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.1)


def _secret(page: Page) -> bytes:
    text = page.locator("#totp-secret").inner_text().replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def _activate(page: Page, base: str, t: Translator, states: States, staff: dict[str, str],
              role: str) -> bytes:  # fmt: skip
    page.goto(f"{base}/console/activate?lang={states.lang}")
    _h1(page, t("console.activate.title"))
    page.fill("#email", staff["email"])
    page.fill("#code", staff["activation_code"])
    page.locator("form button[type=submit]").click()
    _h1(page, t("console.setup.title"))
    if role == "operator":
        states.check(page, "console setup")
    secret = _secret(page)
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    _steady()
    page.fill("#code", totp_code(secret, time.time() - 30))
    page.locator("form button[type=submit]").click()
    _h1(page, t("console.login.title"))
    expect(page.get_by_role("status")).to_have_text(t("console.activated"))
    if role == "operator":
        states.check(page, "console login after activation")
    return secret


def _sign_in(page: Page, staff: dict[str, str], secret: bytes, code: str | None = None) -> None:
    page.fill("#email", staff["email"])
    page.fill("#password", PASSWORD)
    _steady()
    page.fill("#code", code or totp_code(secret))
    page.locator('form[action="/console/login"] button[type=submit]').click()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_staff_activate_sign_in_and_open_their_pages(
    tmp_path: Path, database_url: str, browser: Browser, lang: str
) -> None:
    t, states = Translator(lang), States(lang)
    env = operator_env(tmp_path, database_url, JATI_LOG_LEVEL="WARNING")
    assert run_jati("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    app = _jati(
        "client",
        "add",
        "--name",
        "Layanan Bansos",
        "--redirect-uri",
        "https://bansos.example.go.id/cb",
        "--scope",
        "openid",
        cwd=tmp_path,
        env=env,
    )
    people = {
        role: _jati("staff", "add", "--name", f"Staf {role}", "--email",
                    f"{role}@kominfo.example.go.id", "--role", role,
                    *(("--app", app["client_id"]) if role == "dpo" else ()),
                    cwd=tmp_path, env=env)
        for role in ("operator", "auditor", "dpo")
    }  # fmt: skip
    with serving(cwd=tmp_path, env=env) as (_process, base, _ready):
        context = browser.new_context(viewport={"width": WIDTHS[-1], "height": HEIGHT})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/console?lang={lang}")
        _h1(page, t("console.signed_out.title"))
        states.check(page, "console without a session")
        page.goto(f"{base}/console/activate?lang={lang}")
        states.check(page, "console activation")
        page.fill("#email", people["operator"]["email"])
        page.fill("#code", "AAAA-BBBB-CCCC-DDDD")
        page.locator("form button[type=submit]").click()
        expect(page.get_by_role("alert")).to_contain_text(t("console.activate.refused"))
        states.check(page, "console activation refused")
        secrets_ = {r: _activate(page, base, t, states, people[r], r) for r in people}

        _sign_in(page, people["operator"], secrets_["operator"], code="000000")
        expect(page.get_by_role("alert")).to_contain_text(t("console.login.refused"))
        states.check(page, "console login refused")
        _sign_in(page, people["operator"], secrets_["operator"])
        _h1(page, t("console.home"))
        states.check(page, "console home (operator)")
        page.get_by_role("link", name=t("console.status.title")).click()
        _h1(page, t("console.status.title"))
        states.check(page, "service status")
        page.goto(f"{base}/console/keys?lang={lang}")
        _h1(page, t("console.keys.title"))
        states.check(page, "signing keys")
        page.fill("#code", "000000")
        page.locator('form[action="/console/keys/rotate"] button').click()
        expect(page.get_by_role("alert")).to_contain_text(t("console.reauth.refused"))
        states.check(page, "key rotation refused")
        page.goto(f"{base}/console/apps?lang={lang}")
        _h1(page, t("console.apps.title"))
        page.fill("#app-name", "Layanan Kota")
        page.fill("#app-uris", "https://layanan.example.go.id/cb")
        page.locator('form[action="/console/apps"] button[type=submit]').click()
        expect(page.get_by_role("status")).to_contain_text(t("console.apps.shown_once"))
        states.check(page, "relying app registered")
        page.get_by_role("link", name=t("console.purposes.title", app="Layanan Kota")).click()
        page.fill("#p-code", "izin-usaha")
        page.fill("#p-id", "Mengurus izin usaha")
        page.fill("#p-items", "name, income:specific")
        page.fill("#p-days", "90")
        page.locator('form[action$="/purposes"] button[type=submit]').click()
        expect(page.get_by_role("status")).to_have_text(t("console.purposes.added"))
        states.check(page, "purpose added")
        page.goto(f"{base}/console/apps?lang={lang}")
        page.get_by_role("link", name=t("console.app.title", app="Layanan Kota")).click()
        page.fill("#app-uris", "http://layanan.example.go.id/cb")
        page.locator('form[action$="/redirect-uris"] button[type=submit]').click()
        expect(page.get_by_role("alert")).to_contain_text(t("console.app.uris_refused"))
        states.check(page, "redirect URIs refused")
        page.goto(f"{base}/console/log-integrity")
        _h1(page, t("console.forbidden.title"))
        states.check(page, "another role's page")
        page.goto(f"{base}/console")
        page.locator('header form[action="/console/logout"] button').click()
        _h1(page, t("console.login.title"))

        _sign_in(page, people["auditor"], secrets_["auditor"], code=totp_code(
            secrets_["auditor"], time.time() + 30))  # fmt: skip
        _h1(page, t("console.home"))
        page.get_by_role("link", name=t("console.integrity.title")).click()
        _h1(page, t("console.integrity.title"))
        states.check(page, "log integrity")
        page.goto(f"{base}/console/search?lang={lang}")
        _h1(page, t("console.search.title"))
        page.fill("#nik", "1234")
        page.locator("form.filters button[type=submit]").click()
        expect(page.get_by_role("alert")).to_contain_text(t("console.search.bad_nik"))
        expect(page.locator("#nik")).to_have_value("")  # never repeated
        states.check(page, "log search refused")
        page.locator("form.filters button[type=submit]").click()
        expect(page.get_by_role("heading", name=t("console.search.results"))).to_be_visible()
        states.check(page, "log search results")
        page.locator("ol.story a").first.click()
        expect(page.get_by_role("heading", level=2, name=t("console.entry.proof"))).to_be_visible()
        states.check(page, "log entry")
        page.goto(f"{base}/console?lang={lang}")
        page.get_by_role("link", name=t("console.charts.title")).click()
        _h1(page, t("console.charts.title"))
        expect(page.locator("svg[role=img]")).to_have_count(4)
        states.check(page, "charts")
        page.goto(f"{base}/console?lang={lang}")  # an auditor downloads a breach report
        page.get_by_role("link", name=t("console.breach.title")).click()
        _h1(page, t("console.breach.title"))
        expect(page.locator("#with-contact")).to_have_count(0)  # never an auditor's
        today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 3600))
        page.fill("#since", today)
        page.fill("#until", today)
        states.check(page, "auditor's breach report")
        with page.expect_download() as download:
            page.locator('button[name="format"][value="csv"]').click()
        assert download.value.suggested_filename == "jati-breach-report.csv"
        csv = Path(download.value.path()).read_text(encoding="utf-8")
        assert csv.startswith("citizen_id,")
        page.goto(f"{base}/console")
        page.locator('header form[action="/console/logout"] button').click()

        _sign_in(page, people["dpo"], secrets_["dpo"], code=totp_code(
            secrets_["dpo"], time.time() + 30))  # fmt: skip
        page.get_by_role("link", name=t("console.breach.title")).click()
        _h1(page, t("console.breach.title"))
        today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 3600))
        page.fill("#since", today)
        page.fill("#until", today)
        page.locator('form[action="/console/breach"] button[type=submit]').first.click()
        expect(
            page.get_by_role("heading", name=t("console.breach.affected", count=0))
        ).to_be_visible()
        states.check(page, "breach report")
        context.close()
    assert len(states.seen) == 21, states.seen
    assert states.violations == [], "\n".join(states.violations)
