"""The story of a citizen's record (identity/citizens/activity.py, identity/http/pages/story.py):
which entries make one event, who is credited, what a sentence says in each language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from audit.entry import (
    Action,
    Actor,
    ActorKind,
    AuditEntry,
    LegalBasis,
    Outcome,
    encode_entry,
)
from consent.purposes import LocalizedText
from identity.citizens.activity import SAME_EVENT_WITHIN, RawEntry, StoryKind, tell
from identity.http.pages.i18n import Translator
from identity.http.pages.story import Names, story_lines

T0 = datetime(2026, 12, 7, 7, 33, tzinfo=UTC)
SUBJECT = "q" * 43
JAKI = Actor(ActorKind.RELYING_APP, "jaki")
SELF = Actor(ActorKind.CITIZEN, "self")
NAMES = Names(
    apps={"jaki": "JAKI <Jakarta>", "dinsos": "Dinas Sosial"},
    purposes={
        ("jaki", "layanan"): LocalizedText("Memberikan layanan kepada warga", "Serving residents"),
        ("jaki", "kabar"): LocalizedText("Kabar program", "Programme news"),
    },
)


def _entry(
    seconds: float,
    action: Action,
    *,
    actor: Actor = JAKI,
    items: tuple[str, ...] = (),
    purpose: str | None = "layanan",
    basis: LegalBasis | None = LegalBasis.CONSENT,
    outcome: Outcome = Outcome.SUCCESS,
    leaf: int | None = 0,
) -> RawEntry:
    entry = AuditEntry(
        time=T0 + timedelta(seconds=seconds), actor=actor, action=action, outcome=outcome,
        subject=SUBJECT, data_items=items, purpose=purpose, legal_basis=basis,
    )  # fmt: skip
    return RawEntry(leaf, entry, encode_entry(entry))


def _sentences(entries: list[RawEntry], lang: str = "id", size: int = 100) -> list[str]:
    """The sentences of ``entries`` given in log order, as the page reads them (newest first)."""
    newest_first = entries[::-1]
    return [
        str(line.sentence)
        for line in story_lines(Translator(lang), NAMES, tell(newest_first), size)
    ]


def test_a_code_flow_is_one_release_naming_the_data_not_the_tokens() -> None:
    flow = [
        _entry(0, Action.TOKEN_ISSUED, items=("name", "token:authorization-code")),
        _entry(
            0, Action.TOKEN_ISSUED, items=("email", "token:authorization-code"), purpose="kabar"
        ),
        _entry(1, Action.TOKEN_ISSUED, items=("name", "birthdate", "token:access", "token:id")),
        _entry(2, Action.READ, items=("birthdate", "name")),
        _entry(2.1, Action.READ, items=("email",), purpose="kabar"),
    ]
    assert _sentences(flow) == [
        "JAKI &lt;Jakarta&gt; menerima nama lengkap dan tanggal lahir Anda untuk "
        "<em>Memberikan layanan kepada warga</em> dan alamat email Anda untuk "
        "<em>Kabar program</em>."
    ]
    assert _sentences(flow, "en") == [
        "JAKI &lt;Jakarta&gt; received your full name and date of birth for "
        "<em>Serving residents</em> and your email address for <em>Programme news</em>."
    ]


def test_events_apart_or_by_another_app_stay_apart() -> None:
    gap = SAME_EVENT_WITHIN.total_seconds() + 1
    dinsos = Actor(ActorKind.RELYING_APP, "dinsos")
    entries = [
        _entry(0, Action.READ, items=("name",)),
        _entry(gap, Action.READ, items=("name",)),
        _entry(gap + 1, Action.READ, actor=dinsos, items=("name",), purpose="bansos"),
    ]
    stories = tell(entries[::-1])
    assert [len(s.entries) for s in stories] == [1, 1, 1]
    assert (
        _sentences(entries)[0] == "Dinas Sosial menerima nama lengkap Anda untuk <em>bansos</em>."
    )


def test_the_citizens_own_acts_are_theirs_and_jatis_check_is_jatis() -> None:
    entries = [
        _entry(0, Action.LOGIN, actor=SELF, purpose="authentication", items=("passkey",)),
        _entry(1, Action.READ, actor=SELF, items=("birthdate",), purpose="consent-management",
               basis=LegalBasis.LEGAL_OBLIGATION),
        _entry(2, Action.CONSENT_GIVEN, items=("name",)),
        _entry(2, Action.CONSENT_REFUSED, items=("email",), purpose="kabar"),
        _entry(9, Action.CONSENT_WITHDRAWN, items=("name",)),
        _entry(10, Action.CREATE, actor=SELF, items=("passkey",), purpose="account-security"),
    ]  # fmt: skip
    assert _sentences(entries) == [
        "Anda menambahkan passkey (<em>keamanan akun Anda</em>).",
        "Anda menarik persetujuan Anda kepada JAKI &lt;Jakarta&gt; untuk "
        "<em>Memberikan layanan kepada warga</em>.",
        "Anda tidak memberi persetujuan kepada JAKI &lt;Jakarta&gt; untuk <em>Kabar program</em>.",
        "Anda memberi persetujuan kepada JAKI &lt;Jakarta&gt; untuk "
        "<em>Memberikan layanan kepada warga</em>.",
        "Jati membaca tanggal lahir Anda untuk "
        "<em>memeriksa usia Anda sebelum meminta persetujuan</em>.",
        "Anda masuk ke Jati dengan passkey.",
    ]


def test_a_refused_act_says_so_and_an_official_is_named_by_id() -> None:
    official = Actor(ActorKind.OFFICIAL, "dukcapil-7")
    entries = [
        _entry(0, Action.CREATE, actor=official, items=("nik", "name"),
               purpose="citizen-registration", basis=LegalBasis.PUBLIC_TASK),
        _entry(5, Action.READ, items=("income",), outcome=Outcome.DENIED),
        _entry(9, Action.LOGIN, actor=SELF, purpose="authentication", outcome=Outcome.DENIED),
    ]  # fmt: skip
    assert _sentences(entries, "en") == [
        "An attempt to sign in to your account was refused.",
        "JAKI &lt;Jakarta&gt; asked for your income for <em>Serving residents</em>, but Jati "
        "refused and gave nothing: no basis held (for example, your consent was withdrawn or "
        "processing is restricted).",
        "Official dukcapil-7 recorded your NIK and full name for "
        "<em>registering residents in Jati</em>.",
    ]


def test_entries_past_the_checkpoint_or_queued_are_being_recorded() -> None:
    entries = [_entry(0, Action.READ, items=("name",), leaf=7), _entry(1, Action.READ, leaf=None)]
    stories = tell(entries[::-1])
    assert [s.kind for s in stories] == [StoryKind.RELEASE]
    assert stories[0].pending(8) and not tell(entries[:1])[0].pending(8)
    line = story_lines(Translator("id"), NAMES, stories, 8)[0]
    assert [e.proof_url for e in line.entries] == [
        None,
        "/audit/proof/inclusion?leaf_index=7&tree_size=8",
    ]
    assert line.bases == (("karena Anda memberi persetujuan", "UU PDP Pasal 20 ayat (2) huruf a"),)
