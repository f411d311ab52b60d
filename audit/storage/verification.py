"""``jati audit verify`` against the database: :func:`audit.verify.verify_log` fed by one
consistent snapshot of the stored log, with the column check running inside the database
in parallel.

- :class:`LogSnapshot`: the stored log read in one transaction (REPEATABLE READ on
  PostgreSQL, a WAL snapshot on SQLite), streamed in constant memory, so that a sequencer
  running meanwhile cannot make leaves, nodes, checkpoints and tree state disagree;
- :func:`column_mismatches`: leaves whose query columns differ from their entry, found by
  the database itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import cast

from sqlalchemy import Connection, Engine, Table, select, text

from audit.entry import decode_entry
from audit.errors import InvalidEntry
from audit.log import AuditLog
from audit.records import StoredCheckpoint, TreeState
from audit.storage.store import (
    LEAF_COLUMNS,
    SqlAuditStore,
    checkpoint_of,
    stored_leaf_of,
    tree_state_of,
)
from audit.storage.tables import AuditCheckpoint, AuditLeaf, AuditNode, AuditTreeState
from audit.verify import Progress, VerifyReport, verify_log

__all__ = ["LogSnapshot", "column_mismatches", "log_snapshot", "verify_stored_log"]

_leaf = cast(Table, AuditLeaf.__table__)
_node = cast(Table, AuditNode.__table__)
_checkpoint = cast(Table, AuditCheckpoint.__table__)
_state = cast(Table, AuditTreeState.__table__)


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
        columns = pool.submit(column_mismatches, store.engine)
        with log_snapshot(store.engine) as snapshot:
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


# ---------------------------------------------------------------- the snapshot


class LogSnapshot:
    """Reads of one consistent snapshot of the log, streamed in constant memory."""

    def __init__(self, conn: Connection, state: TreeState | None) -> None:
        self.conn = conn
        self.state = state

    def checkpoints(self, *, batch: int = 5000) -> Iterator[StoredCheckpoint]:
        """Every checkpoint row, by increasing tree size."""
        result = self.conn.execution_options(stream_results=True, yield_per=batch).execute(
            select(_checkpoint).order_by(_checkpoint.c.tree_size)
        )
        for row in result:
            yield checkpoint_of(row)

    def leaf_batches(self, *, batch: int = 10_000) -> Iterator[Sequence[tuple[int, bytes, bytes]]]:
        """(leaf index, entry, leaf hash) of every leaf in index order, in batches, through
        the driver's own cursor (server-side on PostgreSQL): the verifier's hot path."""
        driver = self.conn.connection.driver_connection
        if self.conn.dialect.name == "postgresql":
            cursor = driver.cursor(name="jati_verify_leaves", binary=True)  # type: ignore[union-attr]
            cursor.itersize = batch
        else:
            cursor = driver.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(
                "SELECT leaf_index, entry, leaf_hash FROM audit_leaf ORDER BY leaf_index"
            )
            while rows := cursor.fetchmany(batch):
                yield rows
        finally:
            cursor.close()

    def nodes(self, *, batch: int = 20_000) -> Iterator[tuple[int, int, bytes]]:
        """(level, index, hash) of every stored subtree in the order a rebuild completes
        them: by the last leaf they cover, then by level."""
        completion = (_node.c.node_index + 1).op("<<")(_node.c.level)
        result = self.conn.execution_options(stream_results=True, yield_per=batch).execute(
            select(_node.c.level, _node.c.node_index, _node.c.hash).order_by(
                completion, _node.c.level
            )
        )
        for level, index, node_hash in result:
            yield int(level), int(index), bytes(node_hash)


@contextmanager
def log_snapshot(engine: Engine) -> Iterator[LogSnapshot]:
    """A consistent read of the whole log for the verifier (one transaction: REPEATABLE
    READ on PostgreSQL, a WAL snapshot on SQLite), so that a sequencer running meanwhile
    cannot make leaves, nodes, checkpoints and tree state disagree."""
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as conn, conn.begin():
        row = conn.execute(select(_state).where(_state.c.id == 1)).first()
        yield LogSnapshot(conn, tree_state_of(row) if row is not None else None)


# ---------------------------------------------------------------- the column check


def _column_check_sql(missing: Callable[[str], str], time_text: str) -> str:
    """SQL selecting leaves whose entry text lacks one of its columns' JSON fragments.

    ``missing(fragment)`` is the dialect's "the entry text does not contain fragment".
    """

    def value(column: str) -> str:
        return f"CASE WHEN {column} IS NULL THEN 'null' ELSE '\"' || {column} || '\"' END"

    fragments = [
        f"'\"subject\":' || {value('subject')}",
        '\'"actor":{"id":"\' || actor_id || \'","kind":"\' || actor_kind || \'"}\'',
        "'\"action\":\"' || action || '\"'",
        f"'\"purpose\":' || {value('purpose')}",
        f"'\"legal_basis\":' || {value('legal_basis')}",
        f"'\"outcome\":' || {value('outcome')}",
        f"'\"time\":\"' || {time_text} || '\"'",
    ]
    condition = " OR ".join(missing(f) for f in fragments)
    # A fragment can only match its own key while no column value holds a quote or a
    # backslash (entries cannot: see audit.entry); a column that does is flagged outright.
    columns = (
        "coalesce(subject, '') || coalesce(purpose, '') || coalesce(legal_basis, '') || "
        "coalesce(outcome, '') || actor_id || actor_kind || action"
    )
    quotes = f"strpos({columns}, '\"') > 0 OR strpos({columns}, chr(92)) > 0"
    return (
        "SELECT leaf_index FROM audit_leaf WHERE "  # noqa: S608 - fixed SQL
        f"{quotes} OR {condition} ORDER BY leaf_index LIMIT :limit"
    )


_COLUMN_CHECK_SQL = {
    "postgresql": _column_check_sql(
        lambda f: f"position(({f}) IN convert_from(entry, 'UTF8')) = 0",
        # colons escaped for text(): they are not bind parameters
        "to_char(event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\\:MI\\:SS.US\"Z\"')",
    ),
    # SQLite parses JSON faster than it searches text: one json_extract of all eight paths.
    "sqlite": (
        "SELECT leaf_index FROM audit_leaf WHERE "
        "json_extract(CAST(entry AS TEXT), '$.subject', '$.actor.kind', '$.actor.id', "
        "'$.action', '$.purpose', '$.legal_basis', '$.outcome', '$.time') IS NOT "
        "json_array(subject, actor_kind, actor_id, action, purpose, legal_basis, outcome, "
        "replace(event_at, ' ', 'T') || 'Z') "
        "ORDER BY leaf_index LIMIT :limit"
    ),
}


def column_mismatches(engine: Engine, *, limit: int = 1000) -> list[tuple[int, str]]:
    """Leaves whose query columns differ from their entry: (leaf index, column name).

    An administrator who rewrites ``subject`` could hide an entry from the citizen's
    "who used my data" view without touching the Merkle tree; this finds that.

    The database does the comparison. SQLite extracts the eight paths with one
    ``json_extract``. PostgreSQL looks for each column's canonical JSON fragment
    (``"action":"read"``) in the entry text, which is exact for canonical entries (keys
    are unique and no value can hold a quote, see :mod:`audit.entry`) and avoids a JSON
    parse per row. The few rows flagged are decoded here to name the column.
    """
    sql = _COLUMN_CHECK_SQL[engine.dialect.name]
    with engine.connect() as conn:
        flagged = [int(i) for i in conn.execute(text(sql), {"limit": limit}).scalars()]
        rows = (
            conn.execute(select(*LEAF_COLUMNS).where(_leaf.c.leaf_index.in_(flagged))).all()
            if flagged
            else []
        )
    found: list[tuple[int, str]] = []
    for row in sorted(rows, key=lambda r: int(r.leaf_index)):
        leaf = stored_leaf_of(row)
        try:
            entry = decode_entry(leaf.entry)
        except InvalidEntry:
            found.append((leaf.leaf_index, "entry"))
            continue
        expected = {
            "subject": entry.subject,
            "actor_kind": entry.actor.kind.value,
            "actor_id": entry.actor.id,
            "action": entry.action.value,
            "purpose": entry.purpose,
            "legal_basis": entry.legal_basis.value if entry.legal_basis else None,
            "outcome": entry.outcome.value,
            "event_at": entry.time,
        }
        found.extend(
            (leaf.leaf_index, name)
            for name, value in expected.items()
            if getattr(leaf, name) != value
        )
    return found
