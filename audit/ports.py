"""What the other packages hand the audit log, declared once: every service that writes personal
data takes an :class:`AuditAppender` and a :class:`Pseudonymizer` (UU PDP Art. 31: every access is
recorded, in the same transaction as the access; the log knows citizens only by keyed pseudonym).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from audit.entry import AuditEntry

__all__ = ["AuditAppender", "Pseudonymizer"]


class AuditAppender(Protocol):
    """Appends an entry in the caller's transaction
    (:meth:`audit.storage.store.SqlAuditStore.append`): the entry commits or rolls back with the
    access it records."""

    def append(self, bind: Any, entry: AuditEntry, *, queued_at: datetime) -> None: ...


class Pseudonymizer(Protocol):
    """A citizen's keyed pseudonym in the log (:class:`audit.pseudonym.SubjectPseudonymizer`)."""

    def pseudonym(self, subject_id: str) -> str: ...
