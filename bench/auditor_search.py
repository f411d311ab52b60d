"""An auditor's search by citizen against the size of the log (issue 20): the time of the first
page of :func:`audit.search.search_events` (the console's search and ``GET /audit/events``:
the citizen resolved to their pseudonym, the leaves read through the ``(subject,
leaf_index)`` index, the search itself recorded in the log) for one citizen, in a log of
:data:`LARGE` entries against the same in a log of :data:`SMALL`, in the same database as it
grows, each the median of :data:`SAMPLES` searches.

Target <= 5: the search is index-backed, not a scan. The log's entries are the audit
benchmark's typical disclosures about 100,000 citizens (:func:`bench.audit_fixtures.make_entry`);
the citizen searched has 1 entry in the small log and 10 in the large one. The NIK's blind
index look-up is left out (a constant: one indexed row of the citizens' table); the
recording of each search is in. SQLite, or PostgreSQL with ``JATI_BENCH_DATABASE_URL``.
"""

from __future__ import annotations

import statistics
import time

from audit.entry import Actor, ActorKind
from audit.log import AuditLog
from audit.search import Search, search_events
from audit.storage.store import SqlAuditStore
from bench.audit_fixtures import (
    _PSEUDONYMS,
    PG_URL,
    audit_log,
    bench_database,
    encoded_entries,
    now,
)
from bench.common import Figure
from identity.storage.auditor_lookup import AuditRecorder
from identity.storage.database import Database

SMALL = 10_000
LARGE = 1_000_000
SAMPLES = 200
_CHUNK = 10_000
AUDITOR = Actor(ActorKind.OFFICIAL, "staff:bench:auditor")
CITIZEN = "citizen-7"


class _Resolver:
    """The citizen's pseudonym for the NIK the auditor typed (the blind index left out)."""

    def pseudonym_for_nik(self, nik: str) -> str | None:
        return _PSEUDONYMS.pseudonym(CITIZEN)

    def pseudonym_for_id(self, subject_id: str) -> str:
        return _PSEUDONYMS.pseudonym(subject_id)


def _grow(db: Database, log: AuditLog, store: SqlAuditStore, start: int, end: int) -> None:
    for first in range(start, end, _CHUNK):
        chunk = encoded_entries(min(_CHUNK, end - first), start=first)
        with db.write() as session:
            store.append_encoded(session, chunk, queued_at=now())
        log.sequence(checkpoint=False)


def _search_time(log: AuditLog, recorder: AuditRecorder, samples: int) -> float:
    asked = Search(subject="3171014101900003")
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        _flt, page = search_events(
            log, recorder, _Resolver(), AUDITOR, asked, resource="events", limit=50
        )
        times.append(time.perf_counter() - began)
        assert page, "the citizen has entries"
    return statistics.median(times)


def run(*, quick: bool = False) -> list[Figure]:
    kind = "postgresql" if PG_URL else "sqlite"
    large = LARGE // 10 if quick else LARGE
    with bench_database(kind) as db:
        log = audit_log(db, batch_size=_CHUNK)
        store = log.store
        assert isinstance(store, SqlAuditStore)
        recorder = AuditRecorder(database=db, appender=store)
        _grow(db, log, store, 0, SMALL)
        small_time = _search_time(log, recorder, SAMPLES)
        _grow(db, log, store, SMALL, large)
        if kind == "postgresql":
            with db.engine.begin() as conn:  # what autovacuum does after a load this size
                conn.exec_driver_sql("ANALYZE audit_leaf")
        large_time = _search_time(log, recorder, SAMPLES)
    return [
        Figure(
            f"auditor search by citizen, {large:,} / {SMALL:,} entries ({kind})",
            large_time * 1000,
            small_time * 1000,
            "ms",
            target=5.0,
            higher_is_better=False,
            note="first page of 50, the search recorded; medians",
        )
    ]
