"""Plain values that the audit storage hands to the core (no SQLAlchemy types), and the
auditor's query: its filter and the entry that records it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from audit.entry import Action, Actor, AuditEntry, LegalBasis


@dataclass(frozen=True, slots=True)
class TreeState:
    """The sequencer's view of the log: everything integrated so far."""

    origin: str
    tree_size: int
    root_hash: bytes
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    tree_size: int
    root_hash: bytes
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredLeaf:
    """A leaf row: the entry bytes, the stored leaf hash and the columns copied for queries."""

    leaf_index: int
    entry: bytes
    leaf_hash: bytes
    event_at: datetime
    subject: str | None
    actor_kind: str
    actor_id: str
    action: str
    purpose: str | None
    legal_basis: str | None = None
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class Integration:
    """What one sequencer run did. ``skipped`` when another process holds the sequencer;
    ``drained`` when the run left nothing queued as of its last snapshot."""

    size_before: int
    size_after: int
    checkpoint: StoredCheckpoint | None = None
    oldest_queued_at: datetime | None = None
    skipped: bool = False
    drained: bool = False

    @property
    def integrated(self) -> int:
        return self.size_after - self.size_before


@dataclass(frozen=True, slots=True)
class QueueStatus:
    length: int
    oldest_queued_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventFilter:
    """An auditor's query (UU PDP Art. 31, 46): every field optional, all must match."""

    subject: str | None = None
    actor_id: str | None = None
    purpose: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    legal_basis: str | None = None

    def names(self) -> tuple[str, ...]:
        """The names of the filters in use (never their values), in a fixed order."""
        fields = ("subject", "actor_id", "purpose", "legal_basis", "since", "until")
        return tuple(name.removesuffix("_id") for name in fields if getattr(self, name) is not None)


#: The purpose code of an auditor's query of the log (UU PDP Art. 31: the record of
#: processing is itself processing, and is recorded).
AUDIT_QUERY_PURPOSE = "audit-query"


def auditor_query_entry(
    *,
    time: datetime,
    actor: Actor,
    resource: str,
    filters: Iterable[str] = (),
    subject: str | None = None,
) -> AuditEntry:
    """The audit entry recording one auditor query of the log (UU PDP Art. 31, 46).

    Reading the log is reading processing records, so it is recorded like any other read:
    action ``read``, purpose ``audit-query``, legal basis (c), the legal obligation to keep
    and examine the record (Art. 20(2)(c), 31). The data items name what was read
    (``audit:<resource>``) and each filter used (``filter:<name>``), never a filter's value:
    a NIK given as a filter appears only as the subject's keyed pseudonym, in ``subject``.

    Args:
        time: when the query ran (the log's clock, read once).
        actor: who asked (an auditor app's client id, or ``cli/<user>`` on the command line).
        resource: a code for what was read: ``events``, ``leaves``, ``breach-report``.
        filters: the names of the filters used (codes such as ``actor`` or ``nik``).
        subject: the pseudonym of the citizen the query was about, if it named one.

    Raises:
        InvalidEntry: a resource or filter name that is not a code.
    """
    return AuditEntry(
        time=time,
        actor=actor,
        action=Action.READ,
        subject=subject,
        data_items=(f"audit:{resource}", *(f"filter:{name}" for name in filters)),
        purpose=AUDIT_QUERY_PURPOSE,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
    )
