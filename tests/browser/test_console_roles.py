"""Each console role's whole task in a real browser (issue 20, "Proof"), against a real
``jati serve``:

- an operator registers an app, adds its purpose and writes its privacy notice, all through
  the console's forms, previews the consent screen and publishes; a citizen who then signs
  in to that app sees exactly the screen the preview showed;
- an auditor finds a citizen by NIK, opens an entry, and the browser itself verifies its
  inclusion proof and the checkpoint's signature (a forged entry fails);
- a DPO completes an overdue access request that a citizen addressed to their app.

Each new page state is checked with axe-core at phone and desktop widths.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from consent.notices import NOTICE_ITEMS
from consent.storage.tables import ConsentRequest
from identity.http.pages.i18n import Translator
from identity.storage.database import Database
from tests.browser.axe_states import HEIGHT, WIDTHS, States
from tests.browser.conftest import needs_chromium
from tests.browser.test_console_pages import _activate, _h1, _sign_in
from tests.browser.test_flow import (
    APP_NAME,
    BIRTHDATE,
    NAME,
    NIK,
    PASSWORD,
    _authorization_url,
    _decide,
    _jati,
    _log_in,
    _set_up,
    callback_server,
)
from tests.helpers import operator_env, run_jati, serving

pytestmark = needs_chromium

APP = "Layanan Perizinan Usaha"
PURPOSE = "Mengurus izin usaha Anda"


def test_an_operators_app_purpose_and_notice_are_the_consent_screen_citizens_see(
    tmp_path: Path, database_url: str, browser: Browser
) -> None:
    t, states = Translator("id"), States("id")
    env = operator_env(tmp_path, database_url, JATI_LOG_LEVEL="WARNING")
    assert run_jati("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    _jati("citizen", "add", "--nik", NIK, "--name", NAME, "--birthdate", BIRTHDATE,
          "--password-stdin", cwd=tmp_path, env=env, stdin=PASSWORD + "\n")  # fmt: skip
    operator = _jati("staff", "add", "--name", "Staf operator", "--email",
                     "operator@kominfo.example.go.id", "--role", "operator",
                     cwd=tmp_path, env=env)  # fmt: skip
    with (
        callback_server() as (redirect_uri, _received),
        serving(cwd=tmp_path, env=env) as (_process, base, _ready),
    ):
        staff = browser.new_context(viewport={"width": WIDTHS[-1], "height": HEIGHT})
        page = staff.new_page()
        page.set_default_timeout(15_000)
        secret = _activate(page, base, t, states, operator, "operator")
        _sign_in(page, operator, secret)
        _h1(page, t("console.home"))

        page.get_by_role("link", name=t("console.apps.title")).click()
        page.fill("#app-name", APP)
        page.fill("#app-uris", redirect_uri)
        page.fill("#app-scope", "openid profile email")
        page.locator('form[action="/console/apps"] button[type=submit]').click()
        expect(page.get_by_role("status")).to_contain_text(t("console.apps.shown_once"))
        client_id = page.locator("dl.secret dd code").first.inner_text()

        page.get_by_role("link", name=t("console.purposes.title", app=APP)).click()
        page.fill("#p-code", "izin-usaha")
        page.fill("#p-id", PURPOSE)
        page.fill("#p-en", "Handle your business licence")
        page.select_option("#p-basis", "a")
        page.fill("#p-items", "name, email")
        page.fill("#p-days", "90")
        page.locator('form[action$="/purposes"] button[type=submit]').click()
        expect(page.get_by_role("status")).to_have_text(t("console.purposes.added"))

        page.goto(f"{base}/console/apps/{client_id}/notice")
        _h1(page, t("console.notice.title", app=APP))
        states.check(page, "notice form (empty)")
        page.fill("#f-controller", "Dinas Penanaman Modal dan PTSP")
        for name in NOTICE_ITEMS:
            page.fill(f"#f-{name}-id", f"Isi {name} untuk izin usaha.")
            page.fill(f"#f-{name}-en", f"The {name} for business licences.")
        page.fill("#f-dpo-name", "Pejabat Pelindungan Data DPMPTSP")
        page.fill("#f-dpo-email", "ppd@dpmptsp.example.go.id")
        page.get_by_role("button", name=t("console.notice.preview")).click()
        _h1(page, t("console.notice.preview_title"))
        expect(page.locator("section.preview button[value=submit]")).to_be_disabled()
        states.check(page, "notice preview")
        previewed = {
            "lead": page.locator("section.preview p.lead").inner_text(),
            "screen": page.locator("section.preview form.consent").inner_text(),
        }
        page.get_by_role("button", name=t("console.notice.publish")).click()
        expect(page.get_by_role("status")).to_have_text(t("console.notice.published"))
        states.check(page, "notice published")
        staff.close()

        citizen = browser.new_context(viewport={"width": WIDTHS[0], "height": HEIGHT})
        page = citizen.new_page()
        page.set_default_timeout(15_000)
        url, _verifier, _state = _authorization_url(base, client_id, redirect_uri)
        page.goto(url)
        _log_in(page)
        expect(page.get_by_role("heading", level=1)).to_have_text(t("consent.title"))
        seen = {
            "lead": page.locator("main p.lead").inner_text(),
            "screen": page.locator("form.consent").inner_text(),
        }
        assert seen == previewed
        assert PURPOSE in seen["screen"] and APP in seen["lead"]
        assert re.search(r"versi 1\)", seen["screen"])
        page.get_by_role("link", name=re.compile("pemberitahuan privasi lengkap")).click()
        expect(page.get_by_text("Isi retention untuk izin usaha.")).to_be_visible()
        citizen.close()
    assert states.violations == [], "\n".join(states.violations)


def test_an_auditor_finds_a_citizen_by_nik_and_the_browser_verifies_the_proof(
    tmp_path: Path, database_url: str, browser: Browser
) -> None:
    t, states = Translator("en"), States("en")
    env = operator_env(tmp_path, database_url, JATI_LOG_LEVEL="WARNING")
    assert run_jati("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    _jati("citizen", "add", "--nik", NIK, "--name", NAME, "--birthdate", BIRTHDATE,
          "--password-stdin", cwd=tmp_path, env=env, stdin=PASSWORD + "\n")  # fmt: skip
    auditor = _jati("staff", "add", "--name", "Pemeriksa", "--email", "auditor@bpk.example.go.id",
                    "--role", "auditor", cwd=tmp_path, env=env)  # fmt: skip
    with serving(cwd=tmp_path, env=env) as (_process, base, _ready):
        citizen = browser.new_context()  # the citizen signs in: an entry about them
        page = citizen.new_page()
        page.goto(f"{base}/login")
        _log_in(page)
        expect(page).to_have_url(re.compile(r"/account"))
        citizen.close()

        staff = browser.new_context(viewport={"width": WIDTHS[-1], "height": HEIGHT})
        page = staff.new_page()
        page.set_default_timeout(15_000)
        secret = _activate(page, base, t, states, auditor, "auditor")
        _sign_in(page, auditor, secret)
        page.goto(f"{base}/console/search?lang=en")
        page.fill("#nik", NIK)
        page.locator("form.filters button[type=submit]").click()
        page.locator("ol.story a").first.click()
        status = page.locator("[data-proof-status]")
        for _ in range(20):  # the checkpoint covers an entry within seconds
            if status.count():
                break
            page.wait_for_timeout(500)
            page.reload()
        expect(status).to_contain_text("Verified by this browser")
        states.check(page, "log entry verified in the browser")
        # a forged entry: the same proof no longer leads to the signed root
        page.evaluate(
            """() => { const s = document.querySelector('[data-proof]');
                       s.dataset.entry = btoa(atob(s.dataset.entry).replace('"v":1', '"v":2')); }"""
        )
        page.get_by_role("button", name=t("console.entry.browser_again")).click()
        expect(status).to_have_text(t("console.entry.browser_bad"))
        staff.close()
    assert states.violations == [], "\n".join(states.violations)


def test_a_dpo_completes_an_overdue_access_request(
    tmp_path: Path, database_url: str, browser: Browser
) -> None:
    """A citizen asks the app's controller for their data from the account page; three days
    and more pass; the app's DPO finds it first and marked overdue, and completes it; the
    citizen can then download the export."""
    t, states = Translator("id"), States("id")
    env = operator_env(tmp_path, database_url, JATI_LOG_LEVEL="WARNING")
    with callback_server() as (redirect_uri, _received):
        app = _set_up(tmp_path, env, redirect_uri)
        dpo = _jati("staff", "add", "--name", "Pejabat PD", "--email", "ppd@dinsos.example.go.id",
                    "--role", "dpo", "--app", app["client_id"], cwd=tmp_path, env=env)  # fmt: skip
        with serving(cwd=tmp_path, env=env) as (_process, base, _ready):
            citizen = browser.new_context(viewport={"width": WIDTHS[0], "height": HEIGHT})
            page = citizen.new_page()
            page.set_default_timeout(15_000)
            url, _verifier, _state = _authorization_url(base, app["client_id"], redirect_uri)
            page.goto(url)
            _log_in(page)
            _decide(page)  # the citizen uses the app: it becomes one to address
            page.wait_for_url(f"{redirect_uri}?*")
            page.goto(f"{base}/account#requests")
            page.locator("#kind-access").check()
            page.select_option("#request-to", label=APP_NAME)
            page.get_by_role("button", name=t("request.submit")).click()
            expect(
                page.locator("#requests h3").filter(has_text=t("request.to_app", app=APP_NAME))
            ).to_have_count(1)
            states.check(page, "account with a request to an app")
            _three_days_pass(tmp_path, database_url)

            staff = browser.new_context(viewport={"width": WIDTHS[-1], "height": HEIGHT})
            desk = staff.new_page()
            desk.set_default_timeout(15_000)
            secret = _activate(desk, base, t, states, dpo, "dpo")
            _sign_in(desk, dpo, secret)
            desk.get_by_role("link", name=t("console.requests.title")).click()
            _h1(desk, t("console.requests.title"))
            first = desk.locator("li.card").first
            expect(first).to_have_class(re.compile(r"\boverdue\b"))
            expect(first).to_contain_text("Terlambat")
            states.check(desk, "DPO requests, one overdue")
            first.get_by_role("button", name=t("console.requests.complete")).click()
            expect(desk.get_by_role("status")).to_have_text(t("console.requests.completed"))
            states.check(desk, "DPO request completed")
            staff.close()

            page.goto(f"{base}/account#requests")
            download_link = page.get_by_role("link", name=t("request.download"))
            with page.expect_download() as download:
                download_link.click()
            exported = Path(download.value.path()).read_text(encoding="utf-8")
            assert NAME in exported
            citizen.close()
    assert states.violations == [], "\n".join(states.violations)


def _three_days_pass(tmp_path: Path, database_url: str) -> None:
    """Move every request's receipt and due time back 80 hours, as three days passing would
    (the server reads them from the database on each page)."""
    database = Database(database_url)
    try:
        with database.write() as session:
            for row in session.scalars(select(ConsentRequest)):
                row.received_at -= timedelta(hours=80)
                if row.due_by is not None:
                    row.due_by -= timedelta(hours=80)
    finally:
        database.dispose()
