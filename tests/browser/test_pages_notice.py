"""A relying app's privacy notice (UU PDP Art. 21) in a real browser (headless Chromium), in
both languages, on a phone 390 CSS pixels wide and on a desktop 1280 wide: a legal text in
a neutral style, not a green confirmation; an older version's "superseded" warning in a
caution style; the content hash behind "Detail teknis", wrapping inside the screen when
opened (WCAG 2.2 SC 1.4.10 Reflow), reachable and opened by the keyboard; axe-core finds no
violation in any of these states."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, expect

from identity.http.pages.i18n import Translator
from tests.browser.conftest import needs_chromium
from tests.browser.test_flow import _jati
from tests.helpers import operator_env, run_jati, serving

pytestmark = needs_chromium

WIDTHS = (390, 1280)
AXE = Axe()
ITEMS = (
    "legality", "purposes", "data_types", "retention", "details_collected",
    "processing_period", "rights",
)  # fmt: skip


def _publish(tmp_path: Path, env: dict[str, str], client_id: str, version: int) -> None:
    notice = tmp_path / f"notice-{version}.json"
    notice.write_text(
        json.dumps(
            {
                "controller": "Dinas Sosial Kota Contoh",
                "items": {
                    name: {"id": f"Teks {name} versi {version}", "en": f"{name} version {version}"}
                    for name in ITEMS
                },
                "dpo": {"name": "Pejabat Pelindungan Data", "email": "ppd@dinsos.example.go.id"},
            }
        )
    )
    _jati("notice", "publish", "--client", client_id, "--file", str(notice), cwd=tmp_path, env=env)


def _sideways(page: Page) -> int:
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def _violations(page: Page, state: str) -> list[str]:
    return [
        f"{state}: {v['id']} ({v['impact']}): {v['help']}"
        for v in AXE.run(page).response["violations"]
    ]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_superseded_notice_reads_as_a_legal_text_and_fits_a_phone(
    tmp_path: Path, database_url: str, browser: Browser, lang: str
) -> None:
    env = operator_env(tmp_path, database_url, JATI_LOG_LEVEL="WARNING")
    upgrade = run_jati("db", "upgrade", cwd=tmp_path, env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    app = _jati(
        "client", "add", "--name", "Layanan Kota", "--redirect-uri", "https://app.example/cb",
        "--scope", "openid", cwd=tmp_path, env=env,
    )  # fmt: skip
    client_id = app["client_id"]
    _publish(tmp_path, env, client_id, 1)
    _publish(tmp_path, env, client_id, 2)
    t = Translator(lang)
    violations: list[str] = []
    with serving(cwd=tmp_path, env=env) as (_process, base, _ready):
        context = browser.new_context(locale="id-ID")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/notices/{client_id}/1?lang={lang}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("p.caution")).to_contain_text(
            t("notice.superseded", version=1, current=2)
        )
        expect(page.locator(".notice")).to_have_count(0)  # no success style on a legal text
        summary = page.get_by_text(t("notice.technical"), exact=True)
        hash_code = page.locator("details.technical code.hash")
        expect(hash_code).to_be_hidden()
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            assert _sideways(page) <= 0, f"{lang} {width}px, closed: scrolls sideways"
            violations += _violations(page, f"{lang} {width}px, closed")
        # the keyboard opens "technical details": the hash wraps inside the phone's width
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        summary.focus()
        page.keyboard.press("Enter")
        expect(hash_code).to_be_visible()
        assert hash_code.inner_text().startswith("sha-256:")
        box = hash_code.bounding_box()
        assert box is not None and box["x"] + box["width"] <= WIDTHS[0], box
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            assert _sideways(page) <= 0, f"{lang} {width}px, opened: scrolls sideways"
            violations += _violations(page, f"{lang} {width}px, opened")
        page.goto(f"{base}/notices/{client_id}/2?lang={lang}")
        expect(page.locator("p.caution")).to_have_count(0)  # the current version
        violations += _violations(page, f"{lang} current version")
        context.close()
    assert not violations, "axe-core found violations:\n" + "\n".join(violations)
