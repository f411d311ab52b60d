"""Who used my data, as a story (UU PDP Art. 31-32): one plain sentence per event, newest
first, in the citizen's time zone; a withdrawal shows at once; each sentence's raw entries
carry inclusion proofs that verify against the signed checkpoint; filters and paging."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from audit.checkpoint import open_checkpoint
from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, decode_entry
from audit.merkle.proof_verification import verify_inclusion
from audit.merkle.tree_hash import hash_leaf
from audit.note import NoteVerifier
from identity.http.pages import activity
from identity.storage.database import Database
from tests.oidc_helpers import OidcWorld, RelyingApp
from tests.pages_helpers import post_account, submit_login
from tests.personal_data import SAMPLE


@pytest.fixture
def signed_in(world: OidcWorld) -> OidcWorld:
    assert submit_login(world).status_code == 303
    return world


def _events(html: str) -> list[str]:
    """Each event's card, in page order."""
    return re.findall(r'<li class="event[^"]*">(.*?)</details>\s*</li>', html, re.S)


def _sentence(event: str) -> str:
    found = re.search(r'<p class="sentence">(.*?)</p>', event, re.S)
    assert found is not None
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", unescape(found.group(1)))).strip()


def _times(html: str) -> list[datetime]:
    return [datetime.fromisoformat(t) for t in re.findall(r'<time datetime="([^"]+)"', html)]


def _page(world: OidcWorld, query: str = "") -> str:
    response = world.client.get(f"/account/activity{query}")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.text


def _released(world: OidcWorld, rp: RelyingApp) -> None:
    world.consent(rp)
    world.userinfo(world.tokens(rp)["access_token"])


def test_a_release_is_one_plain_sentence_whose_entries_all_prove_inclusion(
    signed_in: OidcWorld, rp: RelyingApp
) -> None:
    world = signed_in
    _released(world, rp)
    world.app.state.services.audit_log.sequence(checkpoint=True)
    html = _page(world)
    sentences = [_sentence(e) for e in _events(html)]
    release = next(s for s in sentences if s.startswith("Dinas Sosial menerima"))
    assert release == (
        "Dinas Sosial menerima nama lengkap dan tanggal lahir Anda untuk Menilai kelayakan "
        "bantuan sosial dan alamat email Anda untuk Kabar program."
    )
    assert sum(s.startswith("Dinas Sosial menerima") for s in sentences) == 1  # reads collapsed
    assert "token" not in release  # tokens are not data
    assert "Anda memberi persetujuan kepada Dinas Sosial untuk" in " ".join(sentences)
    assert "Anda masuk ke Jati." in sentences
    assert "karena Anda memberi persetujuan" in html
    assert "(UU PDP Pasal 20 ayat (2) huruf a)" in html
    assert SAMPLE["name"] not in html and SAMPLE["nik"] not in html and "sedang dicatat" not in html

    event = next(e for e in _events(html) if _sentence(e).startswith("Dinas Sosial menerima"))
    entries = re.findall(r'<code class="entry">(.*?)</code>', event, re.S)
    links = re.findall(r'href="(/audit/proof/inclusion\?[^"]+)"', event)
    assert len(entries) == len(links) >= 3  # the code, the tokens, the userinfo reads
    vkey = world.client.get("/audit/checkpoint-key").text.strip()
    note = world.client.get("/audit/checkpoint").text
    verifier = NoteVerifier.from_vkey(vkey)
    checkpoint = open_checkpoint(note, verifier, origin=verifier.name)
    for entry_text, link in zip(entries, links, strict=True):
        entry_bytes = unescape(entry_text).encode()
        decoded = decode_entry(entry_bytes)  # the canonical bytes, exactly
        assert decoded.actor == Actor(ActorKind.RELYING_APP, rp.client_id)
        proof = world.client.get(unescape(link)).json()
        assert proof["tree_size"] == checkpoint.size
        assert base64.b64decode(proof["leaf_hash"]) == hash_leaf(entry_bytes)
        verify_inclusion(
            leaf_index=proof["leaf_index"],
            tree_size=checkpoint.size,
            leaf_hash=hash_leaf(entry_bytes),
            proof=[base64.b64decode(h) for h in proof["inclusion_path"]],
            root=checkpoint.root_hash,
        )


def test_a_withdrawal_shows_at_once_marked_as_being_recorded(
    signed_in: OidcWorld, rp: RelyingApp
) -> None:
    world = signed_in
    grants = world.consent(rp)
    world.app.state.services.audit_log.sequence(checkpoint=True)
    assert (
        post_account(world, f"/account/consents/{grants[0].grant_id}/withdraw").status_code == 303
    )
    html = _page(world)  # no sequencer run in between
    first = _events(html)[0]
    assert _sentence(first) == (
        "Anda menarik persetujuan Anda kepada Dinas Sosial untuk Menilai kelayakan bantuan sosial."
    )
    assert '<span class="badge">sedang dicatat</span>' in first
    assert "bukti inklusi tersedia setelah dicatat" in first and "/audit/proof" not in first
    assert "Anda menarik persetujuan" in world.client.get("/account").text  # the account page too
    world.app.state.services.audit_log.sequence(checkpoint=True)
    later = _events(_page(world))[0]
    assert "sedang dicatat" not in later and "/audit/proof/inclusion?leaf_index=" in later


def test_times_are_local_and_newest_first_and_the_zone_is_kept(
    signed_in: OidcWorld, rp: RelyingApp
) -> None:
    world = signed_in
    _released(world, rp)
    html = _page(world)
    times = _times(html)
    assert times == sorted(times, reverse=True) and len(times) >= 3
    shown = re.findall(r'<time datetime="[^"]+">([^<]+)</time>', html)
    newest = times[0].astimezone(UTC) + timedelta(hours=7)
    months = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
    assert shown[0] == (
        f"{newest.day} {months[newest.month - 1]} {newest.year}, "
        f"{newest.hour:02d}.{newest.minute:02d} WIB"
    )
    wit = _page(world, "?tz=WIT")
    assert re.findall(r'<time datetime="[^"]+">([^<]+)</time>', wit)[0].endswith(" WIT")
    assert '<option value="WIT" selected>' in wit
    # the choice is remembered, on this page and the account page
    assert " WIT</time>" in _page(world) and " WIT</time>" in world.client.get("/account").text
    english = _page(world, "?lang=en&tz=WITA")
    assert re.search(r">\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} WITA</time>", english)
    assert "Dinas Sosial received your full name and date of birth for" in english


def _old_entries(world: OidcWorld, database: Database, app: str, count: int, days: int) -> None:
    services = world.app.state.services
    subject = services.pseudonymizer.pseudonym(world.citizen_id)
    start = datetime.now(UTC) - timedelta(days=days)
    with database.write() as session:
        for n in range(count):
            services.audit_log.store.append(
                session,
                AuditEntry(
                    time=start + timedelta(hours=n),
                    actor=Actor(ActorKind.RELYING_APP, app),
                    action=Action.READ,
                    subject=subject,
                    data_items=("name",),
                    purpose="bansos-eligibility",
                    legal_basis=LegalBasis.CONSENT,
                ),
                queued_at=datetime.now(UTC),
            )


def test_filters_by_app_and_period_and_paging_keeps_them(
    signed_in: OidcWorld, rp: RelyingApp, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = signed_in
    other = world.register_app(name="JAKI", redirect_uri="https://jaki.example.go.id/cb")
    _old_entries(world, database, rp.client_id, 12, days=200)  # hours apart: 12 events
    world.app.state.services.audit_log.sequence(checkpoint=True)
    _released(world, rp)
    world.consent(other)
    world.app.state.services.audit_log.sequence(checkpoint=True)

    everything = _page(world)
    assert "JAKI" in everything and "Dinas Sosial" in everything
    assert f'<option value="{other.client_id}">JAKI</option>' in everything
    only_jaki = [_sentence(e) for e in _events(_page(world, f"?app={other.client_id}"))]
    assert only_jaki and all("JAKI" in s for s in only_jaki)
    recent = [_sentence(e) for e in _events(_page(world, f"?app={rp.client_id}&period=30"))]
    assert len(recent) == 2  # the consent and the release; the old reads are 200 days ago
    year = _events(_page(world, f"?app={rp.client_id}&period=365"))
    assert len(year) == 14

    monkeypatch.setattr(activity, "PAGE_ENTRIES", 5)
    html = _page(world, f"?app={rp.client_id}&period=365&tz=WITA")
    link = re.search(r'<a href="(/account/activity\?[^"]+)">Catatan lebih lama</a>', html)
    assert link is not None
    older_url = unescape(link.group(1))
    assert f"app={rp.client_id}" in older_url and "period=365" in older_url
    assert "tz=WITA" in older_url and "before=" in older_url
    seen: list[datetime] = _times(html)
    while link is not None:
        html = _page(world, unescape(link.group(1))[len("/account/activity") :])
        assert "Kembali ke yang terbaru" in html
        seen += _times(html)
        link = re.search(r'<a href="(/account/activity\?[^"]+)">Catatan lebih lama</a>', html)
    assert seen == sorted(seen, reverse=True)
    assert len([t for t in seen if t < datetime.now(UTC) - timedelta(days=100)]) == 12


@pytest.mark.parametrize(
    "query",
    ["?app=%3Cscript%3E", "?period=5", "?before=-1", "?before=abc", "?before=99999999999999999999",
     "?tz=PST", "?app=" + "a" * 300],
)  # fmt: skip
def test_a_filter_that_is_no_choice_is_ignored_and_never_echoed(
    signed_in: OidcWorld, rp: RelyingApp, query: str
) -> None:
    world = signed_in
    _released(world, rp)
    html = _page(world, query)
    assert "Dinas Sosial menerima" in html
    html = re.sub(r'<a href="[^"]*" hreflang=[^>]*>', "", html)  # the switch keeps the query
    assert "<script>" not in html and "PST" not in html and "a" * 300 not in html


def test_without_a_session_the_activity_page_goes_to_login(world: OidcWorld) -> None:
    response = world.client.get("/account/activity", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
