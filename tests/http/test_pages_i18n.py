"""The pages' words (UU PDP Art. 22(3): clear language; Bahasa Indonesia first): every text in
both languages with the same placeholders, every key a page uses defined, the language chosen
in the documented order, and values from apps escaped, never markup."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from audit.breach import BREACH_NOTIFICATION_PURPOSE
from audit.entry import Action, LegalBasis
from audit.records import AUDIT_QUERY_PURPOSE
from consent.grants import GrantStatus
from consent.notice_diff import notice_fields
from consent.notices import NOTICE_ITEMS
from consent.requests.records import PURPOSES as REQUEST_PURPOSES
from consent.requests.records import RequestKind, RequestStatus
from identity.citizens.activity import StoryKind
from identity.citizens.erasure import ERASURE_PURPOSE
from identity.citizens.population_import import CONFLICT_CHECK_PURPOSE
from identity.citizens.service import LOGIN_PURPOSE, REGISTRATION_PURPOSE
from identity.http.pages import i18n
from identity.http.pages.consent import CONSENT_MANAGEMENT_PURPOSE
from identity.http.pages.i18n import MESSAGES, Translator, choose_language
from identity.http.pages.local_time import ZONES
from identity.login.account_events import ACCOUNT_SECURITY_PURPOSE
from tests.consent_helpers import notice_content
from tests.oidc_helpers import OidcWorld
from tests.pages_helpers import begin, consent_page, follow, submit_login

HTTP = Path(i18n.__file__).parent
CONSOLE = HTTP.parent / "console"
_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_]+)+)["']\s*[,)]""")
#: Any quoted key-like literal, and a key's prefix completed at run time (``"status." ~ x``,
#: ``f"story.verb.{action}"``).
_ANY_KEY = re.compile(r"""["']([a-z_]+(?:\.[a-z_-]+)+)["']""")
_KEY_PREFIX = re.compile(r"""["']([a-z_]+(?:\.[a-z_]+)*\.)(?:["']|\{)""")
#: Actions that are never told with a verb (they have sentences of their own).
_NOT_PROCESSING = frozenset(
    {"consent_given", "consent_refused", "consent_withdrawn", "consent_expired", "login",
     "credential_issued", "credential_revoked"}
)  # fmt: skip
_CITIZEN_ACTS = (Action.CREATE, Action.UPDATE, Action.ERASE, Action.RESTRICT, Action.EXPORT)
_SENTENCE_ELSEWHERE = frozenset({StoryKind.RELEASE, StoryKind.YOUR_ACT})
#: Jati's own audit purposes: each has its words for the citizen's story.
_JATI_PURPOSES = {
    LOGIN_PURPOSE, REGISTRATION_PURPOSE, CONFLICT_CHECK_PURPOSE, CONSENT_MANAGEMENT_PURPOSE,
    ACCOUNT_SECURITY_PURPOSE, ERASURE_PURPOSE, AUDIT_QUERY_PURPOSE, BREACH_NOTIFICATION_PURPOSE,
    *REQUEST_PURPOSES.values(),
}  # fmt: skip
#: Texts that are rightly the same in both languages (a word both share, or only placeholders).
_SAME_IN_BOTH = {
    "account.status": "Status",
    "story.your_data": "data",
    "console.role.operator": "Operator",  # the same loanword in Indonesian
    "console.role.auditor": "Auditor",
}
#: Words a template may hold itself: the service's name.
_TEMPLATE_WORDS = {"Jati"}


def _sources() -> list[str]:
    """The pages' templates and modules; of the catalogue, only the code after the tables."""
    pages = [*HTTP.glob("templates/*.html"), *HTTP.glob("*.py"), *CONSOLE.glob("*.py")]
    texts = [p.read_text() for p in pages]
    catalogue = Path(i18n.__file__).read_text()
    return [t for t in texts if t != catalogue] + [catalogue[catalogue.index("class Translator") :]]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    for key, (indonesian, english) in MESSAGES.items():
        assert indonesian.strip() and english.strip(), key
        assert _placeholders(indonesian) == _placeholders(english), key


def test_every_key_the_pages_use_is_defined() -> None:
    sources = [*HTTP.glob("templates/*.html"), *HTTP.glob("*.py"), *CONSOLE.glob("*.py")]
    used = {key for path in sources for key in _KEY.findall(path.read_text())}
    assert used, "no keys found: the pattern is wrong"
    assert sorted(used - set(MESSAGES)) == []
    # keys built from codes: every code has its words
    families = {
        "story.verb.": [a.value for a in Action if a.value not in _NOT_PROCESSING],
        "story.you.": [a.value for a in _CITIZEN_ACTS],
        "story.": [k.value for k in StoryKind if k not in _SENTENCE_ELSEWHERE],
        "basis.plain.": [b.value for b in LegalBasis],
        "zone.": list(ZONES),
        "purpose.": list(_JATI_PURPOSES),
        "status.": [s.value for s in GrantStatus],
        "request.kind.": [k.value for k in RequestKind],
        "request.status.": [s.value for s in RequestStatus],
        "notice.item.": list(NOTICE_ITEMS),
        "console.charts.kind.": [k.value for k in RequestKind],
        "console.requests.complete_hint.": ["access", "correction"],
        "console.charts.state.": ["overdue", *(s.value for s in RequestStatus)],
        "console.notice.field.": [f for f in notice_fields(notice_content()) if "items." not in f],
    }
    for prefix, codes in families.items():
        assert sorted(prefix + c for c in codes if prefix + c not in MESSAGES) == []


def test_every_key_defined_is_used() -> None:
    """The other direction: no text in the catalogue that no page shows (a stale or
    misspelt key would otherwise hide there)."""
    texts = _sources()
    used = {key for text in texts for key in _ANY_KEY.findall(text)}
    prefixes = {prefix for text in texts for prefix in _KEY_PREFIX.findall(text)}
    unused = [k for k in MESSAGES if k not in used and not k.startswith(tuple(prefixes))]
    assert unused == []


def test_every_text_is_translated() -> None:
    """No Indonesian left in English or English in Indonesian: a text the same in both
    languages is listed here with its reason, placeholders-only sentences aside."""
    same = {
        key: indonesian
        for key, (indonesian, english) in MESSAGES.items()
        if indonesian == english
        and re.sub(r"\{[a-z_]+\}|[^A-Za-z]", "", indonesian) not in ("", "Jati")
    }
    assert same == _SAME_IN_BOTH


@pytest.mark.parametrize("template", sorted(p.name for p in HTTP.glob("templates/*.html")))
def test_templates_hold_no_words_of_their_own(template: str) -> None:
    """Every word a page shows comes from the catalogue: a template's own text, once its
    tags, expressions and code samples are taken out, is empty (the service's name aside)."""
    source = (HTTP / "templates" / template).read_text()
    source = re.sub(r"\{% macro .*?endmacro %\}", "", source, flags=re.S)  # attributes
    source = re.sub(r"\{#.*?#\}|\{%.*?%\}", "", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}", " ", source, flags=re.S)
    source = re.sub(r"<(script|code|style)\b.*?</\1>", " ", source, flags=re.S)
    source = re.sub(r"<[^>]+>|&[a-z]+;|&#\d+;", " ", source, flags=re.S)
    words = set(re.findall(r"[^\W\d_]{2,}", source)) - _TEMPLATE_WORDS
    assert words == set()


@pytest.mark.parametrize(
    ("query", "form", "cookie", "ui_locales", "expected"),
    [
        (None, None, None, (), "id"),
        ("en", None, None, (), "en"),
        ("id", "en", "en", ("en",), "id"),
        (None, "en", "id", (), "en"),
        (None, None, "en", ("id",), "en"),
        (None, None, None, ("fr", "en-US"), "en"),
        (None, None, None, ("fr",), "id"),
        ("xx", None, None, (), "id"),
        ("EN", None, None, (), "en"),
    ],
)
def test_language_is_chosen_in_the_documented_order(
    query: str | None,
    form: str | None,
    cookie: str | None,
    ui_locales: tuple[str, ...],
    expected: str,
) -> None:
    chosen = choose_language(query=query, form=form, cookie=cookie, ui_locales=ui_locales)
    assert chosen == expected


def test_legal_bases_and_items_in_both_languages() -> None:
    indonesian, english = Translator("id"), Translator("en")
    for basis in "abcdef":
        assert indonesian.legal_basis(basis).startswith("UU PDP Pasal 20 ayat (2) huruf " + basis)
        assert english.legal_basis(basis).startswith(f"UU PDP Art. 20(2)({basis})")
    assert indonesian.item("birthdate") == "Tanggal lahir"
    assert english.item("birthdate") == "Date of birth"
    assert english.item("blood-type") == "blood-type"  # unknown items show as coded
    with pytest.raises(ValueError, match="unsupported"):
        Translator("fr")


def test_an_apps_words_are_shown_as_text_never_as_markup(world: OidcWorld) -> None:
    rp = world.register_app(name='Dinas <script>alert("x")</script> & Co')
    req = begin(world, rp)
    login = world.client.get(f"/login?req={req}")
    assert "<script>" not in login.text
    assert "Dinas &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in login.text
    follow(world, submit_login(world, req))
    html = consent_page(world, req).text
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_forms_leave_required_fields_to_the_server_which_answers_in_the_page_language(
    world: OidcWorld,
) -> None:
    """A browser's own "Please fill out this field" speaks the browser's language, not the
    page's: every form with a required field carries ``novalidate`` (the ``required``
    attribute stays, for assistive technology), and the server names what is missing."""
    for path in HTTP.glob("templates/*.html"):
        source = path.read_text()
        for match in re.finditer(r"<form\b[^>]*>", source):
            body = source[match.end() : source.find("</form>", match.end())]
            if " required" in body:
                assert "novalidate" in match.group(0), (path.name, match.group(0))
    page = world.client.get("/login?lang=en")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    empty = world.client.post("/login", data={"csrf_token": token.group(1), "lang": "en"})
    assert empty.status_code == 400
    assert "Enter your NIK and your password." in empty.text
    assert "<title>Error: Sign in to Jati · Jati</title>" in empty.text
