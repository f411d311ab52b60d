"""SQL storage of the audit log: the writers' queue, the sequencer, and the readers.

Writers call :meth:`SqlAuditStore.append` with *their own* session: the entry is inserted into
``audit_queue`` inside the caller's transaction, so an access to personal data and its audit
entry commit together or not at all, and writers never wait on the tree head.

One sequencer at a time (:meth:`SqlAuditStore.integrate`) moves queued entries into the tree:
it assigns dense leaf indices, stores leaf hashes and complete-subtree hashes, advances the
tree state and, when asked, signs a checkpoint, all in one transaction. It is elected by the
database: ``SELECT ... FOR UPDATE SKIP LOCKED`` on the tree-state row on PostgreSQL (a second
worker skips its turn instead of queueing), ``BEGIN IMMEDIATE`` on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    CTE,
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement

from audit.entry import AuditEntry, decode_entry, encode_entry
from audit.errors import InvalidEntry, LogCorrupted, ProofError
from audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    NodeID,
    consistency_nodes,
    frontier_ids,
    hash_leaf,
    verify_consistency,
)
from audit.records import (
    EventFilter,
    Integration,
    QueueStatus,
    StoredCheckpoint,
    StoredLeaf,
    TreeState,
)
from audit.storage.tables import (
    AuditCheckpoint,
    AuditLeaf,
    AuditNode,
    AuditQueue,
    AuditTreeState,
    UTCDateTime,
)

#: Subtrees below this level are not stored: their hashes are recomputed from at most
#: 2**MIN_STORED_LEVEL leaf hashes. It keeps the node table at ~n/16 rows for n leaves
#: while every proof still costs O(log n) reads.
MIN_STORED_LEVEL = 4
DEFAULT_BATCH = 2000

CheckpointSigner = Callable[[int, bytes], str]
"""Given (tree size, root hash), returns the signed checkpoint note."""

_queue = cast(Table, AuditQueue.__table__)
_leaf = cast(Table, AuditLeaf.__table__)
_node = cast(Table, AuditNode.__table__)
_checkpoint = cast(Table, AuditCheckpoint.__table__)
_state = cast(Table, AuditTreeState.__table__)

_ENQUEUE = insert(_queue)
_QUEUED = [c for c in _queue.c if c.name != "id"]


def guarded_enqueue(guard: CTE, count: int, *, name: str = "audit_entries") -> CTE:
    """Queue ``count`` audit entries inside a writer's own single statement.

    An ``INSERT INTO audit_queue ... SELECT`` as a data-modifying ``WITH`` query (PostgreSQL)
    that inserts only when ``guard``, another ``WITH`` query of the same statement (say an
    ``UPDATE ... RETURNING``), returns a row; its parameters are ``audit_<column>_<n>``
    (:func:`enqueue_parameters`). A change and its audit entries then commit together
    (UU PDP Art. 31) in one statement: one round trip, no ``BEGIN``/``COMMIT`` (the refresh
    grant, :mod:`identity.storage.oidc`).
    """
    return _enqueue_rows(count, exists(select(guard))).cte(name)


def enqueue_statement(count: int) -> Insert:
    """The ``INSERT`` of ``count`` queued entries with the parameters of
    :func:`enqueue_parameters`, for a writer's own transaction (any database)."""
    return _enqueue_rows(count, None)


def _enqueue_rows(count: int, guard: ColumnElement[bool] | None) -> Insert:
    if count < 1:
        raise ValueError("at least one audit entry")
    rows = []
    for n in range(count):
        row = select(*(bindparam(f"audit_{c.name}_{n}", type_=c.type) for c in _QUEUED))
        rows.append(row.where(guard) if guard is not None else row)
    source = rows[0] if count == 1 else union_all(*rows)
    return insert(_queue).from_select([c.name for c in _QUEUED], source)


def enqueue_parameters(entries: Sequence[AuditEntry], *, queued_at: datetime) -> dict[str, Any]:
    """The parameters of :func:`guarded_enqueue` for ``entries``: each entry encoded once,
    its leaf hash and query columns computed as :meth:`SqlAuditStore.append` does."""
    parameters: dict[str, Any] = {}
    for n, entry in enumerate(entries):
        for column, value in _queue_row(entry, encode_entry(entry), queued_at).items():
            parameters[f"audit_{column}_{n}"] = value
    return parameters


_LEAF_COLUMNS = (
    _leaf.c.leaf_index,
    _leaf.c.entry,
    _leaf.c.leaf_hash,
    _leaf.c.event_at,
    _leaf.c.subject,
    _leaf.c.actor_kind,
    _leaf.c.actor_id,
    _leaf.c.action,
    _leaf.c.purpose,
)


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
            yield _checkpoint_of(row)

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


class _DriverInsert:
    """An INSERT compiled once for the dialect and run with ``exec_driver_sql``.

    The writers' hot path: it skips SQLAlchemy's per-call statement compilation and cache
    lookup, which cost more than the insert itself. Values still pass through each column
    type's bind processor, so they are stored exactly as the ORM would store them.
    """

    def __init__(self, table: Table, dialect: Dialect, *, generated: str = "id") -> None:
        values = {c.name: bindparam(c.name, type_=c.type) for c in table.c if c.name != generated}
        compiled = insert(table).values(values).inline().compile(dialect=dialect)
        self.sql = str(compiled)
        self.names = list(compiled.positiontup or compiled.binds)
        columns = table.c
        self.processors = {
            name: processor
            for name in self.names
            if (processor := columns[name].type.dialect_impl(dialect).bind_processor(dialect))
            is not None
        }
        self.positional = compiled.positional

    def execute(self, conn: Connection, row: dict[str, Any]) -> None:
        values = {
            name: (self.processors[name](row[name]) if name in self.processors else row[name])
            for name in self.names
        }
        if self.positional:
            conn.exec_driver_sql(self.sql, tuple(values[name] for name in self.names))
        else:
            conn.exec_driver_sql(self.sql, values)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open ranges merged where they overlap or touch."""
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(ranges):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


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
        f"'\"time\":\"' || {time_text} || '\"'",
    ]
    condition = " OR ".join(missing(f) for f in fragments)
    # A fragment can only match its own key while no column value holds a quote or a
    # backslash (entries cannot: see audit.entry); a column that does is flagged outright.
    columns = "coalesce(subject, '') || coalesce(purpose, '') || actor_id || actor_kind || action"
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
    # SQLite parses JSON faster than it searches text: one json_extract of all five paths.
    "sqlite": (
        "SELECT leaf_index FROM audit_leaf WHERE "
        "json_extract(CAST(entry AS TEXT), '$.subject', '$.actor.kind', '$.actor.id', "
        "'$.action', '$.purpose', '$.time') IS NOT json_array(subject, actor_kind, "
        "actor_id, action, purpose, replace(event_at, ' ', 'T') || 'Z') "
        "ORDER BY leaf_index LIMIT :limit"
    ),
}


def _connection(bind: Session | Connection) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


class SqlAuditStore:
    """The audit log's tables behind a small API; see the module docstring."""

    def __init__(self, *, engine: Engine, min_stored_level: int = MIN_STORED_LEVEL) -> None:
        self.engine = engine
        self.min_stored_level = min_stored_level
        self._sequencer_engine = engine.execution_options(
            jati_sqlite_begin="BEGIN IMMEDIATE",
            **(
                {"isolation_level": "REPEATABLE READ"}
                if engine.dialect.name == "postgresql"
                else {}
            ),
        )
        self._frontier: CompactRange | None = None  # cached between the sequencer's runs
        self._enqueue = _DriverInsert(_queue, engine.dialect)
        self._snapshot_engine = engine.execution_options(
            **(
                {"isolation_level": "REPEATABLE READ"}
                if engine.dialect.name == "postgresql"
                else {}
            )
        )

    # ---------------------------------------------------------------- writers

    def append(self, bind: Session | Connection, entry: AuditEntry, *, queued_at: datetime) -> None:
        """Queue ``entry`` in the caller's transaction (commits or rolls back with it).

        The row is built before the connection is touched: on SQLite the first statement
        of a write transaction takes the database's write lock, which should be held for
        the INSERT alone.
        """
        row = _queue_row(entry, encode_entry(entry), queued_at)
        self._enqueue.execute(_connection(bind), row)

    def append_encoded(
        self, bind: Session | Connection, entries: Sequence[bytes], *, queued_at: datetime
    ) -> None:
        """Queue already-encoded entries (each must be canonical: see :func:`decode_entry`)."""
        rows = [_queue_row(decode_entry(data), data, queued_at) for data in entries]
        _connection(bind).execute(_ENQUEUE, rows)

    # ---------------------------------------------------------------- sequencer

    def initialize(self, origin: str, *, now: datetime) -> TreeState:
        """Create the tree-state row for ``origin`` if the log is new; return the state.

        The origin is fixed by the first start and kept for the life of the log. Two hosts
        starting at once both try; the database keeps one row and both read it back.
        """
        with self._sequencer_engine.begin() as conn:
            row = conn.execute(select(_state).where(_state.c.id == 1)).first()
            if row is not None:
                return _tree_state(row)
        try:
            with self._sequencer_engine.begin() as conn:
                conn.execute(
                    insert(_state),
                    {
                        "id": 1,
                        "origin": origin,
                        "tree_size": 0,
                        "root_hash": EMPTY_ROOT,
                        "updated_at": now,
                    },
                )
        except IntegrityError:
            pass  # another process created it first
        state = self.tree_state()
        if state is None:
            raise LogCorrupted("the audit log's tree state could not be created")
        return state

    def integrate(
        self,
        *,
        now: datetime,
        max_batch: int = DEFAULT_BATCH,
        sign: CheckpointSigner | None = None,
        trusted: tuple[int, bytes] | None = None,
    ) -> Integration:
        """Integrate up to ``max_batch`` queued entries; sign a checkpoint if ``sign`` is given
        and the tree is larger than ``trusted`` (size, root), the latest checkpoint the caller
        knows to be genuine, with which the new tree must be consistent.

        One transaction: lock the tree state, read the oldest queued leaf hashes, extend the
        tree, copy the queued rows into ``audit_leaf`` with their new indices (one
        INSERT ... SELECT), store the new subtree hashes, delete the rows from the queue and
        advance the tree state. The transaction sees one snapshot (``BEGIN IMMEDIATE`` on
        SQLite, REPEATABLE READ on PostgreSQL), so "id <= the last id read" names exactly
        the rows that were read, even while writers keep committing.
        """
        try:
            with self._sequencer_engine.begin() as conn:
                return self._integrate(
                    conn, now=now, max_batch=max_batch, sign=sign, trusted=trusted
                )
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == "40001":  # another sequencer won a race
                return Integration(0, 0, skipped=True)
            raise

    def _integrate(
        self,
        conn: Connection,
        *,
        now: datetime,
        max_batch: int,
        sign: CheckpointSigner | None,
        trusted: tuple[int, bytes] | None,
    ) -> Integration:
        state_query = select(_state).where(_state.c.id == 1)
        if conn.dialect.name == "postgresql":
            state_query = state_query.with_for_update(skip_locked=True)
        row = conn.execute(state_query).first()
        if row is None:
            if conn.dialect.name == "postgresql" and self._state_exists(conn):
                return Integration(0, 0, skipped=True)
            raise LogCorrupted("the audit log is not initialised (no tree state)")
        state = _tree_state(row)
        queued = conn.execute(
            select(_queue.c.id, _queue.c.leaf_hash).order_by(_queue.c.id).limit(max_batch)
        ).all()
        frontier = self._load_frontier(conn, state)
        size_before = state.tree_size
        oldest = None
        if queued:
            last_id = queued[-1][0]
            oldest = conn.execute(
                select(func.min(_queue.c.queued_at)).where(_queue.c.id <= last_id)
            ).scalar_one()
            nodes = frontier.extend_above([bytes(q[1]) for q in queued], self.min_stored_level)
            copied = conn.execute(
                insert(_leaf).from_select(
                    [
                        "leaf_index",
                        "entry",
                        "leaf_hash",
                        "event_at",
                        "subject",
                        "actor_kind",
                        "actor_id",
                        "action",
                        "purpose",
                        "queued_at",
                        "integrated_at",
                    ],
                    select(
                        func.row_number().over(order_by=_queue.c.id) + (size_before - 1),
                        _queue.c.entry,
                        _queue.c.leaf_hash,
                        _queue.c.event_at,
                        _queue.c.subject,
                        _queue.c.actor_kind,
                        _queue.c.actor_id,
                        _queue.c.action,
                        _queue.c.purpose,
                        _queue.c.queued_at,
                        literal(now, UTCDateTime()),
                    ).where(_queue.c.id <= last_id),
                ),
                execution_options={"preserve_rowcount": True},
            ).rowcount
            if copied != len(queued):
                raise LogCorrupted(f"copied {copied} queued entries, expected {len(queued)}")
            if nodes:
                conn.execute(
                    insert(_node),
                    [{"level": lv, "node_index": ix, "hash": h} for lv, ix, h in nodes],
                )
            conn.execute(delete(_queue).where(_queue.c.id <= last_id))
            conn.execute(
                update(_state)
                .where(_state.c.id == 1)
                .values(tree_size=frontier.size, root_hash=frontier.root(), updated_at=now)
            )
        checkpoint = (
            self._maybe_sign(conn, frontier, sign, now, trusted) if sign is not None else None
        )
        self._frontier = frontier
        return Integration(size_before, frontier.size, checkpoint, oldest)

    def _maybe_sign(
        self,
        conn: Connection,
        frontier: CompactRange,
        sign: CheckpointSigner,
        now: datetime,
        trusted: tuple[int, bytes] | None,
    ) -> StoredCheckpoint | None:
        """Sign the tree if it grew past ``trusted`` and provably extends it.

        The consistency proof from the trusted checkpoint to the new root is built from the
        stored hashes and checked (RFC 9162 §2.1.4.2): a rewritten subtree anywhere, on the
        old part or on the new right edge, makes it fail, and nothing is signed.
        """
        root = frontier.root()
        if trusted is not None:
            trusted_size, trusted_root = trusted
            if frontier.size < trusted_size or (
                frontier.size == trusted_size and root != trusted_root
            ):
                raise LogCorrupted(
                    f"the stored tree (size {frontier.size}) is not the tree of the signed "
                    f"checkpoint at size {trusted_size}: refusing to sign "
                    "(run `jati audit verify`)"
                )
            if frontier.size == trusted_size:
                return None
            if trusted_size > 0:
                plan = consistency_nodes(trusted_size, frontier.size)
                try:
                    verify_consistency(
                        first=trusted_size,
                        second=frontier.size,
                        proof=plan.rehash(self._node_hashes(conn, plan.ids)),
                        first_root=trusted_root,
                        second_root=root,
                    )
                except ProofError as exc:
                    raise LogCorrupted(
                        f"the stored tree does not extend the signed checkpoint at size "
                        f"{trusted_size}: refusing to sign (run `jati audit verify`)"
                    ) from exc
        existing = conn.execute(
            select(_checkpoint.c.root_hash).where(_checkpoint.c.tree_size == frontier.size)
        ).scalar()
        if existing is not None:
            if bytes(existing) == root:
                return None  # another worker signed this size already
            raise LogCorrupted(
                f"a checkpoint row at size {frontier.size} with another root blocks signing"
            )
        checkpoint = StoredCheckpoint(frontier.size, root, sign(frontier.size, root), now)
        conn.execute(
            insert(_checkpoint),
            {
                "tree_size": checkpoint.tree_size,
                "root_hash": root,
                "note": checkpoint.note,
                "created_at": now,
            },
        )
        return checkpoint

    def _state_exists(self, conn: Connection) -> bool:
        return conn.execute(select(func.count()).select_from(_state)).scalar_one() > 0

    def _load_frontier(self, conn: Connection, state: TreeState) -> CompactRange:
        cached = self._frontier
        if (
            cached is not None
            and cached.size == state.tree_size
            and cached.root() == state.root_hash
        ):
            return CompactRange(cached.size, cached.hashes)
        hashes = self._node_hashes(conn, frontier_ids(state.tree_size))
        frontier = CompactRange(state.tree_size, hashes)
        if frontier.root() != state.root_hash:
            raise LogCorrupted(
                f"the stored tree of size {state.tree_size} does not match the tree state's root"
            )
        return frontier

    # ---------------------------------------------------------------- readers

    def tree_state(self) -> TreeState | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_state).where(_state.c.id == 1)).first()
        return _tree_state(row) if row is not None else None

    def queue_status(self) -> QueueStatus:
        with self.engine.connect() as conn:
            length, oldest = conn.execute(select(func.count(), func.min(_queue.c.queued_at))).one()
        return QueueStatus(int(length), oldest)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint row with the largest size (its signature is the caller's to check)."""
        rows = self.recent_checkpoints(limit=1)
        return rows[0] if rows else None

    def recent_checkpoints(self, *, limit: int) -> list[StoredCheckpoint]:
        """The ``limit`` checkpoint rows with the largest sizes, largest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_checkpoint).order_by(_checkpoint.c.tree_size.desc()).limit(limit)
            ).all()
        return [_checkpoint_of(r) for r in rows]

    def node_hashes(self, ids: Sequence[NodeID]) -> list[bytes]:
        """Hashes of complete subtrees, in the order of ``ids`` (O(len(ids)) reads)."""
        with self.engine.connect() as conn:
            return self._node_hashes(conn, ids)

    def _node_hashes(self, conn: Connection, ids: Sequence[NodeID]) -> list[bytes]:
        """One query of primary-key lookups (UNION ALL), so that every piece is an index
        probe: a stored subtree by (level, index), a low subtree by its leaf-index range."""
        if not ids:
            return []
        stored = [n for n in ids if n.level >= self.min_stored_level]
        low = [n for n in ids if n.level < self.min_stored_level]
        ranges = _merged([n.coverage() for n in low])
        parts = [
            select(_node.c.level, _node.c.node_index, _node.c.hash).where(
                _node.c.level == n.level, _node.c.node_index == n.index
            )
            for n in stored
        ] + [
            select(literal(0), _leaf.c.leaf_index, _leaf.c.leaf_hash).where(
                _leaf.c.leaf_index >= begin, _leaf.c.leaf_index < end
            )
            for begin, end in ranges
        ]
        query = parts[0] if len(parts) == 1 else union_all(*parts)
        found: dict[NodeID, bytes] = {}
        leaf_hashes: dict[int, bytes] = {}
        for level, index, node_hash in conn.execute(query):
            if level == 0:
                leaf_hashes[int(index)] = bytes(node_hash)
            else:
                found[NodeID(int(level), int(index))] = bytes(node_hash)
        for node in low:
            begin, end = node.coverage()
            hashes = [leaf_hashes.get(i) for i in range(begin, end)]
            if any(h is None for h in hashes):
                raise LogCorrupted(f"leaves {begin}..{end - 1} are missing from the log")
            subtree = CompactRange()
            subtree.extend(hashes)  # type: ignore[arg-type]
            found[node] = subtree.root()
        missing = [n for n in ids if n not in found]
        if missing:
            first = missing[0]
            raise LogCorrupted(
                f"subtree hash at level {first.level}, index {first.index} is missing"
            )
        return [found[n] for n in ids]

    def leaves(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """Entries ``[start, end)`` as (leaf index, entry bytes)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_leaf.c.leaf_index, _leaf.c.entry)
                .where(_leaf.c.leaf_index >= start, _leaf.c.leaf_index < end)
                .order_by(_leaf.c.leaf_index)
            )
            return [(int(i), bytes(e)) for i, e in rows]

    @contextmanager
    def snapshot(self) -> Iterator[LogSnapshot]:
        """A consistent read of the whole log for the verifier (one transaction: REPEATABLE
        READ on PostgreSQL, a WAL snapshot on SQLite), so that a sequencer running meanwhile
        cannot make leaves, nodes, checkpoints and tree state disagree."""
        with self._snapshot_engine.connect() as conn, conn.begin():
            row = conn.execute(select(_state).where(_state.c.id == 1)).first()
            yield LogSnapshot(conn, _tree_state(row) if row is not None else None)

    def column_mismatches(self, *, limit: int = 1000) -> list[tuple[int, str]]:
        """Leaves whose query columns differ from their entry: (leaf index, column name).

        An administrator who rewrites ``subject`` could hide an entry from the citizen's
        "who used my data" view without touching the Merkle tree; this finds that.

        The database does the comparison. SQLite extracts the five paths with one
        ``json_extract``. PostgreSQL looks for each column's canonical JSON fragment
        (``"action":"read"``) in the entry text, which is exact for canonical entries (keys
        are unique and no value can hold a quote, see :mod:`audit.entry`) and avoids a JSON
        parse per row. The few rows flagged are decoded here to name the column.
        """
        sql = _COLUMN_CHECK_SQL[self.engine.dialect.name]
        with self.engine.connect() as conn:
            flagged = [int(i) for i in conn.execute(text(sql), {"limit": limit}).scalars()]
            rows = (
                conn.execute(select(*_LEAF_COLUMNS).where(_leaf.c.leaf_index.in_(flagged))).all()
                if flagged
                else []
            )
        found: list[tuple[int, str]] = []
        for row in sorted(rows, key=lambda r: int(r.leaf_index)):
            leaf = _stored_leaf(row)
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
                "event_at": entry.time,
            }
            found.extend(
                (leaf.leaf_index, name)
                for name, value in expected.items()
                if getattr(leaf, name) != value
            )
        return found

    def query(self, flt: EventFilter, *, after: int = -1, limit: int = 1000) -> list[StoredLeaf]:
        """Leaves matching ``flt`` with index > ``after``, ascending, at most ``limit``."""
        conditions: list[Any] = [_leaf.c.leaf_index > after]
        if flt.subject is not None:
            conditions.append(_leaf.c.subject == flt.subject)
        if flt.actor_id is not None:
            conditions.append(_leaf.c.actor_id == flt.actor_id)
        if flt.purpose is not None:
            conditions.append(_leaf.c.purpose == flt.purpose)
        if flt.since is not None:
            conditions.append(_leaf.c.event_at >= flt.since)
        if flt.until is not None:
            conditions.append(_leaf.c.event_at < flt.until)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_LEAF_COLUMNS).where(*conditions).order_by(_leaf.c.leaf_index).limit(limit)
            ).all()
        return [_stored_leaf(r) for r in rows]


def _queue_row(entry: AuditEntry, data: bytes, queued_at: datetime) -> dict[str, Any]:
    return {
        "entry": data,
        "leaf_hash": hash_leaf(data),
        "event_at": entry.time,
        "subject": entry.subject,
        "actor_kind": entry.actor.kind.value,
        "actor_id": entry.actor.id,
        "action": entry.action.value,
        "purpose": entry.purpose,
        "queued_at": queued_at,
    }


def _tree_state(row: Any) -> TreeState:
    return TreeState(row.origin, int(row.tree_size), bytes(row.root_hash), row.updated_at)


def _checkpoint_of(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(int(row.tree_size), bytes(row.root_hash), row.note, row.created_at)


def _stored_leaf(row: Any) -> StoredLeaf:
    return StoredLeaf(
        int(row.leaf_index), bytes(row.entry), bytes(row.leaf_hash), row.event_at, row.subject,
        row.actor_kind, row.actor_id, row.action, row.purpose,
    )  # fmt: skip
