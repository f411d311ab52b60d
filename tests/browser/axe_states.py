"""axe-core over the states a browser test reaches (``axe-playwright-python``), at a phone's
width (390 CSS pixels) and a desktop's (1280): every violation, and any sideways scroll at
390 px (WCAG 2.2 SC 1.4.10 Reflow: nothing important off-screen), is collected with the
state's name, and the test asserts none at its end."""

from __future__ import annotations

from dataclasses import dataclass, field

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Page, expect

WIDTHS = (390, 1280)
HEIGHT = 900
AXE = Axe()


@dataclass
class States:
    """The states a flow reached, each checked as it is reached (the DOM as the browser has
    it, after the page's script ran)."""

    lang: str
    seen: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def check(self, page: Page, name: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", self.lang)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            for violation in AXE.run(page).response["violations"]:
                targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
                self.violations.append(
                    f"[{self.lang} {width}px] {name} ({page.url}): {violation['id']} "
                    f"({violation['impact']}): {violation['help']}; targets: {targets}"
                )
            sideways = int(
                page.evaluate(
                    "() => document.documentElement.scrollWidth"
                    " - document.documentElement.clientWidth"
                )
            )
            if width == WIDTHS[0] and sideways > 0:
                self.violations.append(
                    f"[{self.lang} {width}px] {name} ({page.url}): scrolls sideways by "
                    f"{sideways}px (WCAG 1.4.10)"
                )
        page.set_viewport_size({"width": WIDTHS[-1], "height": HEIGHT})
        self.seen.append(name)
