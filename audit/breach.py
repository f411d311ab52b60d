"""What a breach notice needs from the audit log (UU PDP Art. 46).

When personal data protection fails, the controller must notify the affected citizens and
the PDP agency in writing within 3 x 24 hours, saying at least which personal data were
exposed, when and how, and what is being done about it (Art. 46(1)-(2)). When the failure
is an actor that must be presumed compromised (a leaked client secret, a rogue official's
account), the log answers "which citizens, which data, when and how": every entry of that
actor in the time window.

:func:`collect_breach` reads those entries once, in log order, and folds them into one
:class:`AffectedSubject` per citizen pseudonym: the data items and actions, the first and
last access, and how many. The log is streamed; memory grows with the number of affected
citizens, never with the number of entries. Entries about no one (no subject) and entries
whose outcome was not ``success`` (a refused read exposed nothing) are counted, not listed.

This module is framework-free; :mod:`audit.cli` renders the report, and the identity
package maps pseudonyms back to citizen ids (the pseudonym is a keyed hash over the
internal id, so only the holder of the key can, by recomputing it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from audit.entry import Outcome, decode_entry
from audit.errors import InvalidEntry, InvalidRequest
from audit.records import EventFilter, StoredLeaf

__all__ = [
    "BREACH_NOTIFICATION_PURPOSE",
    "AffectedSubject",
    "BreachFindings",
    "BreachWindow",
    "collect_breach",
]

#: The purpose code under which contact data are read to send an Art. 46 notice.
BREACH_NOTIFICATION_PURPOSE = "breach-notification"


@dataclass(frozen=True, slots=True)
class BreachWindow:
    """The actor presumed compromised and the window ``[since, until)`` of its accesses.

    Raises:
        InvalidRequest: an empty actor, a time without a zone, or ``until`` not after ``since``.
    """

    actor_id: str
    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if not self.actor_id:
            raise InvalidRequest("the breach report needs the actor's id")
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise InvalidRequest("the breach window needs times with a time zone")
        if self.until <= self.since:
            raise InvalidRequest("the breach window's end must be after its start")

    def event_filter(self) -> EventFilter:
        return EventFilter(actor_id=self.actor_id, since=self.since, until=self.until)


@dataclass(slots=True)
class AffectedSubject:
    """One affected citizen, by audit pseudonym: what the actor did with their data.

    ``data_items`` and ``actions`` are shared frozensets (identical sets are interned), so
    a million affected citizens with a handful of distinct combinations cost little.
    """

    subject: str
    data_items: frozenset[str]
    actions: frozenset[str]
    first_access: datetime
    last_access: datetime
    accesses: int = 1


@dataclass(slots=True)
class BreachFindings:
    """Every affected citizen (in the order of their first access) and what was skipped."""

    window: BreachWindow
    affected: dict[str, AffectedSubject] = field(default_factory=dict)
    entries: int = 0
    without_subject: int = 0
    not_successful: int = 0
    invalid_entries: int = 0


def collect_breach(window: BreachWindow, leaves: Iterable[StoredLeaf]) -> BreachFindings:
    """Fold the actor's entries in the window (``leaves``, in log order) into findings.

    ``leaves`` is normally ``AuditLog.events(window.event_filter())``, which pages through
    the log; leaves of other actors or outside the window are ignored here as well, so a
    wider iterable gives the same answer.
    """
    findings = BreachFindings(window)
    interned: dict[frozenset[str], frozenset[str]] = {}

    def intern(values: frozenset[str]) -> frozenset[str]:
        return interned.setdefault(values, values)

    for leaf in leaves:
        if leaf.actor_id != window.actor_id or not window.since <= leaf.event_at < window.until:
            continue
        findings.entries += 1
        try:
            entry = decode_entry(leaf.entry)
        except InvalidEntry:
            findings.invalid_entries += 1  # `jati audit verify` names it
            continue
        if entry.subject is None:
            findings.without_subject += 1
            continue
        if entry.outcome is not Outcome.SUCCESS:
            findings.not_successful += 1
            continue
        known = findings.affected.get(entry.subject)
        if known is None:
            findings.affected[entry.subject] = AffectedSubject(
                subject=entry.subject,
                data_items=intern(frozenset(entry.data_items)),
                actions=intern(frozenset((entry.action.value,))),
                first_access=entry.time,
                last_access=entry.time,
            )
            continue
        known.accesses += 1
        if not known.data_items.issuperset(entry.data_items):
            known.data_items = intern(known.data_items | frozenset(entry.data_items))
        if entry.action.value not in known.actions:
            known.actions = intern(known.actions | {entry.action.value})
        known.first_access = min(known.first_access, entry.time)
        known.last_access = max(known.last_access, entry.time)
    return findings
