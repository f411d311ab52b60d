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
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from audit.entry import AuditEntry, decode_entry, encode_entry
from audit.errors import InvalidEntry, LogCorrupted
from audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    NodeID,
    frontier_ids,
    hash_leaf,
    root_from_frontier,
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


def _connection(bind: Session | Connection) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


class SqlAuditStore:
    """The audit log's tables behind a small API; see the module docstring."""

    def __init__(self, *, engine: Engine, min_stored_level: int = MIN_STORED_LEVEL) -> None:
        self.engine = engine
        self.min_stored_level = min_stored_level
        self._sequencer_engine = engine.execution_options(jati_sqlite_begin="BEGIN IMMEDIATE")
        self._frontier: CompactRange | None = None  # cached between the sequencer's runs

    # ---------------------------------------------------------------- writers

    def append(self, bind: Session | Connection, entry: AuditEntry, *, queued_at: datetime) -> None:
        """Queue ``entry`` in the caller's transaction (commits or rolls back with it)."""
        _connection(bind).execute(
            insert(_queue), {"entry": encode_entry(entry), "queued_at": queued_at}
        )

    def append_encoded(
        self, bind: Session | Connection, entries: Sequence[bytes], *, queued_at: datetime
    ) -> None:
        """Queue already-encoded entries (each must decode: see :func:`decode_entry`)."""
        for data in entries:
            decode_entry(data)
        _connection(bind).execute(
            insert(_queue), [{"entry": data, "queued_at": queued_at} for data in entries]
        )

    # ---------------------------------------------------------------- sequencer

    def initialize(self, origin: str, *, now: datetime) -> TreeState:
        """Create the tree-state row for ``origin`` if the log is new; return the state.

        The origin is fixed by the first start and kept for the life of the log.
        """
        with self._sequencer_engine.begin() as conn:
            row = conn.execute(select(_state).where(_state.c.id == 1)).first()
            if row is None:
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
                return TreeState(origin, 0, EMPTY_ROOT, now)
        return _tree_state(row)

    def integrate(
        self,
        *,
        now: datetime,
        max_batch: int = DEFAULT_BATCH,
        sign: CheckpointSigner | None = None,
    ) -> Integration:
        """Integrate up to ``max_batch`` queued entries; sign a checkpoint if ``sign`` is given
        and the tree is larger than the latest checkpoint."""
        with self._sequencer_engine.begin() as conn:
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
                select(_queue.c.id, _queue.c.entry, _queue.c.queued_at)
                .order_by(_queue.c.id)
                .limit(max_batch)
            ).all()
            frontier = self._load_frontier(conn, state)
            size_before = state.tree_size
            oldest = min((q.queued_at for q in queued), default=None)
            if queued:
                leaves = []
                hashes = []
                for offset, item in enumerate(queued):
                    leaf_hash = hash_leaf(item.entry)
                    hashes.append(leaf_hash)
                    leaves.append(
                        _leaf_row(size_before + offset, item.entry, leaf_hash, item.queued_at, now)
                    )
                completed = frontier.extend(hashes)
                conn.execute(insert(_leaf), leaves)
                nodes = [
                    {"level": node.level, "node_index": node.index, "hash": node_hash}
                    for node, node_hash in completed
                    if node.level >= self.min_stored_level
                ]
                if nodes:
                    conn.execute(insert(_node), nodes)
                conn.execute(
                    delete(_queue).where(_queue.c.id.in_(bindparam("ids", expanding=True))),
                    {"ids": [q.id for q in queued]},
                )
                conn.execute(
                    update(_state)
                    .where(_state.c.id == 1)
                    .values(tree_size=frontier.size, root_hash=frontier.root(), updated_at=now)
                )
            checkpoint = None
            if sign is not None:
                latest = conn.execute(
                    select(_checkpoint.c.tree_size, _checkpoint.c.root_hash)
                    .order_by(_checkpoint.c.tree_size.desc())
                    .limit(1)
                ).first()
                if latest is None or latest.tree_size < frontier.size:
                    if latest is not None:
                        self._check_extends(conn, int(latest.tree_size), bytes(latest.root_hash))
                    root = frontier.root()
                    checkpoint = StoredCheckpoint(
                        frontier.size, root, sign(frontier.size, root), now
                    )
                    conn.execute(
                        insert(_checkpoint),
                        {
                            "tree_size": checkpoint.tree_size,
                            "root_hash": root,
                            "note": checkpoint.note,
                            "created_at": now,
                        },
                    )
        self._frontier = frontier
        return Integration(size_before, frontier.size, checkpoint, oldest)

    def _check_extends(self, conn: Connection, size: int, signed_root: bytes) -> None:
        """Refuse to sign a tree that does not extend the latest signed one.

        The tree's root at the old size, from the stored hashes, must equal the root that was
        signed then; otherwise the stored log was rewritten and signing would publish a fork.
        """
        root = root_from_frontier(self._node_hashes(conn, frontier_ids(size)))
        if root != signed_root:
            raise LogCorrupted(
                f"the stored tree at size {size} no longer has the signed root: "
                "refusing to sign a checkpoint (run `jati audit verify`)"
            )

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
        if isinstance(oldest, str | datetime):
            oldest = _queue.c.queued_at.type.process_result_value(oldest, self.engine.dialect)  # type: ignore[attr-defined]
        return QueueStatus(int(length), oldest)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_checkpoint).order_by(_checkpoint.c.tree_size.desc()).limit(1)
            ).first()
        return _checkpoint_of(row) if row is not None else None

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(_checkpoint).order_by(_checkpoint.c.tree_size)).all()
        return [_checkpoint_of(r) for r in rows]

    def node_hashes(self, ids: Sequence[NodeID]) -> list[bytes]:
        """Hashes of complete subtrees, in the order of ``ids`` (O(len(ids)) reads)."""
        with self.engine.connect() as conn:
            return self._node_hashes(conn, ids)

    def _node_hashes(self, conn: Connection, ids: Sequence[NodeID]) -> list[bytes]:
        if not ids:
            return []
        stored = [n for n in ids if n.level >= self.min_stored_level]
        found: dict[NodeID, bytes] = {}
        if stored:
            rows = conn.execute(
                select(_node.c.level, _node.c.node_index, _node.c.hash).where(
                    tuple_(_node.c.level, _node.c.node_index).in_(
                        [(n.level, n.index) for n in stored]
                    )
                )
            )
            for level, index, node_hash in rows:
                found[NodeID(level, index)] = node_hash
        low = [n for n in ids if n.level < self.min_stored_level]
        if low:
            ranges = [n.coverage() for n in low]
            rows = conn.execute(
                select(_leaf.c.leaf_index, _leaf.c.leaf_hash)
                .where(
                    or_(*(and_(_leaf.c.leaf_index >= b, _leaf.c.leaf_index < e) for b, e in ranges))
                )
                .order_by(_leaf.c.leaf_index)
            )
            leaf_hashes: dict[int, bytes] = {int(r[0]): bytes(r[1]) for r in rows}
            for node, (begin, end) in zip(low, ranges, strict=True):
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

    def iter_leaves(self, *, batch: int = 5000) -> Iterator[StoredLeaf]:
        """Every stored leaf row in leaf-index order, in constant memory (keyset pages)."""
        after = -1
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(*_LEAF_COLUMNS)
                    .where(_leaf.c.leaf_index > after)
                    .order_by(_leaf.c.leaf_index)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for row in rows:
                yield _stored_leaf(row)
            after = rows[-1].leaf_index

    def leaf_batches(self, *, batch: int = 10_000) -> Iterator[list[tuple[int, bytes, bytes]]]:
        """(leaf index, entry, leaf hash) of every leaf in index order, streamed in batches."""
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(
                select(_leaf.c.leaf_index, _leaf.c.entry, _leaf.c.leaf_hash).order_by(
                    _leaf.c.leaf_index
                )
            )
            for partition in result.partitions():
                yield [(int(i), bytes(e), bytes(h)) for i, e, h in partition]

    def node_rows(self, *, batch: int = 20_000) -> Iterator[tuple[int, int, bytes]]:
        """(level, index, hash) of every stored subtree, streamed."""
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(
                select(_node.c.level, _node.c.node_index, _node.c.hash)
            )
            for level, index, node_hash in result:
                yield int(level), int(index), bytes(node_hash)

    def column_mismatches(self, *, limit: int = 1000) -> list[tuple[int, str]]:
        """Leaves whose query columns differ from their entry, checked inside the database.

        An administrator who rewrites ``subject`` could hide an entry from the citizen's
        "who used my data" view without touching the Merkle tree; this finds that.
        """
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            doc = "convert_from(entry, 'UTF8')::jsonb"
            checks = {
                "subject": f"({doc}->>'subject') IS DISTINCT FROM subject",
                "actor_kind": f"({doc}->'actor'->>'kind') IS DISTINCT FROM actor_kind",
                "actor_id": f"({doc}->'actor'->>'id') IS DISTINCT FROM actor_id",
                "action": f"({doc}->>'action') IS DISTINCT FROM action",
                "purpose": f"({doc}->>'purpose') IS DISTINCT FROM purpose",
                "event_at": f"({doc}->>'time')::timestamptz IS DISTINCT FROM event_at",
            }
        else:
            doc = "CAST(entry AS TEXT)"
            checks = {
                "subject": f"json_extract({doc}, '$.subject') IS NOT subject",
                "actor_kind": f"json_extract({doc}, '$.actor.kind') IS NOT actor_kind",
                "actor_id": f"json_extract({doc}, '$.actor.id') IS NOT actor_id",
                "action": f"json_extract({doc}, '$.action') IS NOT action",
                "purpose": f"json_extract({doc}, '$.purpose') IS NOT purpose",
                "event_at": (
                    f"replace(replace(json_extract({doc}, '$.time'), 'T', ' '), 'Z', '') "
                    "IS NOT event_at"
                ),
            }
        names = list(checks)
        cases = ", ".join(f"CASE WHEN {checks[n]} THEN 1 ELSE 0 END AS {n}" for n in names)
        condition = " OR ".join(checks.values())
        valid = "actor_kind <> 'invalid'"
        sql = (
            f"SELECT leaf_index, {cases} FROM audit_leaf WHERE {valid} AND ({condition}) "  # noqa: S608 - fixed SQL
            f"ORDER BY leaf_index LIMIT {int(limit)}"
        )
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(sql).all()
        return [
            (int(row[0]), name)
            for row in rows
            for name, bad in zip(names, row[1:], strict=True)
            if bad
        ]

    def count_leaves(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(_leaf)).scalar_one())

    def iter_nodes(self, *, batch: int = 20000) -> Iterator[tuple[NodeID, bytes]]:
        """Every stored subtree hash, ordered by (level, index), in keyset pages."""
        after = (-1, -1)
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(_node.c.level, _node.c.node_index, _node.c.hash)
                    .where(tuple_(_node.c.level, _node.c.node_index) > tuple_(*after))
                    .order_by(_node.c.level, _node.c.node_index)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for level, index, node_hash in rows:
                yield NodeID(level, index), node_hash
            after = (rows[-1].level, rows[-1].node_index)

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


def _leaf_row(
    index: int, entry: bytes, leaf_hash: bytes, queued_at: datetime, now: datetime
) -> dict[str, Any]:
    try:
        decoded = decode_entry(entry)
    except InvalidEntry:
        # Never expected (append validates), but the log must not stall on one bad row:
        # the entry is integrated as it is and `jati audit verify` reports it.
        return {
            "leaf_index": index, "entry": entry, "leaf_hash": leaf_hash, "event_at": queued_at,
            "subject": None, "actor_kind": "invalid", "actor_id": "invalid", "action": "invalid",
            "purpose": None, "queued_at": queued_at, "integrated_at": now,
        }  # fmt: skip
    return {
        "leaf_index": index,
        "entry": entry,
        "leaf_hash": leaf_hash,
        "event_at": decoded.time,
        "subject": decoded.subject,
        "actor_kind": decoded.actor.kind.value,
        "actor_id": decoded.actor.id,
        "action": decoded.action.value,
        "purpose": decoded.purpose,
        "queued_at": queued_at,
        "integrated_at": now,
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
