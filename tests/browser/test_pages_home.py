"""The front page in a real browser (headless Chromium, as in ``test_flow.py``): on a phone
390 CSS pixels wide it never scrolls sideways (WCAG 2.2 SC 1.4.10 Reflow), in either
language; the keyboard reaches the skip link first; the landmarks and headings are what a
screen reader announces."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.browser.axe_states import States
from tests.browser.conftest import needs_chromium
from tests.helpers import operator_env, run_jati, serving

PHONE = {"width": 390, "height": 844}

pytestmark = needs_chromium


def test_front_page_fits_a_phone_and_reads_in_order(
    tmp_path: Path, database_url: str, browser: Browser
) -> None:
    env = operator_env(tmp_path, database_url)
    upgrade = run_jati("db", "upgrade", cwd=tmp_path, env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    with serving(cwd=tmp_path, env=env) as (_process, base, _ready):
        context = browser.new_context(viewport=PHONE, is_mobile=True, locale="id-ID")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(base + "/")
        for lang, title, citizens in (
            ("id", "Satu identitas digital untuk layanan publik", "Untuk warga"),
            ("en", "One digital identity for public services", "For citizens"),
        ):
            if lang == "en":
                page.get_by_role("link", name="Ganti bahasa ke English").click()
            expect(page.locator("html")).to_have_attribute("lang", lang)
            expect(page.get_by_role("heading", level=1)).to_have_text(title)
            expect(page.get_by_role("heading", level=2).first).to_have_text(citizens)
            expect(page.get_by_role("main")).to_have_count(1)
            expect(page.get_by_role("banner")).to_have_count(1)
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{lang}: the page scrolls sideways by {overflow}px"
            checked = States(lang)
            checked.check(page, "front page")
            assert checked.violations == [], "\n".join(checked.violations)
            page.set_viewport_size(PHONE)
            page.screenshot(path=str(tmp_path / f"home-{lang}.png"), full_page=True)
        page.keyboard.press("Tab")  # the first stop is the skip link, then the content
        expect(page.locator(".skip")).to_be_focused()
        page.keyboard.press("Enter")
        # Following a same-page link updates the address asynchronously: wait for it.
        expect(page).to_have_url(re.compile(r"#main$"))
        expect(page.locator("#main")).to_be_in_viewport()
        context.close()
