"""Citizens get in and back in on their own, in a real browser (issue 18, "Proof"): headless
Chromium (Debian's ``chromium``, driven by Playwright) with a CDP virtual authenticator
(``WebAuthn.addVirtualAuthenticator``: CTAP2, internal, resident keys, user verification)
against a real ``jati serve`` whose issuer is ``http://localhost:PORT`` (WebAuthn refuses an
IP address as the relying party ID), set up with the real CLI:

1. activation with a passkey: ``jati citizen add`` prints an activation code; a wrong code
   is refused, the right one leads to the setup page, the passkey is made, and the recovery
   codes are shown once;
2. the passkey signs in to a relying app (discoverable, no NIK typed): the app gets a code;
3. a password session steps up for ``acr_values=urn:jati:acr:mfa`` with a passkey;
4. a recovery code signs in to a restricted session: the account page with its banner, and
   ``/authorize`` gives no app a code from it;
5. ``jati citizen reset-access`` ends the browser's session, the passkey no longer signs
   in, and the new activation code activates the account again;
6. "Perangkat dan sesi": one browser signs another out.

Every page state reached on the way (forms, their errors, the recovery codes, the step-up,
the account page's passkeys, recovery, sessions and restricted banner, the help page, the
passkey error page) is checked with axe-core (``axe-playwright-python``) at 390 px and
1280 px wide; the flows run once in each language (``?lang=id``, ``?lang=en``). Violations
are collected over the whole run and reported together: rule, targets and help.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, expect

from identity.http.pages.i18n import Translator
from identity.oidc.tokens import ACR_MULTI_FACTOR
from tests.browser.axe_states import HEIGHT, WIDTHS, States
from tests.browser.conftest import needs_chromium
from tests.browser.test_flow import _authorization_url, _jati, callback_server
from tests.helpers import operator_env, run_jati, serving
from tests.personal_data import seeded

pytestmark = needs_chromium

#: The passkey citizen (activated in the browser) and the password citizen, per language.
PASSKEY_CITIZENS = {
    "id": seeded("3171014503880004", "Ratna Wulandari", "1988-03-05"),
    "en": seeded("3171016707910006", "Agus Salim Nugroho", "1991-07-27"),
}
PASSWORD_CITIZENS = {
    "id": seeded("3171011212850003", "Bambang Setiawan", "1985-12-12"),
    "en": seeded("3171010909930005", "Sri Mulyani Hartati", "1993-09-09"),
}
PASSWORD = "kata sandi warga yang panjang"
NEW_PASSWORD = "kata sandi baru setelah diatur ulang"
WRONG_CODE = "AAAA-BBBB-CCCC-DDDD"
APP_NAME = "Layanan Perizinan Kota"
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}
#: Every state the flows must have checked, in each language.
STATES = {
    "activation form", "activation error", "activation setup", "recovery codes",
    "account after activation", "login with passkey",
    "login with passkey refused by the authenticator", "help", "recovery sign-in",
    "recovery sign-in error", "restricted account", "passkey error",
    "activation setup after reset", "activation setup error", "account with password",
    "account with passkey added", "step-up", "account with two sessions",
    "account session ended",
}  # fmt: skip


# ---------------------------------------------------------------- the world


@dataclass
class World:
    """The server, the relying app and the operator's CLI of one language's run."""

    tmp_path: Path
    env: dict[str, str]
    base: str
    client_id: str
    redirect_uri: str
    received: list[dict[str, str]]

    def jati(self, *args: str, stdin: str | None = None) -> dict[str, Any]:
        return _jati(*args, cwd=self.tmp_path, env=self.env, stdin=stdin)

    def authorization_url(self, **extra: str) -> str:
        url, _verifier, _state = _authorization_url(self.base, self.client_id, self.redirect_uri)
        return f"{url}&{urllib.parse.urlencode(extra)}" if extra else url


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    env = operator_env(tmp_path, database_url, JATI_LOG_LEVEL="WARNING")
    upgrade = run_jati("db", "upgrade", cwd=tmp_path, env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    with callback_server() as (redirect_uri, received):
        app = _jati(
            "client", "add", "--name", APP_NAME, "--redirect-uri", redirect_uri,
            "--scope", "openid profile email", cwd=tmp_path, env=env,
        )  # fmt: skip
        # bound to localhost: the issuer (and the passkeys' RP ID) is http://localhost:PORT
        with serving("--host", "localhost", cwd=tmp_path, env=env) as (_process, base, _ready):
            yield World(
                tmp_path, env, base.replace("127.0.0.1", "localhost"), app["client_id"],
                redirect_uri, received,
            )  # fmt: skip


@dataclass
class Tab:
    """A browser of its own (cookie jar) with one page and its virtual authenticator."""

    context: BrowserContext
    page: Page
    cdp: CDPSession
    authenticator_id: str

    def user_verified(self, verified: bool) -> None:
        """Whether the authenticator verifies the user (False: it refuses every ceremony)."""
        self.cdp.send(
            "WebAuthn.setUserVerified",
            {"authenticatorId": self.authenticator_id, "isUserVerified": verified},
        )


def _new_tab(browser: Browser, lang: str) -> Tab:
    context = browser.new_context(
        locale="id-ID" if lang == "id" else "en-GB",
        viewport={"width": WIDTHS[-1], "height": HEIGHT},
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return Tab(context, page, cdp, added["authenticatorId"])


def _heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _submit(page: Page, form: str) -> None:
    page.locator(f"{form} button[type=submit]").click()


def _passkey_button(page: Page, kind: str) -> None:
    """Wait for the script to reveal the passkey form, then use it."""
    form = page.locator(f"form[data-passkey={kind}]")
    expect(form).to_be_visible()
    form.locator("button[type=submit]").click()


def _activate(page: Page, nik: str, birthdate: str, code: str) -> None:
    page.fill("#nik", nik)
    page.fill("#birthdate", birthdate)
    page.fill("#code", code)
    _submit(page, 'form[action="/activate"]')


def _password_login(page: Page, world: World, nik: str, lang: str) -> None:
    page.goto(f"{world.base}/login?lang={lang}")
    page.fill("#nik", nik)
    page.fill("#password", PASSWORD)
    _submit(page, "form:has(#password)")


def _sign_out(page: Page) -> None:
    _submit(page, 'header form[action="/logout"]')


def _code_arrives(page: Page, world: World, before: int) -> None:
    page.wait_for_url(f"{world.redirect_uri}?*")
    assert len(world.received) == before + 1 and "code" in world.received[-1]
    assert world.received[-1]["iss"] == world.base


# ---------------------------------------------------------------- the flows


@dataclass(frozen=True)
class Run:
    """One language's run: the world, the states checked so far, the page's words."""

    world: World
    states: States
    t: Translator

    @property
    def lang(self) -> str:
        return self.states.lang


def _activation_with_a_passkey(
    run: Run, page: Page, nik: str, birthdate: str, code: str
) -> list[str]:
    """1. The code ``jati citizen add`` printed; a wrong code first. Returns the recovery
    codes shown."""
    world, states, t = run.world, run.states, run.t
    page.goto(f"{world.base}/activate?lang={run.lang}")
    _heading(page, t("activate.title"))
    states.check(page, "activation form")
    _activate(page, nik, birthdate, WRONG_CODE)
    expect(page.get_by_role("alert")).to_contain_text(t("activate.refused")[:40])
    expect(page.locator("#nik")).to_have_value(nik)
    states.check(page, "activation error")
    _activate(page, nik, birthdate, code)
    _heading(page, t("activate.setup.title"))
    expect(page.locator("form[data-passkey=create]")).to_be_visible()
    states.check(page, "activation setup")
    page.fill("#passkey-name", "Ponsel")
    _passkey_button(page, "create")
    _heading(page, t("recovery.title"))
    codes = page.locator("ol.codes code").all_inner_texts()
    assert len(codes) == 10
    states.check(page, "recovery codes")
    page.get_by_role("link", name=t("recovery.saved")).click()
    _heading(page, t("account.title"))
    expect(page.locator("#passkeys .card h3")).to_have_text(["Ponsel"])
    states.check(page, "account after activation")
    return codes


def _passkey_sign_in_to_the_app(run: Run, tab: Tab) -> None:
    """2. Signed out, the app's request: the passkey (no NIK typed) gives the app a code;
    an authenticator refusing user verification first leaves a message and sends nothing."""
    world, states, t, page = run.world, run.states, run.t, tab.page
    _sign_out(page)
    page.goto(world.authorization_url())
    _heading(page, t("login.title"))
    expect(page.locator("form[data-passkey=get]")).to_be_visible()
    states.check(page, "login with passkey")
    before = len(world.received)
    tab.user_verified(False)
    _passkey_button(page, "get")
    status = page.locator("[data-passkey-status]")
    expect(status).to_have_text(t("passkey.cancelled"))
    expect(status).to_be_focused()
    states.check(page, "login with passkey refused by the authenticator")
    tab.user_verified(True)
    _passkey_button(page, "get")
    _code_arrives(page, world, before)


def _recovery_code_sign_in(run: Run, page: Page, nik: str, birthdate: str, code: str) -> None:
    """4. From the help page, NIK, birth date and a code (a wrong one first): a restricted
    session, the account page with its banner, and no code for any app."""
    world, states, t = run.world, run.states, run.t
    page.goto(f"{world.base}/help/sign-in")
    _heading(page, t("help.title"))
    states.check(page, "help")
    page.get_by_role("link", name=t("recovery_login.title")).click()
    _heading(page, t("recovery_login.title"))
    states.check(page, "recovery sign-in")
    page.fill("#nik", nik)
    page.fill("#birthdate", birthdate)
    page.fill("#code", WRONG_CODE)
    _submit(page, 'form[action="/login/recovery"]')
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#code")).to_have_value("")  # never echoed
    states.check(page, "recovery sign-in error")
    page.fill("#code", code)
    _submit(page, 'form[action="/login/recovery"]')
    _heading(page, t("account.title"))
    expect(page.locator("#restricted-heading")).to_have_text(t("recovery.banner_title"))
    states.check(page, "restricted account")
    before = len(world.received)
    page.goto(world.authorization_url())
    _heading(page, t("login.title"))  # a restricted session is no session here
    assert len(world.received) == before


def _operator_reset(
    run: Run, page: Page, citizen_id: str, nik: str, birthdate: str, old_code: str
) -> None:
    """5. On the login page of the app's request, the passkey signs in fully; then
    ``jati citizen reset-access``: the session is over, the passkey refused, the old code
    spent, and the new one activates (with a password this time; a mismatch first)."""
    world, states, t = run.world, run.states, run.t
    _passkey_button(page, "get")
    page.wait_for_url(f"{world.redirect_uri}?*")
    page.goto(f"{world.base}/account")
    _heading(page, t("account.title"))
    new_code = world.jati("citizen", "reset-access", citizen_id)["activation_code"]
    seeded(new_code)
    page.goto(f"{world.base}/account")
    _heading(page, t("login.title"))
    _passkey_button(page, "get")
    _heading(page, t("passkey.refused.title"))
    states.check(page, "passkey error")
    page.goto(f"{world.base}/activate")
    _activate(page, nik, birthdate, old_code)
    expect(page.get_by_role("alert")).to_be_visible()
    _activate(page, nik, birthdate, new_code)
    _heading(page, t("activate.setup.title"))
    states.check(page, "activation setup after reset")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_repeat", NEW_PASSWORD[::-1])
    _submit(page, 'form[action="/activate/setup"]')
    expect(page.get_by_role("alert")).to_contain_text(t("activate.setup.mismatch"))
    expect(page.locator("#password_repeat")).to_have_attribute("aria-invalid", "true")
    states.check(page, "activation setup error")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_repeat", NEW_PASSWORD)
    _submit(page, 'form[action="/activate/setup"]')
    _heading(page, t("account.title"))
    expect(page.locator("#passkeys .card")).to_have_count(0)


def _step_up_with_a_passkey(run: Run, page: Page, nik: str) -> None:
    """3. A password session adds a passkey on the account page, and the passkey meets the
    app's ``acr_values=urn:jati:acr:mfa``."""
    world, states, t = run.world, run.states, run.t
    _password_login(page, world, nik, run.lang)
    _heading(page, t("account.title"))
    states.check(page, "account with password")
    page.fill("#new-passkey-name", "Laptop")
    _passkey_button(page, "create")
    _heading(page, t("recovery.title"))
    page.get_by_role("link", name=t("recovery.saved")).click()
    expect(page.get_by_role("status")).to_have_text(t("passkeys.added"))
    states.check(page, "account with passkey added")
    before = len(world.received)
    page.goto(world.authorization_url(acr_values=ACR_MULTI_FACTOR))
    _heading(page, t("passkey.signin.title"))
    assert urllib.parse.urlsplit(page.url).path == "/login/passkey"
    expect(page.locator("p.lead")).to_have_text(t("passkey.step_up", app=APP_NAME))
    states.check(page, "step-up")
    _passkey_button(page, "get")
    _code_arrives(page, world, before)


def _other_session_signed_out(run: Run, browser: Browser, page: Page, nik: str) -> None:
    """6. Another browser signs in; this one ends it from "Perangkat dan sesi"."""
    world, states, t = run.world, run.states, run.t
    other = _new_tab(browser, run.lang)
    _password_login(other.page, world, nik, run.lang)
    _heading(other.page, t("account.title"))
    page.goto(f"{world.base}/account#sessions")
    sessions = page.locator("#sessions .card")
    expect(sessions).to_have_count(2)
    states.check(page, "account with two sessions")
    _submit(page, '#sessions form[action$="/end"]')
    expect(sessions).to_have_count(1)
    states.check(page, "account session ended")
    other.page.goto(f"{world.base}/account")
    _heading(other.page, t("login.title"))
    other.context.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_activation_passkeys_recovery_reset_and_sessions_pass_axe(
    world: World, browser: Browser, lang: str
) -> None:
    run = Run(world, States(lang), Translator(lang))
    nik, name, birthdate = PASSKEY_CITIZENS[lang]
    added = world.jati("citizen", "add", "--nik", nik, "--name", name, "--birthdate", birthdate)
    citizen_id, code = added["id"], added["activation_code"]
    seeded(code)
    tab = _new_tab(browser, lang)
    recovery_codes = _activation_with_a_passkey(run, tab.page, nik, birthdate, code)
    _passkey_sign_in_to_the_app(run, tab)
    _recovery_code_sign_in(run, tab.page, nik, birthdate, recovery_codes[0])
    _operator_reset(run, tab.page, citizen_id, nik, birthdate, code)
    tab.context.close()

    nik, name, birthdate = PASSWORD_CITIZENS[lang]
    world.jati(
        "citizen", "add", "--nik", nik, "--name", name, "--birthdate", birthdate,
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    tab = _new_tab(browser, lang)
    _step_up_with_a_passkey(run, tab.page, nik)
    _other_session_signed_out(run, browser, tab.page, nik)
    tab.context.close()

    assert set(run.states.seen) >= STATES, STATES - set(run.states.seen)
    violations = run.states.violations
    assert not violations, "axe-core found violations:\n" + "\n".join(violations)
