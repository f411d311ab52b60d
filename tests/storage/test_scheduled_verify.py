"""The full verification of the audit log on a schedule (identity/service/audit_verification.py):
it runs when due on the lock's holder, keeps its result across restarts, publishes it as
gauges, finds an edited entry, and makes /readyz answer 503 after a failed run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import text

from audit.entry import AuditEntry, encode_entry
from audit.log import AuditLog
from audit.storage.store import SqlAuditStore
from identity.service.app import create_app
from identity.service.audit_verification import (
    RESULT_FILE,
    VerificationResult,
    read_result,
    record_result,
    run_scheduled_verify,
    verify_lock,
)
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.conftest import ManualClock
from tests.storage.test_tamper import drop_triggers


def _run(
    audit_log: AuditLog, store: SqlAuditStore, data_dir: Path, clock: ManualClock, *,
    interval: float = 3600, until: Callable[[], bool], seconds: float = 10.0,
) -> None:  # fmt: skip
    """Run the schedule until ``until()`` holds (or ``seconds`` pass), then stop it."""

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_scheduled_verify(
                audit_log,
                store,
                data_dir,
                stop,
                interval=interval,
                lock=verify_lock(data_dir),
                clock=clock,
                first_delay=0,
            )
        )
        for _ in range(int(seconds * 20)):
            if until() or task.done():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(main())


def _gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


def test_a_due_run_verifies_the_log_and_publishes_the_result(
    tmp_path: Path,
    audit_log: AuditLog,
    audit_store: SqlAuditStore,
    clock: ManualClock,
    add_entries: Callable[[int], list[AuditEntry]],
) -> None:
    add_entries(12)
    audit_log.sequence(checkpoint=True)
    _run(audit_log, audit_store, tmp_path, clock, until=(tmp_path / RESULT_FILE).exists)
    result = read_result(tmp_path)
    assert result is not None and result.ok and result.entries == 12 and result.findings == 0
    assert result.finished_at == clock()
    assert _gauge("jati_audit_verify_failed") == 0
    assert _gauge("jati_audit_verify_entries") == 12
    assert _gauge("jati_audit_verify_last_run_timestamp_seconds") == clock().timestamp()

    # not due yet: a restart does not verify again (the kept result stands)
    before = (tmp_path / RESULT_FILE).stat().st_mtime_ns
    clock.advance(1800)
    _run(audit_log, audit_store, tmp_path, clock, until=lambda: False, seconds=0.5)
    assert (tmp_path / RESULT_FILE).stat().st_mtime_ns == before


def test_an_edited_entry_fails_the_next_run_and_readyz(
    tmp_path: Path,
    database: Database,
    audit_log: AuditLog,
    audit_store: SqlAuditStore,
    clock: ManualClock,
    add_entries: Callable[[int], list[AuditEntry]],
    make_settings: Callable[..., Settings],
) -> None:
    entries = add_entries(8)
    audit_log.sequence(checkpoint=True)
    data_dir = tmp_path / "data"
    record_result(
        data_dir,
        VerificationResult(clock() - timedelta(days=2), True, 8, 1, 0, 0.01),
    )  # the last run, two days ago: due again
    drop_triggers(database)
    edited = encode_entry(entries[3].at(entries[3].time + timedelta(seconds=1)))
    with database.write() as session:
        session.execute(
            text("UPDATE audit_leaf SET entry = :e WHERE leaf_index = 3"), {"e": edited}
        )
    _run(
        audit_log, audit_store, data_dir, clock,
        until=lambda: (r := read_result(data_dir)) is not None and not r.ok,
    )  # fmt: skip
    result = read_result(data_dir)
    assert result is not None and not result.ok and result.findings >= 1
    assert result.first_finding is not None and "3" in result.first_finding
    assert _gauge("jati_audit_verify_failed") == 1
    with TestClient(create_app(make_settings(), database=database)) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["type"].endswith("/audit_log_verification_failed")


def test_only_the_locks_holder_runs_and_zero_turns_it_off(
    tmp_path: Path,
    audit_log: AuditLog,
    audit_store: SqlAuditStore,
    clock: ManualClock,
) -> None:
    holder = verify_lock(tmp_path)
    assert holder.try_acquire()
    try:
        _run(audit_log, audit_store, tmp_path, clock, until=lambda: False, seconds=0.5)
        assert read_result(tmp_path) is None  # another worker holds the lock
    finally:
        holder.release()
    _run(audit_log, audit_store, tmp_path, clock, interval=0, until=lambda: False, seconds=0.5)
    assert read_result(tmp_path) is None


@pytest.mark.parametrize("content", ["", "{", '{"ok": true}', "[]"])
def test_an_unreadable_result_is_none(tmp_path: Path, content: str) -> None:
    (tmp_path / RESULT_FILE).write_text(content)
    assert read_result(tmp_path) is None
