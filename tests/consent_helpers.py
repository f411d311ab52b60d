"""A ready consent ledger for tests: an app with purposes on several bases and a notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from audit.entry import LegalBasis
from consent.gate import ConsentGate, LocalGenerations
from consent.ledger import ConsentAttempt, ConsentLedger
from consent.notices import DpoContact, Notice, NoticeContent
from consent.purposes import DataItem, LocalizedText, Purpose
from consent.storage.ledger import SqlLedgerStore

APP = "bansos-app"
ADULT_BIRTHDATE = date(1990, 1, 1)


def notice_content(
    controller: str = "Dinas Sosial DKI Jakarta", rights: str = "v1"
) -> NoticeContent:
    items = {
        name: LocalizedText(f"Teks {name} ({rights})", f"Text {name} ({rights})")
        for name in (
            "legality",
            "purposes",
            "data_types",
            "retention",
            "details_collected",
            "processing_period",
            "rights",
        )
    }
    return NoticeContent(
        controller=controller,
        items=items,
        dpo=DpoContact(name="Pejabat Pelindungan Data", email="ppd@dinsos.example.go.id"),
    )


#: What a consent screen shows of each purpose of these tests (Bahasa Indonesia, English).
DESCRIPTIONS = {
    "bansos-eligibility": LocalizedText("Menilai kelayakan bantuan sosial", "Assess social aid"),
    "newsletter": LocalizedText("Kabar program", "Programme news"),
    "population-admin": LocalizedText("Administrasi kependudukan", "Population administration"),
}


def purposes_for(
    app_id: str,
    *,
    eligibility: tuple[str, ...] = ("name", "birthdate"),
    public_task: tuple[str, ...] = ("nik",),
) -> tuple[Purpose, ...]:
    """The app's purposes: ``bansos-eligibility`` (``eligibility``) and ``newsletter``
    (email) on consent, ``population-admin`` (``public_task``) a public task. Items are
    written as ``jati purpose add --item`` takes them: ``name``, ``income:specific``."""
    table = (
        ("bansos-eligibility", LegalBasis.CONSENT, eligibility, 365),
        ("newsletter", LegalBasis.CONSENT, ("email",), 30),
        ("population-admin", LegalBasis.PUBLIC_TASK, public_task, 3650),
    )
    return tuple(
        Purpose(
            app_id=app_id,
            code=code,
            description=DESCRIPTIONS[code],
            legal_basis=basis,
            data_items=tuple(DataItem.parse(item) for item in items),
            retention_days=days,
        )
        for code, basis, items, days in table
    )


#: The consent ledger's app: eligibility also asks for specific data (income), and the
#: public task reads the name too.
PURPOSES = purposes_for(
    APP, eligibility=("name", "birthdate", "income:specific"), public_task=("name", "nik")
)


@dataclass
class ConsentWorld:
    """A ledger with :data:`PURPOSES` registered and a notice for :data:`APP`
    (:func:`consent_world`); ``generations``, where the ledger notifies them, for a gate."""

    ledger: ConsentLedger
    store: SqlLedgerStore
    notice: Notice
    generations: LocalGenerations | None = None

    def gate(self, **options: object) -> ConsentGate:
        assert self.generations is not None, "this world's ledger notifies no generations"
        return ConsentGate(
            source=self.store,
            generations=self.generations,
            clock=self.ledger.clock,
            **options,  # type: ignore[arg-type]
        )

    def attempt(self, subject_id: str, **overrides: object) -> ConsentAttempt:
        values: dict[str, object] = {
            "subject_id": subject_id,
            "app_id": APP,
            "notice_hash": self.notice.content_hash,
            "choices": {"bansos-eligibility": True, "newsletter": False},
            "act": "consent-screen:setuju",
            "subject_birthdate": ADULT_BIRTHDATE,
        }
        values.update(overrides)
        return ConsentAttempt(**values)  # type: ignore[arg-type]


def consent_world(
    ledger: ConsentLedger, generations: LocalGenerations | None = None
) -> ConsentWorld:
    """``ledger`` with :data:`PURPOSES` registered and a notice published for :data:`APP`."""
    for purpose in PURPOSES:
        ledger.register_purpose(purpose)
    notice = ledger.publish_notice(APP, notice_content())
    assert isinstance(ledger.store, SqlLedgerStore)
    return ConsentWorld(ledger=ledger, store=ledger.store, notice=notice, generations=generations)
