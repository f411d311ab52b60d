"""``jati audit verify`` against the database: :func:`audit.verify.verify_log` fed by the
SQL store, with the column check running inside the database in parallel."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from audit.log import AuditLog
from audit.records import TreeState
from audit.storage.store import SqlAuditStore
from audit.verify import Progress, VerifyReport, verify_log


def verify_stored_log(
    audit_log: AuditLog,
    store: SqlAuditStore,
    *,
    state: TreeState | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Recompute the whole stored log and check it against every stored checkpoint."""
    state = state if state is not None else store.tree_state()
    # The column check runs inside the database while this thread rebuilds the tree.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jati-verify") as pool:
        columns = pool.submit(store.column_mismatches)
        return verify_log(
            verifier=audit_log.verifier,
            origin=audit_log.origin,
            state=state,
            checkpoints=store.checkpoints(),
            leaf_batches=store.leaf_batches(),
            nodes=store.node_rows(),
            min_stored_level=store.min_stored_level,
            column_mismatches=_deferred(columns),
            progress=progress,
        )


def _deferred(future: Future[list[tuple[int, str]]]) -> Iterator[tuple[int, str]]:
    yield from future.result()
