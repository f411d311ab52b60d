"""An auditor's search of the log (UU PDP Art. 31, 46), as ``GET /audit/events`` and the
console's search page run it: the citizen named by NIK (through the keyed blind index), by
internal id or by pseudonym, and the other filters (actor, purpose, the Art. 20(2) legal
basis, the window); each search is itself recorded in the log under the auditor who ran it
(:func:`audit.records.auditor_query_entry`), naming the filters used (never their values)
and the citizen's pseudonym. A well-formed NIK or id that
names no citizen gives no entries, like a citizen without events. A core: no framework."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from audit.entry import Actor, AuditEntry, LegalBasis
from audit.errors import InvalidRequest
from audit.log import AuditLog
from audit.records import EventFilter, StoredLeaf, auditor_query_entry

__all__ = ["EntryRecorder", "Search", "SubjectResolver", "search_events"]

_PSEUDONYM = re.compile(r"[A-Za-z0-9_-]{43}")
_BASES = frozenset(basis.value for basis in LegalBasis)


class SubjectResolver(Protocol):
    """From what an auditor knows of a citizen to the audit pseudonym (identity provides it)."""

    def pseudonym_for_nik(self, nik: str) -> str | None:
        """The pseudonym of the citizen registered with ``nik``; None if none is.

        Raises an ``InvalidInput`` (400) for a malformed NIK, whose message never repeats it.
        """
        ...

    def pseudonym_for_id(self, subject_id: str) -> str: ...


class EntryRecorder(Protocol):
    """Appends one entry to the log's queue in its own committed transaction."""

    def record(self, entry: AuditEntry) -> None: ...


@dataclass(frozen=True, slots=True)
class Search:
    """What an auditor asks: each field optional; ``subject`` is a NIK or a pseudonym."""

    subject: str | None = None
    subject_id: str | None = None
    actor: str | None = None
    purpose: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    legal_basis: str | None = None


def search_events(
    audit_log: AuditLog,
    recorder: EntryRecorder,
    resolver: SubjectResolver,
    auditor: Actor,
    search: Search,
    *,
    resource: str,
    after: int = -1,
    limit: int = 100,
) -> tuple[EventFilter, list[StoredLeaf]]:
    """The filter run (the citizen as a pseudonym) and up to ``limit`` integrated entries after
    leaf ``after``, in log order; the search recorded under ``auditor``.

    Raises:
        InvalidRequest: both a subject and a subject id, a time without a zone, or a legal
            basis that is none of UU PDP Art. 20(2)'s six letters.
        InvalidInput: a malformed NIK (never repeated).
    """
    for name, value in (("since", search.since), ("until", search.until)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequest(f"{name} needs a time zone, e.g. 2026-11-28T00:00:00Z")
    if search.subject is not None and search.subject_id is not None:
        raise InvalidRequest("give subject or subject_id, not both")
    if search.legal_basis is not None and search.legal_basis not in _BASES:
        raise InvalidRequest("legal_basis is one of a, b, c, d, e, f (UU PDP Art. 20(2))")
    pseudonym, how = None, None
    if search.subject is not None and _PSEUDONYM.fullmatch(search.subject):
        pseudonym, how = search.subject, "subject"
    elif search.subject is not None:
        pseudonym, how = resolver.pseudonym_for_nik(search.subject), "nik"
    elif search.subject_id is not None:
        pseudonym, how = resolver.pseudonym_for_id(search.subject_id), "subject-id"
    flt = EventFilter(
        subject=pseudonym, actor_id=search.actor, purpose=search.purpose,
        since=search.since, until=search.until, legal_basis=search.legal_basis,
    )  # fmt: skip
    names = tuple(n for n in flt.names() if n != "subject")
    unknown_citizen = how is not None and pseudonym is None
    page = [] if unknown_citizen else audit_log.store.query(flt, after=after, limit=limit)
    recorder.record(
        auditor_query_entry(
            time=audit_log.clock(), actor=auditor, resource=resource,
            filters=(how, *names) if how else names, subject=pseudonym,
        )
    )  # fmt: skip
    return flt, page
