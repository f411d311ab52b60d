"""A citizen's record of who used their data (UU PDP Art. 31-32), as the account page
(:mod:`identity.http.pages.account`) and ``GET /me/access-log`` (:mod:`identity.http.me`)
show it: the audit entries about the citizen (found by their audit pseudonym), each as
:class:`TimelineEntry`.

Entries not meant for the citizen (``citizen_visible`` false) and entries withheld under an
Art. 15/50 exception until their ``visible_after`` time are left out. A core: no framework;
the time is the audit log's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audit.entry import decode_entry, format_time
from audit.log import AuditLog
from audit.pseudonym import SubjectPseudonymizer
from audit.records import EventFilter

__all__ = ["TimelineEntry", "citizen_timeline"]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One audit entry as its citizen sees it (``GET /me/access-log`` gives the same)."""

    leaf_index: int
    time: str
    actor_kind: str
    actor_id: str
    action: str
    outcome: str
    purpose: str | None
    legal_basis: str | None
    data_items: tuple[str, ...]
    consent_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "time": self.time,
            "actor": {"kind": self.actor_kind, "id": self.actor_id},
            "action": self.action,
            "outcome": self.outcome,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "data_items": list(self.data_items),
            "consent_id": self.consent_id,
        }


def citizen_timeline(
    audit_log: AuditLog,
    pseudonymizer: SubjectPseudonymizer,
    citizen_id: str,
    *,
    after: int = -1,
    limit: int = 100,
) -> tuple[list[TimelineEntry], int | None]:
    """Who used the citizen's data (UU PDP Art. 31-32): the visible entries about them after
    leaf ``after``, and the leaf index to continue after (None on the last page).

    Entries not meant for the citizen (``citizen_visible`` false) and entries withheld
    under an Art. 15/50 exception until ``visible_after`` are left out.
    """
    now = audit_log.clock()
    flt = EventFilter(subject=pseudonymizer.pseudonym(citizen_id))
    leaves = audit_log.store.query(flt, after=after, limit=limit)
    entries: list[TimelineEntry] = []
    for leaf in leaves:
        entry = decode_entry(leaf.entry)
        if not entry.visible_to_citizen(now):
            continue  # withheld under an Art. 15/50 exception, for good or until then
        entries.append(
            TimelineEntry(
                leaf_index=leaf.leaf_index,
                time=format_time(entry.time),
                actor_kind=entry.actor.kind.value,
                actor_id=entry.actor.id,
                action=entry.action.value,
                outcome=entry.outcome.value,
                purpose=entry.purpose,
                legal_basis=entry.legal_basis.value if entry.legal_basis else None,
                data_items=tuple(entry.data_items),
                consent_id=entry.consent_id,
            )
        )
    full_page = len(leaves) == limit
    return entries, (leaves[-1].leaf_index if full_page and leaves else None)
