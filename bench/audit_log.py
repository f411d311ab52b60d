"""Audit log benchmarks (issue: tamper-evident audit log). Every figure is a ratio against a
baseline measured in the same run, on the same database:

1. transactional append, 8 concurrent writer processes (as web workers are), one committed
   transaction per entry, versus
   a plain INSERT of the same bytes done the same way (target >= 0.8), with the sequencer
   running beside the writers; the lag is the time the queue takes to drain once they stop
   (target: within 1 s);
2. sequencer integration (entries into the tree, subtree hashes included) versus a batched
   plain INSERT of the same bytes (target >= 0.3);
3. inclusion and consistency proof time at 10^4, 10^5 and 10^6 leaves: 10^6 / 10^4 <= 2;
4. ``jati audit verify`` throughput versus raw ``hashlib.sha256`` over the same entry
   bytes (target >= 0.3).

SQLite always; PostgreSQL too when ``JATI_BENCH_DATABASE_URL`` is set.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from audit.entry import encode_entry
from audit.storage.store import SqlAuditStore
from audit.storage.verification import verify_stored_log
from bench.audit_fixtures import (
    PG_URL,
    audit_log,
    bench_database,
    encoded_entries,
    make_entry,
    now,
)
from bench.common import Figure
from identity.storage.database import Database

WRITERS = 8


def run(*, quick: bool = False) -> list[Figure]:
    kinds = ["sqlite", *(["postgresql"] if PG_URL else [])]
    figures: list[Figure] = []
    for kind in kinds:
        figures.extend(append_with_writers(kind, per_writer=100 if quick else 400))
        figures.append(integration(kind, count=10_000 if quick else 50_000))
    sizes = (1_000, 10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    figures.extend(proofs_and_verify("sqlite", sizes))
    if not PG_URL:
        print("   (PostgreSQL figures: set JATI_BENCH_DATABASE_URL=postgresql+psycopg://...)")
    return figures


def _writer(
    url: str, work: str, first: int, count: int, barrier: Any, done: Any
) -> None:  # pragma: no cover - runs in a child process
    """One writer process: ``count`` transactions, each committing one entry."""
    db = Database(url, pool_size=1)
    store = SqlAuditStore(engine=db.engine)
    entries = [make_entry(n) for n in range(first, first + count)]
    payloads = [encode_entry(e) for e in entries]
    plain = text("INSERT INTO bench_plain (entry) VALUES (:entry)")
    with db.write() as session:  # connect before the clock starts
        session.execute(text("SELECT 1"))
    barrier.wait()
    for n in range(count):
        with db.write() as session:
            if work == "plain":
                session.execute(plain, {"entry": payloads[n]})
            else:
                store.append(session, entries[n], queued_at=now())
    done.put(n + 1)
    db.dispose()


def _concurrently(db: Database, work: str, per_writer: int, first: int) -> float:
    """Seconds for WRITERS processes (like web workers) to each commit ``per_writer``
    transactions of ``work`` ("plain" or "append")."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS + 1)
    done = context.Queue()
    processes = [
        context.Process(
            target=_writer,
            args=(db.url, work, first + w * per_writer, per_writer, barrier, done),
        )
        for w in range(WRITERS)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    began = time.perf_counter()
    committed = sum(done.get(timeout=600) for _ in processes)
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a writer process failed ({process.exitcode})")
    assert committed == WRITERS * per_writer
    return elapsed


def append_with_writers(kind: str, *, per_writer: int, rounds: int = 3) -> list[Figure]:
    """Plain and append phases alternate ``rounds`` times (the median of each counts), with
    the sequencer running throughout, as it does in the service."""
    total = WRITERS * per_writer
    plain_rates: list[float] = []
    append_rates: list[float] = []
    drains: list[float] = []
    with bench_database(kind) as db:
        log = audit_log(db)
        store = log.store
        assert isinstance(store, SqlAuditStore)
        stop = threading.Event()
        max_lag = 0.0

        def sequencer() -> None:
            nonlocal max_lag
            while not stop.is_set():
                log.sequence()
                max_lag = max(max_lag, log.lag_seconds())
                stop.wait(log.sequencer_interval)

        runner = threading.Thread(target=sequencer)
        runner.start()
        try:
            _concurrently(db, "plain", per_writer // 10, first=0)  # warm-up
            for r in range(rounds):
                plain_rates.append(total / _concurrently(db, "plain", per_writer, first=0))
                append_rates.append(
                    total / _concurrently(db, "append", per_writer, first=r * total)
                )
                stopped = time.perf_counter()
                while store.queue_status().length:
                    time.sleep(0.01)
                drains.append(time.perf_counter() - stopped)
        finally:
            stop.set()
            runner.join()
        state = store.tree_state()
        assert state is not None and state.tree_size == rounds * total, "all integrated"
    return [
        Figure(
            f"[{kind}] transactional append, {WRITERS} writer processes / plain insert",
            statistics.median(append_rates),
            statistics.median(plain_rates),
            "entries/s",
            target=0.8,
            note=f"median of {rounds} alternating rounds; largest integration lag seen "
            f"while writing {max_lag:.2f} s",
        ),
        Figure(
            f"[{kind}] queue drained after the writers stop (s) / 1 s",
            max(drains),
            1.0,
            "s",
            target=1.0,
            higher_is_better=False,
            note="slowest of the rounds",
        ),
    ]


def integration(kind: str, *, count: int, rounds: int = 3) -> Figure:
    """Each round on a fresh database: the baseline inserts the entries, the sequencer
    integrates the same entries; the medians of the rounds are compared."""
    entries = encoded_entries(count)
    plain_rates: list[float] = []
    integrate_rates: list[float] = []
    batch = 2000
    for _ in range(rounds):
        with bench_database(kind) as db:
            log = audit_log(db, batch_size=batch)
            store = log.store
            assert isinstance(store, SqlAuditStore)
            insert_plain = text("INSERT INTO bench_plain (entry) VALUES (:entry)")
            began = time.perf_counter()
            for i in range(0, count, batch):
                with db.write() as session:
                    session.execute(insert_plain, [{"entry": e} for e in entries[i : i + batch]])
            plain_rates.append(count / (time.perf_counter() - began))
            for i in range(0, count, 10_000):
                with db.write() as session:
                    store.append_encoded(session, entries[i : i + 10_000], queued_at=now())
            began = time.perf_counter()
            result = log.sequence(checkpoint=True)
            integrate_rates.append(count / (time.perf_counter() - began))
            assert result.integrated == count
    return Figure(
        f"[{kind}] sequencer integration / batched plain insert",
        statistics.median(integrate_rates),
        statistics.median(plain_rates),
        "entries/s",
        target=0.3,
        note=f"{count:,} entries in batches of {batch}, median of {rounds} fresh databases",
    )


def _median_seconds(call: Callable[[], object], samples: int) -> float:
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def proofs_and_verify(kind: str, sizes: tuple[int, int, int]) -> list[Figure]:
    rng = random.Random(9162)
    inclusion: dict[int, float] = {}
    consistency: dict[int, float] = {}
    samples = 300
    with bench_database(kind) as db:
        log = audit_log(db, batch_size=10_000)
        store = log.store
        assert isinstance(store, SqlAuditStore)
        built = 0
        sample_entries: list[bytes] = []
        for size in sizes:
            while built < size:
                chunk = encoded_entries(min(10_000, size - built), start=built)
                if len(sample_entries) < 100_000:
                    sample_entries.extend(chunk)
                with db.write() as session:
                    store.append_encoded(session, chunk, queued_at=now())
                log.sequence(checkpoint=False)
                built += len(chunk)
            log.sequence(checkpoint=True)
            log.inclusion_proof(0, size)  # warm the connection pool
            inclusion[size] = _median_seconds(
                lambda n=size: log.inclusion_proof(rng.randrange(n), n), samples
            )
            consistency[size] = _median_seconds(
                lambda n=size: log.consistency_proof(rng.randrange(1, n), n), samples
            )
            print(
                f"   [{kind}] {size:>9,} leaves: inclusion {inclusion[size] * 1e3:.3f} ms, "
                f"consistency {consistency[size] * 1e3:.3f} ms",
                flush=True,
            )
        small, _, large = sizes
        raw_rate = 0.0
        verify_rate = 0.0
        for _ in range(2):  # best of two, alternating, for both
            began = time.perf_counter()
            for entry in sample_entries:
                hashlib.sha256(entry).digest()
            raw_rate = max(raw_rate, len(sample_entries) / (time.perf_counter() - began))
            began = time.perf_counter()
            report = verify_stored_log(log, store)
            verify_rate = max(verify_rate, report.leaves_checked / (time.perf_counter() - began))
            assert report.ok and report.leaves_checked == large
    label = f"{large // small}x more leaves ({large:,} / {small:,})"
    return [
        Figure(
            f"[{kind}] inclusion proof time, {label}",
            inclusion[large] * 1e6,
            inclusion[small] * 1e6,
            "us",
            target=2,
            higher_is_better=False,
            note="median of 300 proofs",
        ),
        Figure(
            f"[{kind}] consistency proof time, {label}",
            consistency[large] * 1e6,
            consistency[small] * 1e6,
            "us",
            target=2,
            higher_is_better=False,
        ),
        Figure(
            f"[{kind}] audit verify / raw sha256 of the entries",
            verify_rate,
            raw_rate,
            "entries/s",
            target=0.3,
            note=f"{large:,} entries, checkpoints, subtree hashes and columns checked; "
            "best of two for each",
        ),
    ]
