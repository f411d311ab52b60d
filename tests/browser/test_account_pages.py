"""The citizen's account pages in a real browser (headless Chromium), in both languages, each
state checked with axe-core at 390 and 1280 CSS pixels (:mod:`tests.browser.axe_states`):

1. a sign-in to the app with consent, the app's token and userinfo calls;
2. *who used my data*: the release as one plain sentence, newest first, in WIB; with the
   keyboard alone, the zone changed to WITA and an event's raw entries opened, down to the
   inclusion proof's link;
3. *connected apps*: withdrawals there (the app then listed as no longer connected), and
   the log showing them at once;
4. a request sent after the session expired: the login page says nothing was sent, and after
   sign-in the form is back, refilled;
5. erasure: its page, a wrong password refused, then with the keyboard alone, erased.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, text

from identity.http.pages.i18n import Translator
from tests.browser.axe_states import HEIGHT, WIDTHS, States
from tests.browser.conftest import needs_chromium
from tests.browser.test_flow import (
    APP_NAME,
    BIRTHDATE,
    NAME,
    NIK,
    PASSWORD,
    PURPOSE_A,
    _authorization_url,
    _basic,
    _call,
    _set_up,
    callback_server,
)
from tests.helpers import operator_env, serving

pytestmark = needs_chromium

NEW_EMAIL = "alamat.baru@contoh.go.id"
PURPOSES_EN = {PURPOSE_A: "Assess social aid eligibility"}


def _h1(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _sign_in(page: Page, t: Translator) -> None:
    _h1(page, t("login.title"))
    page.fill("#nik", NIK)
    page.fill("#password", PASSWORD)
    page.locator("form:has(#password) button[type=submit]").click()


def _tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until ``selector`` has the focus (the keyboard alone)."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _expire_sessions(database_url: str) -> None:
    """Every session expires (a minute ago), as after a long pause on a form."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE identity_session SET expires_at = :at"),
            {"at": datetime.now(UTC) - timedelta(minutes=1)},
        )
    engine.dispose()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_account_pages_read_plainly_pass_axe_and_work_by_keyboard(
    tmp_path: Path, database_url: str, browser: Browser, lang: str
) -> None:
    t = Translator(lang)
    states = States(lang)
    purpose_a = PURPOSE_A if lang == "id" else PURPOSES_EN[PURPOSE_A]
    env = operator_env(tmp_path, database_url, JATI_LOG_LEVEL="WARNING")
    with callback_server() as (redirect_uri, received):
        app = _set_up(tmp_path, env, redirect_uri)
        with serving(cwd=tmp_path, env=env) as (_process, base, _ready):
            context = browser.new_context(
                locale="id-ID" if lang == "id" else "en-GB",
                viewport={"width": WIDTHS[-1], "height": HEIGHT},
            )
            page = context.new_page()
            page.set_default_timeout(15_000)

            # 1. the app's sign-in with consent, then its back channel
            url, verifier, _state = _authorization_url(base, app["client_id"], redirect_uri)
            page.goto(f"{url}&ui_locales={lang}")
            _sign_in(page, t)
            _h1(page, t("consent.title"))
            for group in page.get_by_role("group").all():
                group.get_by_label(t("consent.agree"), exact=True).check()
            page.get_by_role("button", name=t("consent.submit")).click()
            page.wait_for_url(f"{redirect_uri}?*")
            status, tokens = _call(
                f"{base}/token",
                data={"grant_type": "authorization_code", "code": received[-1]["code"],
                      "redirect_uri": redirect_uri, "code_verifier": verifier},
                headers=_basic(app["client_id"], app["client_secret"]),
            )  # fmt: skip
            assert status == 200, tokens
            status, claims = _call(
                f"{base}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
            )
            assert status == 200 and claims["name"] == NAME

            # 2. who used my data: the account page's latest events, then the whole story
            page.goto(f"{base}/account?lang={lang}")
            _h1(page, t("account.title"))
            expect(page.locator("#access-log li.event").first).to_be_visible()
            states.check(page, "account")
            page.get_by_role("link", name=t("activity.see_all")).click()
            _h1(page, t("account.access_log"))
            first = page.locator("li.event").first
            expect(first.locator(".sentence")).to_contain_text(f"{APP_NAME} ")
            expect(first.locator(".sentence")).to_contain_text(purpose_a)
            expect(first.locator("time")).to_contain_text(" WIB")
            times = page.locator("li.event > .when time").evaluate_all(
                "nodes => nodes.map(n => n.getAttribute('datetime'))"
            )
            assert times == sorted(times, reverse=True) and len(times) >= 3
            states.check(page, "activity")
            proof_links = page.locator("a[href^='/audit/proof/inclusion']")
            for _ in range(20):  # a checkpoint covers new entries within 5 s (DESIGN.md)
                if proof_links.count():
                    break
                page.wait_for_timeout(500)
                page.reload()
            assert proof_links.count(), "no entry was covered by a checkpoint"

            # ... with the keyboard alone: the zone, then an event's raw entries and proof
            _tab_to(page, "#f-zone")
            page.keyboard.press("ArrowDown")  # WIB -> WITA
            _tab_to(page, "form.filters button[type=submit]")
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"tz=WITA"))
            expect(page.locator("li.event time").first).to_contain_text(" WITA")
            _tab_to(page, "li.event >> nth=0 >> summary")
            page.keyboard.press("Enter")
            expect(page.locator("li.event").first.locator("code.entry").first).to_be_visible()
            states.check(page, "activity with raw entries")
            proof = page.locator("li.event").first.locator("a[href^='/audit/proof/inclusion']")
            expect(proof.first).to_be_visible()
            _tab_to(page, "li.event >> nth=0 >> a[href^='/audit/proof/inclusion'] >> nth=0")
            href = proof.first.get_attribute("href") or ""
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"/audit/proof/inclusion\?"))
            body = json.loads(page.locator("body").inner_text())
            leaf = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)["leaf_index"]
            assert body["leaf_index"] == int(leaf[0]) and body["inclusion_path"] is not None
            page.go_back()
            page.goto(f"{base}/account/activity?lang={lang}&app={app['client_id']}&period=7")
            expect(page.locator("#f-app")).to_have_value(app["client_id"])
            states.check(page, "activity filtered")
            page.goto(f"{base}/account/activity?lang={lang}&app=no-such-app&period=30")
            expect(page.locator("p.empty")).to_have_text(t("activity.no_match"))
            states.check(page, "activity with nothing to show")

            # 3. connected apps: withdraw there; the log shows it at once
            page.goto(f"{base}/account/apps?lang={lang}")
            _h1(page, t("apps.title"))
            states.check(page, "connected apps")
            page.get_by_role(
                "button", name=t("account.withdraw_label", purpose=purpose_a, app=APP_NAME)
            ).click()
            expect(page.get_by_role("status").first).to_contain_text(t("account.withdrawn"))
            states.check(page, "connected apps after a withdrawal")
            page.get_by_role("button", name=t("account.withdraw")).click()  # the last one
            expect(page.get_by_role("heading", name=t("apps.former"))).to_be_visible()
            expect(page.locator("p.empty")).to_have_text(t("apps.none"))
            states.check(page, "connected apps, none in force")
            page.goto(f"{base}/account/activity?lang={lang}")
            expect(page.locator("li.event .sentence").first).to_contain_text(purpose_a)
            expect(page.locator("li.event .sentence").first).to_contain_text(
                "menarik" if lang == "id" else "withdrew"
            )
            states.check(page, "activity right after a withdrawal")

            # 4. a correction sent after the session expired comes back refilled
            page.goto(f"{base}/account?lang={lang}")
            page.locator("#kind-correction").check()
            page.fill("#field-email", NEW_EMAIL)
            _expire_sessions(database_url)
            page.locator('form[action="/account/requests"] button[type=submit]').click()
            expect(page.get_by_role("status")).to_contain_text(t("intent.waiting")[:30])
            states.check(page, "login after the session expired")
            _sign_in(page, t)
            _h1(page, t("account.title"))
            expect(page.locator("#kind-correction")).to_be_checked()
            expect(page.locator("#field-email")).to_have_value(NEW_EMAIL)
            expect(page.get_by_role("status").first).to_contain_text(t("intent.title"))
            states.check(page, "account refilled after sign-in")

            # 5. erasure: its page, a wrong password, then the keyboard alone
            page.goto(f"{base}/account/erase?lang={lang}")
            _h1(page, t("erase.title"))
            expect(page.locator("main")).to_contain_text(t("erase.no_apps"))  # all withdrawn
            states.check(page, "erasure")
            page.locator("#confirm-erasure").check()
            page.fill("#erase-password", "bukan kata sandinya")
            page.locator('form[action="/account/erase"] button[type=submit]').first.click()
            expect(page.get_by_role("alert")).to_contain_text(t("erase.password_wrong"))
            states.check(page, "erasure refused")
            page.goto(f"{base}/account/erase?lang={lang}")
            _tab_to(page, "#confirm-erasure")
            page.keyboard.press("Space")
            _tab_to(page, "#erase-password")
            page.keyboard.type(PASSWORD)
            _tab_to(page, 'form[action="/account/erase"]:not([data-passkey]) button')
            page.keyboard.press("Enter")
            _h1(page, t("erased.title"))
            states.check(page, "erased")
            page.goto(f"{base}/account")
            _h1(page, t("login.title"))
            context.close()
    assert len(states.seen) == 14, states.seen
    assert states.violations == [], "\n".join(states.violations)
    assert BIRTHDATE  # the citizen of tests/browser/test_flow.py
