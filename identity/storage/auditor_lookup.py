"""What auditor access to the audit log (UU PDP Art. 31, 46) reads and writes in Jati's
database (the logic is :mod:`identity.citizens.auditor_lookup`'s):

- :class:`AuditRecorder`: commits one audit entry (an auditor's query) in its own
  transaction through the log's normal append path, so the sequencer puts it in the tree.
- :func:`citizen_ids_for`: pseudonyms -> citizen ids for a breach report, over every
  citizen id streamed once (a server-side cursor on PostgreSQL; ids only, no personal
  field), erased citizens included: their tombstone keeps the id.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from audit import AuditAppender
from audit.entry import AuditEntry
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.auditor_lookup import match_pseudonyms
from identity.storage.citizens import IdentityCitizen
from identity.storage.database import Database

__all__ = ["AuditRecorder", "citizen_ids_for"]


class AuditRecorder:
    """:class:`audit.search.EntryRecorder`: one entry, one committed write transaction."""

    def __init__(self, *, database: Database, appender: AuditAppender) -> None:
        self._database = database
        self._appender = appender

    def record(self, entry: AuditEntry) -> None:
        with self._database.write() as session:
            self._appender.append(session, entry, queued_at=entry.time)


def citizen_ids_for(
    pseudonyms: Collection[str],
    *,
    database: Database,
    pseudonymizer: SubjectPseudonymizer,
    batch: int = 5000,
) -> dict[str, str]:
    """The citizen id behind each of ``pseudonyms`` that belongs to a citizen (erased ones
    included: their tombstone keeps the id). Pseudonyms of no citizen are left out.

    Streams every citizen id once (server-side cursor on PostgreSQL) and stops early when
    all are found: O(citizens) HMACs, memory O(len(pseudonyms)).
    """
    wanted = set(pseudonyms)
    if not wanted:
        return {}
    query = select(IdentityCitizen.id).execution_options(yield_per=batch)
    with database.read() as session:
        return match_pseudonyms(wanted, session.scalars(query), pseudonymizer)
