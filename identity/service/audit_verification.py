"""The full verification of the audit log on a schedule, in the service (issue 20: the result
and time of the last full ``jati audit verify``, in ``/metrics`` and for the console).

Every ``JATI_AUDIT_VERIFY_INTERVAL`` seconds (a day by default; 0 turns it off) one worker
per host (the holder of ``<data dir>/audit-verify.lock``) recomputes the whole log as
``jati audit verify`` does (:func:`audit.storage.verification.verify_stored_log`: every
entry, subtree hash and stored checkpoint) on a worker thread. Its result, and that of every
``jati audit verify`` run on this host, is kept in ``<data dir>/audit-verify.json`` (written
whole, then renamed: never half a file), so that a restart does not verify again before it
is due and every worker can read the last result. The holder publishes it as gauges:
``jati_audit_verify_last_run_timestamp_seconds``, ``jati_audit_verify_failed`` (1 after a
run that found a problem), ``jati_audit_verify_entries`` and
``jati_audit_verify_duration_seconds`` (the most recent value of any worker, so a later
clean run clears a failure); a failed run also makes ``/readyz`` answer 503.
The result holds counts, times and the first finding's kind and message (leaf indices and
column names: never an entry's content).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from prometheus_client import Gauge

from audit.log import AuditLog
from audit.storage.store import SqlAuditStore
from audit.storage.verification import verify_stored_log
from audit.verify import VerifyReport
from identity.service.host_lock import HostLock

__all__ = [
    "RESULT_FILE",
    "VERIFY_LOCK_FILE",
    "VerificationResult",
    "read_result",
    "record_result",
    "run_scheduled_verify",
    "verify_lock",
    "verify_now",
]

log = logging.getLogger(__name__)

VERIFY_LOCK_FILE = "audit-verify.lock"
RESULT_FILE = "audit-verify.json"
#: How often a worker that does not hold the lock tries to take it over.
_STANDBY_SECONDS = 60.0
#: The longest single wait, so that a stop or a changed result is noticed.
_MAX_WAIT_SECONDS = 300.0

LAST_RUN = Gauge(
    "jati_audit_verify_last_run_timestamp_seconds",
    "When the last full verification of the audit log finished (Unix time).",
    multiprocess_mode="mostrecent",
)
FAILED = Gauge(
    "jati_audit_verify_failed",
    "1 when the last full verification of the audit log found a problem.",
    multiprocess_mode="mostrecent",
)
ENTRIES = Gauge(
    "jati_audit_verify_entries",
    "Entries the last full verification of the audit log checked.",
    multiprocess_mode="mostrecent",
)
DURATION = Gauge(
    "jati_audit_verify_duration_seconds",
    "How long the last full verification of the audit log took.",
    multiprocess_mode="mostrecent",
)


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """One full verification: when it finished, whether the log verified, what it checked."""

    finished_at: datetime
    ok: bool
    entries: int
    checkpoints: int
    findings: int
    duration_seconds: float
    first_finding: str | None = None

    @classmethod
    def of(cls, report: VerifyReport, finished_at: datetime, seconds: float) -> VerificationResult:
        first = report.findings[0] if report.findings else None
        return cls(
            finished_at=finished_at,
            ok=report.ok,
            entries=report.leaves_checked,
            checkpoints=report.checkpoints_checked,
            findings=len(report.findings),
            duration_seconds=round(seconds, 3),
            first_finding=f"[{first.kind}] {first.message}" if first else None,
        )

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "finished_at": self.finished_at.isoformat()})


def read_result(data_dir: Path) -> VerificationResult | None:
    """The last result recorded on this host, or None (none yet, or unreadable)."""
    try:
        raw = json.loads((data_dir / RESULT_FILE).read_text(encoding="utf-8"))
        return VerificationResult(
            **{**raw, "finished_at": datetime.fromisoformat(raw["finished_at"])}
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None


def record_result(data_dir: Path, result: VerificationResult) -> None:
    """Keep ``result`` as the host's last one (a whole file, renamed into place)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = data_dir / f".{RESULT_FILE}.{os.getpid()}"
    partial.write_text(result.to_json(), encoding="utf-8")
    os.replace(partial, data_dir / RESULT_FILE)


def _publish(result: VerificationResult) -> None:
    LAST_RUN.set(result.finished_at.timestamp())
    FAILED.set(0 if result.ok else 1)
    ENTRIES.set(result.entries)
    DURATION.set(result.duration_seconds)


def verify_now(
    audit_log: AuditLog, store: SqlAuditStore, clock: Callable[[], datetime]
) -> VerificationResult:
    """One full verification (blocking: run it on a worker thread)."""
    started = time.perf_counter()
    report = verify_stored_log(audit_log, store)
    return VerificationResult.of(report, clock(), time.perf_counter() - started)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))


async def run_scheduled_verify(
    audit_log: AuditLog,
    store: SqlAuditStore,
    data_dir: Path,
    stop: asyncio.Event,
    *,
    interval: float,
    lock: HostLock,
    clock: Callable[[], datetime],
    first_delay: float = _STANDBY_SECONDS,
) -> None:
    """Verify the whole log every ``interval`` seconds until ``stop`` is set (the module
    docstring); ``first_delay``: how long a host with no result yet waits after starting."""
    if interval <= 0:
        return
    try:
        await _pause(stop, first_delay)
        while not stop.is_set():
            if not lock.try_acquire():
                await _pause(stop, _STANDBY_SECONDS)
                continue
            last = read_result(data_dir)
            if last is not None:
                _publish(last)
                due = last.finished_at + timedelta(seconds=interval) - clock()
                if due.total_seconds() > 0:
                    await _pause(stop, min(due.total_seconds(), _MAX_WAIT_SECONDS))
                    continue
            try:
                result = await asyncio.to_thread(verify_now, audit_log, store, clock)
            except Exception as exc:  # the database went away: try again at the next tick
                log.error("scheduled audit log verification could not run: %s", type(exc).__name__)
                await _pause(stop, _STANDBY_SECONDS)
                continue
            try:
                record_result(data_dir, result)
            except OSError as exc:  # the gauges still tell; the next run writes again
                log.error("cannot keep the audit verification's result: %s", type(exc).__name__)
            _publish(result)
            if result.ok:
                log.info(
                    "audit log verified: %d entries in %.1f s",
                    result.entries,
                    result.duration_seconds,
                )
            else:
                log.error("audit log verification FAILED: %d problem(s), first %s",
                          result.findings, result.first_finding)  # fmt: skip
    finally:
        lock.release()


def verify_lock(data_dir: Path) -> HostLock:
    """The lock that makes one worker of this host the verifier."""
    return HostLock(data_dir / VERIFY_LOCK_FILE)
