"""Plain values that the audit storage hands to the core (no SQLAlchemy types)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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


@dataclass(frozen=True, slots=True)
class Integration:
    """What one sequencer run did. ``skipped`` when another process holds the sequencer."""

    size_before: int
    size_after: int
    checkpoint: StoredCheckpoint | None = None
    oldest_queued_at: datetime | None = None
    skipped: bool = False

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
