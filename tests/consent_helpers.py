"""A ready consent ledger for tests: an app with purposes on several bases and a notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from audit.entry import LegalBasis
from consent.gate import ConsentGate, LocalGenerations
from consent.ledger import ConsentAttempt, ConsentLedger
from consent.notices import DpoContact, Notice, NoticeContent
from consent.purposes import DataItem, LocalizedText, Purpose, Sensitivity
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


PURPOSES = (
    Purpose(
        app_id=APP,
        code="bansos-eligibility",
        description=LocalizedText("Menilai kelayakan bantuan sosial", "Assess social aid"),
        legal_basis=LegalBasis.CONSENT,
        data_items=(
            DataItem("name", Sensitivity.GENERAL),
            DataItem("birthdate", Sensitivity.GENERAL),
            DataItem("income", Sensitivity.SPECIFIC),
        ),
        retention_days=365,
    ),
    Purpose(
        app_id=APP,
        code="newsletter",
        description=LocalizedText("Kabar program", "Programme news"),
        legal_basis=LegalBasis.CONSENT,
        data_items=(DataItem("email", Sensitivity.GENERAL),),
        retention_days=30,
    ),
    Purpose(
        app_id=APP,
        code="population-admin",
        description=LocalizedText("Administrasi kependudukan", "Population administration"),
        legal_basis=LegalBasis.PUBLIC_TASK,
        data_items=(DataItem("name", Sensitivity.GENERAL), DataItem("nik", Sensitivity.GENERAL)),
        retention_days=3650,
    ),
)


@dataclass
class ConsentWorld:
    ledger: ConsentLedger
    store: SqlLedgerStore
    notice: Notice
    generations: LocalGenerations

    def gate(self, **options: object) -> ConsentGate:
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
