"""The app's background tasks, beside the web workers: the audit sequencer (one worker per host,
under a host lock), the consent expiry run and the credential sweep, with the gauges and the
health they report for ``/readyz`` and ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from prometheus_client import Gauge

from audit.errors import LogCorrupted
from audit.log import AuditLog
from consent.ledger import ConsentLedger
from identity.credentials.issuer import CredentialService
from identity.service.host_lock import HostLock
from identity.service.settings import Settings

log = logging.getLogger(__name__)

QUEUE_LENGTH = Gauge("jati_audit_queue_length", "Audit entries committed, not yet in the tree.")
INTEGRATION_LAG = Gauge(
    "jati_audit_integration_lag_seconds",
    "Age of the oldest audit entry waiting for the sequencer.",
    multiprocess_mode="max",
)
TREE_SIZE = Gauge("jati_audit_tree_size", "Entries in the audit tree.", multiprocess_mode="max")


@dataclass
class SequencerHealth:
    """What the last sequencer runs found, for ``/readyz`` and the logs."""

    failures: int = 0
    last_error: str | None = None
    integrity_failure: bool = False


SEQUENCER_LOCK_FILE = "audit-sequencer.lock"
_STATUS_OK = "ok"
_STATUS_INTEGRITY = "integrity: "


def sequencer_lock(settings: Settings) -> HostLock:
    """The lock that makes one worker of this host the sequencer
    (``<data dir>/audit-sequencer.lock``, :mod:`identity.service.host_lock`)."""
    return HostLock(settings.data_dir / SEQUENCER_LOCK_FILE)


async def run_sequencer(
    audit_log: AuditLog,
    stop: asyncio.Event,
    health: SequencerHealth | None = None,
    lock: HostLock | None = None,
) -> None:
    """Integrate queued entries every ``sequencer_interval`` until ``stop`` is set.

    Every worker runs this loop. With ``lock`` (one per host), the worker holding it
    sequences and the others stand by: each tick they try to take it over (the kernel
    frees it when its holder exits) and report the holder's integrity status as their own.
    Across hosts, the database elects one sequencer per run, so the others skip their turn.
    A failure is logged (with its traceback the first time) and retried with exponential
    backoff up to 30 s; an integrity failure (the stored log no longer extends its signed
    checkpoints) also makes ``/readyz`` answer 503, on every worker of the host.
    """
    health = health or SequencerHealth()
    initialized = False
    written: str | None = None
    try:
        while not stop.is_set():
            if lock is not None:
                try:
                    if not lock.try_acquire():  # standing by
                        status = lock.read_status()
                        health.integrity_failure = status.startswith(_STATUS_INTEGRITY)
                        await _pause(stop, audit_log.sequencer_interval)
                        continue
                except OSError as exc:  # an unusable data directory: the database elects
                    log.error("audit sequencer lock unusable (%s): sequencing without it", exc)
                    lock = None
            initialized = await _sequence_once(audit_log, health, initialized)
            if lock is not None:
                status = _STATUS_OK
                if health.integrity_failure:
                    status = f"{_STATUS_INTEGRITY}{health.last_error}"
                if status != written:
                    with contextlib.suppress(OSError):
                        lock.write_status(status)
                        written = status
            backoff = audit_log.sequencer_interval * 2 ** min(health.failures, 7)
            await _pause(stop, min(backoff, 30.0))
    finally:
        if lock is not None:
            lock.release()


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or until ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _sequence_once(audit_log: AuditLog, health: SequencerHealth, initialized: bool) -> bool:
    """One run of the sequencer, its metrics and its health; returns whether the log is
    initialised."""
    try:
        if not initialized:
            await asyncio.to_thread(audit_log.initialize)
            initialized = True
        result = await asyncio.to_thread(audit_log.sequence)
        if not result.skipped:
            TREE_SIZE.set(result.size_after)
        if result.drained:  # nothing was left queued as of the run's snapshot
            QUEUE_LENGTH.set(0)
            INTEGRATION_LAG.set(0.0)
        else:
            status = await asyncio.to_thread(audit_log.store.queue_status)
            QUEUE_LENGTH.set(status.length)
            INTEGRATION_LAG.set(
                max(0.0, (audit_log.clock() - status.oldest_queued_at).total_seconds())
                if status.oldest_queued_at
                else 0.0
            )
        if health.failures:
            log.info("audit sequencer recovered after %d failed runs", health.failures)
        health.failures, health.last_error, health.integrity_failure = 0, None, False
    except Exception as exc:  # keep sequencing; the next tick retries
        error = f"{type(exc).__name__}: {exc}"
        first = error != health.last_error
        health.failures += 1
        health.last_error = error
        health.integrity_failure = isinstance(exc, LogCorrupted)
        log.error(
            "audit sequencer run failed (%d in a row): %s",
            health.failures,
            error,
            exc_info=exc if first else None,
        )
    return initialized


async def run_consent_expiry(
    ledger: ConsentLedger, stop: asyncio.Event, *, interval: float = 60.0
) -> None:
    """Record ``expired`` events for grants past their expiry, every ``interval`` seconds.

    The gate already refuses an expired grant at check time; this keeps the ledger's record
    complete (UU PDP Art. 24). Several workers may run it at once: the ledger locks per
    grant's subject and appends at most one ``expired`` event per grant.
    """
    while not stop.is_set():
        try:
            expired = await asyncio.to_thread(ledger.expire_due)
            if expired:
                log.info("recorded %d expired consent grant(s)", expired)
        except Exception as exc:  # retried on the next tick
            log.error("consent expiry run failed: %s", type(exc).__name__)
        await _pause(stop, interval)


async def run_credential_sweep(
    credentials: CredentialService, stop: asyncio.Event, *, interval: float = 300.0
) -> None:
    """Revoke credentials resting on a consent grant that ended, every ``interval`` seconds.

    A withdrawal revokes at once through the ledger's notifier; this revokes what rests on
    an expired grant, and catches what a notifier missed (a worker that stopped between the
    withdrawal's commit and the revocation), well within UU PDP's 72 hours.
    """
    while not stop.is_set():
        await _pause(stop, interval)
        if stop.is_set():
            return
        try:
            await asyncio.to_thread(credentials.reconcile, None)
        except Exception as exc:  # retried on the next tick
            log.error("credential sweep failed: %s", type(exc).__name__)
