"""One sequencer per host (identity.service.host_lock,
identity.service.background.run_sequencer): the worker holding the lock integrates, the others
stand by, take over when it stops, and report its integrity status as their own."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.entry import AuditEntry
from audit.errors import LogCorrupted
from audit.log import AuditLog
from audit.records import Integration
from audit.storage.store import SqlAuditStore
from identity.service.background import SequencerHealth, run_sequencer
from identity.service.host_lock import HostLock
from identity.storage.database import Database
from tests.conftest import TEST_LOG_ORIGIN, TEST_LOG_SEED, ManualClock, append_entries

INTERVAL = 0.01


class CountingLog(AuditLog):
    """An audit log that counts its sequencer runs and can be made to fail."""

    def __init__(self, database: Database, clock: ManualClock) -> None:
        super().__init__(
            store=SqlAuditStore(engine=database.engine),
            signing_key=Ed25519PrivateKey.from_private_bytes(TEST_LOG_SEED),
            clock=clock,
            origin=TEST_LOG_ORIGIN,
        )
        self.sequencer_interval = INTERVAL
        self.runs = 0
        self.failure: Exception | None = None

    def sequence(self, *, checkpoint: bool | None = None, drain: bool = True) -> Integration:
        self.runs += 1
        if self.failure is not None:
            raise self.failure
        return super().sequence(checkpoint=checkpoint, drain=drain)


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(INTERVAL)


def test_one_worker_of_the_host_sequences_and_another_takes_over_when_it_stops(
    database: Database,
    clock: ManualClock,
    make_entry: Callable[..., AuditEntry],
    tmp_path: Path,
) -> None:
    lock_path = tmp_path / "audit-sequencer.lock"
    first, second = CountingLog(database, clock), CountingLog(database, clock)
    store = SqlAuditStore(engine=database.engine)

    async def scenario() -> None:
        stop_first, stop_second = asyncio.Event(), asyncio.Event()
        running_first = asyncio.create_task(
            run_sequencer(first, stop_first, lock=HostLock(lock_path))
        )
        await _until(lambda: first.runs > 0)
        running_second = asyncio.create_task(
            run_sequencer(second, stop_second, lock=HostLock(lock_path))
        )
        append_entries(database, store, [make_entry() for _ in range(5)], clock)
        await _until(lambda: _tree_size(store) == 5)
        await asyncio.sleep(20 * INTERVAL)
        assert second.runs == 0  # standing by while the first holds the lock

        stop_first.set()
        await running_first
        append_entries(database, store, [make_entry() for _ in range(3)], clock)
        await _until(lambda: _tree_size(store) == 8)
        assert second.runs > 0
        stop_second.set()
        await running_second

    asyncio.run(scenario())


def test_workers_standing_by_report_the_sequencers_integrity_failure(
    database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    lock_path = tmp_path / "audit-sequencer.lock"
    leader, standby = CountingLog(database, clock), CountingLog(database, clock)
    leader_health, standby_health = SequencerHealth(), SequencerHealth()

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(run_sequencer(leader, stop, leader_health, HostLock(lock_path)))
        ]
        await _until(lambda: leader.runs > 0)
        tasks.append(
            asyncio.create_task(run_sequencer(standby, stop, standby_health, HostLock(lock_path)))
        )
        leader.failure = LogCorrupted("the stored tree does not extend the checkpoint")
        await _until(lambda: standby_health.integrity_failure)
        assert leader_health.integrity_failure
        assert standby.runs == 0

        leader.failure = None  # repaired: every worker is ready again
        await _until(lambda: not standby_health.integrity_failure, timeout=30)
        assert not leader_health.integrity_failure
        stop.set()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())


def test_a_lock_is_exclusive_per_file_and_freed_when_its_holder_exits(tmp_path: Path) -> None:
    path = tmp_path / "job.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from identity.service.host_lock import HostLock
                lock = HostLock(Path({str(path)!r}))
                assert lock.try_acquire()
                lock.write_status("ok")
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine = HostLock(path)
        assert not mine.try_acquire()
        assert mine.read_status() == "ok"
        with pytest.raises(RuntimeError):
            mine.write_status("not the holder")
    finally:
        holder.kill()
        holder.wait()
    assert mine.try_acquire()  # the kernel freed it with the process
    other = HostLock(path)
    assert not other.try_acquire()  # also exclusive within one process
    mine.write_status("integrity: broken")
    assert other.read_status() == "integrity: broken"
    mine.release()
    assert other.try_acquire()
    other.release()


def _tree_size(store: SqlAuditStore) -> int:
    state = store.tree_state()
    return state.tree_size if state else 0


def test_an_unusable_lock_file_does_not_stop_sequencing(
    database: Database,
    clock: ManualClock,
    make_entry: Callable[..., AuditEntry],
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "audit-sequencer.lock"
    blocked.mkdir()  # a directory where the lock file should be: it cannot be opened
    audit_log = CountingLog(database, clock)
    store = SqlAuditStore(engine=database.engine)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run_sequencer(audit_log, stop, lock=HostLock(blocked)))
        append_entries(database, store, [make_entry() for _ in range(2)], clock)
        await _until(lambda: _tree_size(store) == 2)  # the database still elects it
        stop.set()
        await task

    asyncio.run(scenario())
