"""What the access right gives (UU PDP Art. 7, 13, 32): a subject's export as one document,
with the processing record from the audit log (Art. 31, 32) streamed lazily."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from audit.entry import decode_entry
from audit.errors import InvalidEntry
from audit.records import EventFilter
from consent.requests.ports import EventSource, PersonalDataExport
from consent.requests.records import SubjectRequest, iso_time

__all__ = ["Export", "processing_record"]


@dataclass(frozen=True, slots=True)
class Export:
    """Everything the access right gives (Art. 7, 13, 32), as one document.

    ``processing_record`` is lazy: the audit log is read page by page while the document is
    written out, so a long history is streamed in constant memory.
    """

    request: SubjectRequest
    generated_at: datetime
    personal_data: PersonalDataExport
    requests: list[SubjectRequest]
    consents: list[dict[str, Any]]
    restricted_at: datetime | None
    processing_record: Iterator[dict[str, Any]] = field(repr=False)

    FORMAT = "jati-subject-export/1"

    def head(self) -> dict[str, Any]:
        """The document without its processing record (written first, then the record)."""
        data = self.personal_data
        return {
            "format": self.FORMAT,
            "generated_at": iso_time(self.generated_at),
            "request": self.request.to_json_dict(),
            "personal_data": dict(data.values) if data.values is not None else None,
            "erased_at": iso_time(data.erased_at),
            "restricted_at": iso_time(self.restricted_at),
            "requests": [r.to_json_dict() for r in self.requests],
            "consents": self.consents,
        }


def processing_record(
    events: EventSource, subject_pseudonym: str, *, now: datetime
) -> Iterator[dict[str, Any]]:
    """The subject's processing record (UU PDP Art. 31, 32): every integrated audit entry
    about them, in log order, with its leaf index (so that the citizen can ask for an
    inclusion proof), lazily.

    Entries withheld under an Art. 15/50 exception (not citizen-visible, or visible only
    after a time still to come) are left out, as on the citizen's "who used my data" view.
    """
    for leaf in events.events(EventFilter(subject=subject_pseudonym)):
        try:
            entry = decode_entry(leaf.entry)
        except InvalidEntry:
            continue  # `jati audit verify` reports it; a citizen's export skips it
        if not entry.visible_to_citizen(now):
            continue
        yield {
            "leaf_index": leaf.leaf_index,
            "time": iso_time(entry.time),
            "actor": {"kind": entry.actor.kind.value, "id": entry.actor.id},
            "action": entry.action.value,
            "purpose": entry.purpose,
            "legal_basis": entry.legal_basis.value if entry.legal_basis else None,
            "data_items": list(entry.data_items),
            "consent_id": entry.consent_id,
            "request_id": entry.request_id,
            "outcome": entry.outcome.value,
        }
