"""Purposes of processing that a relying app registers (UU PDP Art. 20(2), Art. 4, Art. 21).

A purpose names what the app does with personal data, in Bahasa Indonesia and English, the
legal basis it relies on (Art. 20(2) a-f), the data items it needs, each tagged ``specific``
or ``general`` (Art. 4(2): health, biometric, genetic, criminal record, children's and
personal financial data are specific), and how long the data is kept. Consent is asked
only where it is the basis (Art. 20(2)(a)); purposes on another basis are recorded and shown
to the citizen, not asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from audit.entry import LegalBasis
from consent.errors import InvalidPurpose

CODE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
ITEM = re.compile(r"[a-z][a-z0-9.-]{0,63}")  # an audit code (audit.entry): no "_"
MAX_TEXT = 2000
MAX_RETENTION_DAYS = 100 * 366


class Sensitivity(StrEnum):
    """UU PDP Art. 4: specific (Art. 4(2)) or general (Art. 4(3)) personal data."""

    SPECIFIC = "specific"
    GENERAL = "general"


@dataclass(frozen=True, slots=True)
class LocalizedText:
    """A text in Bahasa Indonesia (required: Art. 22(3) asks for clear language the citizen
    reads; Permenkominfo 20/2016 asks for Indonesian) and optionally English."""

    id: str
    en: str | None = None

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise InvalidPurpose("a text in Bahasa Indonesia is required")
        for text in (self.id, self.en or ""):
            if len(text) > MAX_TEXT:
                raise InvalidPurpose(f"a text is at most {MAX_TEXT} characters")

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, **({"en": self.en} if self.en else {})}


@dataclass(frozen=True, slots=True)
class DataItem:
    name: str
    sensitivity: Sensitivity

    def __post_init__(self) -> None:
        if not ITEM.fullmatch(self.name):
            raise InvalidPurpose(
                "a data item is a lower-case name such as `birthdate` or `age-over-18`"
            )

    @classmethod
    def parse(cls, text: str) -> DataItem:
        """``name`` or ``name:specific`` / ``name:general`` (general by default)."""
        name, _, kind = text.strip().partition(":")
        try:
            sensitivity = Sensitivity(kind or "general")
        except ValueError:
            raise InvalidPurpose(
                f"data item {name!r}: sensitivity is `specific` or `general`"
            ) from None
        return cls(name, sensitivity)


@dataclass(frozen=True, slots=True)
class Purpose:
    """One purpose of one relying app. ``app_id`` is the app's client id."""

    app_id: str
    code: str
    description: LocalizedText
    legal_basis: LegalBasis
    data_items: tuple[DataItem, ...]
    retention_days: int
    item_names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "item_names", frozenset(i.name for i in self.data_items))
        if not CODE.fullmatch(self.code):
            raise InvalidPurpose("a purpose code is 1-64 characters of a-z, 0-9, '.', '_' or '-'")
        if not self.data_items:
            raise InvalidPurpose(f"purpose {self.code}: name the data items it needs")
        names = [item.name for item in self.data_items]
        if len(set(names)) != len(names):
            raise InvalidPurpose(f"purpose {self.code}: a data item is listed twice")
        if not 1 <= self.retention_days <= MAX_RETENTION_DAYS:
            raise InvalidPurpose(f"purpose {self.code}: retention is 1 to 36600 days")

    @property
    def needs_consent(self) -> bool:
        """True when consent is the basis (Art. 20(2)(a)): only then is the citizen asked."""
        return self.legal_basis is LegalBasis.CONSENT

    def covers(self, items: Iterable[str]) -> bool:
        return self.item_names.issuperset(items)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "description": self.description.to_json(),
            "legal_basis": self.legal_basis.value,
            "data_items": [
                {"name": i.name, "sensitivity": i.sensitivity.value} for i in self.data_items
            ],
            "retention_days": self.retention_days,
        }
