"""``jati audit verify`` against the database: :func:`audit.verify.verify_log` fed by one
consistent snapshot of the stored log, with the column check running inside the database
in parallel."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from audit.log import AuditLog
from audit.storage.store import SqlAuditStore
from audit.verify import Progress, VerifyReport, verify_log


def verify_stored_log(
    audit_log: AuditLog,
    store: SqlAuditStore,
    *,
    external_checkpoints: Sequence[str] = (),
    progress: Progress | None = None,
) -> VerifyReport:
    """Recompute the whole stored log and check it against every stored checkpoint and
    against ``external_checkpoints`` (signed notes kept outside the database)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jati-verify") as pool:
        # The column check runs inside the database while this thread rebuilds the tree.
        columns = pool.submit(store.column_mismatches)
        with store.snapshot() as snapshot:
            return verify_log(
                verifier=audit_log.verifier,
                origin=audit_log.origin,
                state=snapshot.state,
                checkpoints=snapshot.checkpoints(),
                external_checkpoints=external_checkpoints,
                leaf_batches=snapshot.leaf_batches(),
                nodes=snapshot.nodes(),
                min_stored_level=store.min_stored_level,
                column_mismatches=_deferred(columns),
                progress=progress,
            )


def _deferred(future: Future[list[tuple[int, str]]]) -> Iterator[tuple[int, str]]:
    yield from future.result()
