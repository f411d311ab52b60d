"""Composition of the audit log: built from settings, sequenced beside the web workers.

The latest checkpoint each host signs is also kept in ``<data dir>/audit-checkpoint.note``,
outside the database: the sequencer never signs a tree inconsistent with it, and
``jati audit verify`` checks the stored log against it.

The log's origin (its C2SP name) is chosen once: ``JATI_AUDIT_ORIGIN`` or, by default, the
issuer's host and path followed by ``/audit``; the first start records it in the database and
it stays fixed for the life of the log. The checkpoint key and the subject-pseudonym key are
derived from the master key (:mod:`identity.keys.derived_keys`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import Gauge

from audit import AuditAppender
from audit.errors import LogCorrupted
from audit.log import AuditLog, Clock
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from audit.witness import FileWitnessState
from consent.gate import ConsentGate, SharedGenerations
from consent.ledger import ConsentLedger
from consent.storage.ledger import SqlLedgerStore
from identity.credentials.issuer import CredentialService, GrantActivity
from identity.credentials.proofs import CredentialNonces
from identity.credentials.status_registry import StatusLists
from identity.keys.derived_keys import AUDIT_CHECKPOINT_KEY, AUDIT_PSEUDONYM_KEY, derive_key
from identity.oidc.tokens import JwsSigner
from identity.service.host_lock import HostLock
from identity.service.settings import Settings
from identity.storage.credentials import SqlCredentialStore
from identity.storage.database import Database
from identity.storage.status_lists import SqlStatusListStore

log = logging.getLogger(__name__)

QUEUE_LENGTH = Gauge("jati_audit_queue_length", "Audit entries committed, not yet in the tree.")
INTEGRATION_LAG = Gauge(
    "jati_audit_integration_lag_seconds",
    "Age of the oldest audit entry waiting for the sequencer.",
    multiprocess_mode="max",
)
TREE_SIZE = Gauge("jati_audit_tree_size", "Entries in the audit tree.", multiprocess_mode="max")


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_origin(issuer: str | None) -> str:
    """``<host>[:port][/path]/audit`` of the issuer (C2SP: a schema-less URL)."""
    parts = urlsplit(issuer or "http://localhost")
    host = parts.netloc or "localhost"
    return f"{host}{parts.path.rstrip('/')}/audit"


WITNESS_FILE = "audit-checkpoint.note"


def witness_path(settings: Settings) -> Path:
    """Where this host keeps the latest checkpoint it signed, outside the database."""
    return settings.data_dir / WITNESS_FILE


def build_audit_log(
    settings: Settings,
    database: Database,
    master_key: bytes,
    *,
    clock: Clock = utc_now,
) -> tuple[AuditLog, SubjectPseudonymizer]:
    """The audit log and the subject pseudonymizer, keyed from ``master_key``."""
    seed = derive_key(master_key, AUDIT_CHECKPOINT_KEY)
    audit_log = AuditLog(
        store=SqlAuditStore(engine=database.engine),
        signing_key=Ed25519PrivateKey.from_private_bytes(seed),
        clock=clock,
        origin=settings.audit_origin,
        default_origin=default_origin(settings.issuer),
        max_merge_delay=settings.audit_max_merge_delay,
        witness=FileWitnessState(witness_path(settings)),
    )
    return audit_log, SubjectPseudonymizer(derive_key(master_key, AUDIT_PSEUDONYM_KEY))


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


CONSENT_GENERATIONS_FILE = "consent-generations"


def build_consent(
    settings: Settings,
    database: Database,
    audit_store: SqlAuditStore,
    pseudonymizer: SubjectPseudonymizer,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[ConsentLedger, ConsentGate]:
    """The consent ledger and the gate, sharing one table of generations per host
    (``<data dir>/consent-generations``) so that every worker's gate sees a change made by
    another on its next check (:mod:`consent.gate`)."""
    store = SqlLedgerStore(database=database)
    generations = SharedGenerations(settings.data_dir / CONSENT_GENERATIONS_FILE)
    ledger = ConsentLedger(
        store=store,
        clock=clock,
        audit=audit_store,
        pseudonymizer=pseudonymizer,
        notifier=generations,
    )
    gate = ConsentGate(
        source=store,
        generations=generations,
        clock=clock,
        max_age=settings.consent_cache_max_age,
    )
    return ledger, gate


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


def build_credentials(
    settings: Settings,
    database: Database,
    master_key: bytes,
    *,
    signer: Callable[[], JwsSigner],
    audit: AuditAppender,
    pseudonymizer: SubjectPseudonymizer,
    grants: GrantActivity,
    clock: Callable[[], datetime] = utc_now,
) -> CredentialService:
    """The credential service and its status lists (the app and ``jati credential``)."""
    issuer = settings.effective_issuer
    status_lists = StatusLists(
        store=SqlStatusListStore(database=database),
        signer=signer,
        issuer=issuer,
        clock=clock,
        size=settings.status_list_size,
        ttl=settings.status_list_ttl,
        lifetime=settings.status_list_lifetime,
    )
    return CredentialService(
        store=SqlCredentialStore(database=database),
        status_lists=status_lists,
        signer=signer,
        nonces=CredentialNonces(master_key),
        issuer=issuer,
        audit=audit,
        pseudonymizer=pseudonymizer,
        grants=grants,
        clock=clock,
        lifetime=timedelta(seconds=settings.credential_lifetime),
    )


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
