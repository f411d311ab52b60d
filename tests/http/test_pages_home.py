"""The front page ``GET /`` (issue 15): what Jati is, in Bahasa Indonesia first (UU PDP Art.
22(3): clear language), with English on the switch; every link it gives citizens,
developers and auditors leads to a route that answers; the page rules of every page
(security headers, no-store, no script, outside the OpenAPI schema); no personal data; an
accessible structure (landmarks, one h1, headings in order, link texts that stand alone)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from itertools import pairwise
from urllib.parse import urlsplit

import pytest

from identity.http.discovery import JWKS_PATH
from identity.http.pages.home import GUIDES
from identity.http.pages.i18n import LANG_COOKIE, MESSAGES
from identity.service.web.security_headers import PAGE_CSP
from tests.oidc_helpers import OidcWorld
from tests.personal_data import SAMPLE

ID_TITLE = "Satu identitas digital untuk layanan publik"
EN_TITLE = "One digital identity for public services"
#: What each reader is sent to; the JWKS path is the one discovery publishes.
CITIZEN_LINKS = {"/account", "/account#access-log"}
DEVELOPER_LINKS = {"/.well-known/openid-configuration", JWKS_PATH, "/docs"}
AUDITOR_LINKS = {"/audit/checkpoint", "/audit/checkpoint-key"}


class _Outline(HTMLParser):
    """The parts of a page the tests read: links (href, text), headings, landmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.headings: list[tuple[int, str]] = []
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.html_lang: str | None = None
        self._open: list[tuple[str, str | None, list[str]]] = []  # (tag, href, text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "html":
            self.html_lang = values.get("lang")
        if tag == "a" or re.fullmatch(r"h[1-6]", tag):
            self._open.append((tag, values.get("href"), []))

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            return
        _, href, parts = self._open.pop()
        text = " ".join("".join(parts).split())
        if tag == "a":
            self.links.append((href or "", text))
        else:
            self.headings.append((int(tag[1]), text))


def _outline(html: str) -> _Outline:
    outline = _Outline()
    outline.feed(html)
    return outline


def _path(href: str) -> str:
    """The path and query of a same-site link, without its fragment."""
    parts = urlsplit(href)
    assert not parts.scheme and not parts.netloc, f"{href}: the page links only to Jati"
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_front_page_is_in_bahasa_indonesia_by_default(world: OidcWorld) -> None:
    page = world.client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    outline = _outline(page.text)
    # Accept-Language is deliberately not read (identity/http/pages/i18n.py): Indonesian first
    assert outline.html_lang == "id"
    assert outline.headings[0] == (1, ID_TITLE)
    assert f"<title>{ID_TITLE} · Jati</title>" in page.text
    for key in ("home.lead", "home.citizens.heading", "home.auditors.heading"):
        assert MESSAGES[key][0] in page.text
    assert EN_TITLE not in page.text
    # plain words first, then the law: the record of processing cites UU PDP Art. 31
    assert "UU PDP Pasal 31" in page.text
    assert page.text.index(MESSAGES["home.lead"][0]) < page.text.index("UU PDP")


def test_the_switch_shows_english_and_is_remembered(world: OidcWorld) -> None:
    page = world.client.get("/").text
    indonesian = _outline(page)
    # named in the page's language, the other language's name marked as such (WCAG 3.1.2)
    (switch,) = [href for href, text in indonesian.links if text == "Ganti bahasa ke English"]
    assert switch == "/?lang=en"
    assert '<span lang="en">English</span>' in page and 'aria-label="Ganti' not in page
    english = world.client.get(switch)
    assert english.status_code == 200
    outline = _outline(english.text)
    assert outline.html_lang == "en"
    assert outline.headings[0] == (1, EN_TITLE)
    assert MESSAGES["home.lead"][1] in english.text and ID_TITLE not in english.text
    assert "UU PDP Art. 31" in english.text
    assert world.client.cookies.get(LANG_COOKIE) == "en"
    assert _outline(world.client.get("/").text).html_lang == "en"  # the cookie remembers
    back = _outline(world.client.get("/?lang=id").text)
    assert back.html_lang == "id" and back.headings[0] == (1, ID_TITLE)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_link_leads_to_a_route_that_answers(world: OidcWorld, lang: str) -> None:
    outline = _outline(world.client.get(f"/?lang={lang}").text)
    hrefs = {href for href, _ in outline.links}
    assert hrefs >= CITIZEN_LINKS | DEVELOPER_LINKS | AUDITOR_LINKS
    for href in sorted(hrefs):
        if href.startswith("#"):  # the skip link, within the page
            assert href[1:] in outline.ids, href
            continue
        answer = world.client.get(_path(href), follow_redirects=False)
        assert answer.status_code in (200, 303), (href, answer.status_code)
        if answer.status_code == 303:  # the account page asks a stranger to sign in
            assert _path(href) == "/account", href
            assert answer.headers["location"] == "/login"
            assert world.client.get("/login").status_code == 200
    # the developers' links are the ones discovery itself publishes
    discovery = world.client.get("/.well-known/openid-configuration").json()
    assert urlsplit(discovery["jwks_uri"]).path in hrefs
    assert world.client.get(JWKS_PATH).json()["keys"]
    # the account page really has the section "who used my data" links to
    world.login()
    account = world.client.get("/account")
    assert account.status_code == 200
    assert "access-log" in _outline(account.text).ids


def test_auditors_are_told_how_to_verify(world: OidcWorld) -> None:
    text = world.client.get("/").text
    assert "jati audit verify --checkpoint FILE" in text
    assert "/audit/proof/consistency?first=N&amp;second=M" in text
    assert "/audit/proof/inclusion?leaf_index=I&amp;tree_size=N" in text
    # ... and the proofs it names answer, for the sizes of the checkpoint it links to
    size = int(world.client.get("/audit/checkpoint").text.splitlines()[1])
    assert size >= 1
    for path in (
        f"/audit/proof/consistency?first={size}&second={size}",
        f"/audit/proof/inclusion?leaf_index={size - 1}&tree_size={size}",
    ):
        assert world.client.get(path).status_code == 200, path
    for path, _ in GUIDES:  # the repository's guides, named as text (not served)
        assert f"<code>{path}</code>" in text
        assert f'href="{path}' not in text and f'href="/{path}' not in text


def test_front_page_carries_every_pages_security_headers(world: OidcWorld) -> None:
    page = world.client.get("/")
    headers = page.headers
    assert headers["content-security-policy"] == PAGE_CSP  # no form leaves Jati
    assert headers.get_list("x-content-type-options") == ["nosniff"]
    assert headers.get_list("referrer-policy") == ["no-referrer"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["cache-control"] == "no-store"
    assert "<script" not in page.text and " style=" not in page.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text


def test_front_page_is_not_in_the_openapi_schema(world: OidcWorld) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert "/account" not in paths and "/consent" not in paths  # like the other pages


def test_front_page_shows_no_personal_data(world: OidcWorld) -> None:
    world.login()  # a signed-in browser gets the frame's links, not the citizen's data
    page = world.client.get("/")
    assert page.status_code == 200
    texts = [text for _, text in _outline(page.text).links]
    assert MESSAGES["nav.account"][0] in texts and MESSAGES["nav.logout"][0] in page.text
    assert MESSAGES["home.citizens.account_open"][0] in texts
    for value in SAMPLE.values():
        assert value not in page.text
    assert world.citizen_id not in page.text
    world.logout()
    assert MESSAGES["nav.logout"][0] not in world.client.get("/").text


@pytest.mark.parametrize("lang", ["id", "en"])
def test_front_page_structure_is_accessible(world: OidcWorld, lang: str) -> None:
    outline = _outline(world.client.get(f"/?lang={lang}").text)
    for landmark in ("header", "nav", "main", "section"):
        assert landmark in outline.tags, landmark
    assert outline.tags.count("main") == 1
    # the skip link is the first link and reaches the main content
    assert outline.links[0][0] == "#main" and "main" in outline.ids
    # one h1, and no heading skips a level
    levels = [level for level, _ in outline.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in pairwise(levels))
    assert [level for level in levels if level == 2] == [2, 2, 2]  # citizens, devs, auditors
    # link texts stand alone: none empty, none vague, one text per destination
    by_text: dict[str, set[str]] = {}
    for href, text in outline.links:
        assert text, href
        assert text.lower() not in {"di sini", "here", "klik di sini", "click here", "tautan"}
        by_text.setdefault(text, set()).add(href)
    assert all(len(hrefs) == 1 for hrefs in by_text.values()), by_text


def test_every_text_of_the_front_page_is_in_both_languages() -> None:
    keys = [key for key in MESSAGES if key.startswith("home.")]
    assert len(keys) > 20
    assert all(key in MESSAGES for _, key in GUIDES)
    for key in keys:
        indonesian, english = MESSAGES[key]
        assert indonesian != english or key.endswith("heading"), key


def test_the_front_page_stays_within_a_phone_screen() -> None:
    """390 px wide must not scroll sideways: the long paths and the issuer wrap (a browser
    measures it in tests/browser/test_pages_home.py)."""
    from identity.http.pages.routes import STATIC_DIR

    css = (STATIC_DIR / "jati.css").read_text()
    assert re.search(r"\.home code \{[^}]*overflow-wrap: anywhere", css)
