"""SQL storage of the audit log: the writers' queue, the sequencer, and the readers.

Writers call :meth:`SqlAuditStore.append` with *their own* session: the entry is inserted into
``audit_queue`` inside the caller's transaction, so an access to personal data and its audit
entry commit together or not at all, and writers never wait on the tree head.

One sequencer at a time (:meth:`SqlAuditStore.integrate`) moves queued entries into the tree:
it assigns dense leaf indices, stores leaf hashes and complete-subtree hashes, advances the
tree state and, when asked, signs a checkpoint, all in one transaction. It is elected by the
database: ``SELECT ... FOR UPDATE SKIP LOCKED`` on the tree-state row on PostgreSQL (a second
worker skips its turn instead of queueing), ``BEGIN IMMEDIATE`` on SQLite.

Many entries at once (:meth:`SqlAuditStore.append_many`, a population import's batch) go
in with :func:`audit.storage.bulk.bulk_insert`: one ``executemany`` on SQLite,
``COPY ... FROM STDIN`` on PostgreSQL, in the caller's transaction all the same.

The queue's statements are in :mod:`audit.storage.enqueue`, the reading of subtree hashes in
:mod:`audit.storage.subtree_hashes`, and the verifier's reads in
:mod:`audit.storage.verification`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Table,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from audit.entry import AuditEntry, decode_entry, encode_entry
from audit.errors import LogCorrupted, ProofError
from audit.merkle.compact_range import CompactRange
from audit.merkle.proof_plans import consistency_nodes
from audit.merkle.proof_verification import verify_consistency
from audit.merkle.tree_hash import EMPTY_ROOT, NodeID, frontier_ids
from audit.records import (
    EventFilter,
    Integration,
    QueueStatus,
    StoredCheckpoint,
    StoredLeaf,
    TreeState,
)
from audit.statistics import DailyCount
from audit.storage.bulk import bulk_insert
from audit.storage.daily_counts import daily_counts
from audit.storage.enqueue import DriverInsert, queue_row
from audit.storage.subtree_hashes import MIN_STORED_LEVEL, read_subtree_hashes
from audit.storage.tables import (
    AuditCheckpoint,
    AuditLeaf,
    AuditNode,
    AuditQueue,
    AuditTreeState,
    UTCDateTime,
)

__all__ = [
    "DEFAULT_BATCH",
    "LEAF_COLUMNS",
    "CheckpointSigner",
    "SqlAuditStore",
    "checkpoint_of",
    "stored_leaf_of",
    "tree_state_of",
]

DEFAULT_BATCH = 2000

CheckpointSigner = Callable[[int, bytes], str]
"""Given (tree size, root hash), returns the signed checkpoint note."""

_queue = cast(Table, AuditQueue.__table__)
_leaf = cast(Table, AuditLeaf.__table__)
_node = cast(Table, AuditNode.__table__)
_checkpoint = cast(Table, AuditCheckpoint.__table__)
_state = cast(Table, AuditTreeState.__table__)

_ENQUEUE = insert(_queue)
#: The columns a queued row and its leaf share (:class:`audit.storage.tables.EntryColumns`).
_SHARED = [c.name for c in _queue.c if c.name != "id"]

#: The columns of a :class:`~audit.records.StoredLeaf`, in its field order.
LEAF_COLUMNS = (
    _leaf.c.leaf_index,
    _leaf.c.entry,
    _leaf.c.leaf_hash,
    _leaf.c.event_at,
    _leaf.c.subject,
    _leaf.c.actor_kind,
    _leaf.c.actor_id,
    _leaf.c.action,
    _leaf.c.purpose,
    _leaf.c.legal_basis,
    _leaf.c.outcome,
)


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
        self._enqueue = DriverInsert(_queue, engine.dialect)

    # ---------------------------------------------------------------- writers

    def append(self, bind: Session | Connection, entry: AuditEntry, *, queued_at: datetime) -> None:
        """Queue ``entry`` in the caller's transaction (commits or rolls back with it).

        The row is built before the connection is touched: on SQLite the first statement
        of a write transaction takes the database's write lock, which should be held for
        the INSERT alone.
        """
        row = queue_row(entry, encode_entry(entry), queued_at)
        self._enqueue.execute(_connection(bind), row)

    def append_encoded(
        self, bind: Session | Connection, entries: Sequence[bytes], *, queued_at: datetime
    ) -> None:
        """Queue already-encoded entries (each must be canonical: see :func:`decode_entry`)."""
        rows = [queue_row(decode_entry(data), data, queued_at) for data in entries]
        _connection(bind).execute(_ENQUEUE, rows)

    def append_many(
        self, bind: Session | Connection, entries: Sequence[AuditEntry], *, queued_at: datetime
    ) -> None:
        """Queue ``entries`` in the caller's transaction with one statement
        (:func:`bulk_insert`): the rows :meth:`append` queues one by one, in order."""
        if entries:
            bulk_insert(
                _connection(bind),
                _queue,
                _SHARED,
                [_queued_values(entry, queued_at) for entry in entries],
            )

    # ---------------------------------------------------------------- sequencer

    def initialize(self, origin: str, *, now: datetime) -> TreeState:
        """Create the tree-state row for ``origin`` if the log is new; return the state.

        The origin is fixed by the first start and kept for the life of the log. Two hosts
        starting at once both try; the database keeps one row and both read it back.
        """
        with self._sequencer_engine.begin() as conn:
            row = conn.execute(select(_state).where(_state.c.id == 1)).first()
            if row is not None:
                return tree_state_of(row)
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
        state = self._locked_state(conn)
        if state is None:
            return Integration(0, 0, skipped=True)
        queued = conn.execute(
            select(_queue.c.id, _queue.c.leaf_hash).order_by(_queue.c.id).limit(max_batch)
        ).all()
        frontier = self._load_frontier(conn, state)
        size_before = state.tree_size
        oldest = self._move_queued(conn, queued, frontier, now) if queued else None
        checkpoint = (
            self._maybe_sign(conn, frontier, sign, now, trusted) if sign is not None else None
        )
        self._frontier = frontier
        return Integration(size_before, frontier.size, checkpoint, oldest)

    def _locked_state(self, conn: Connection) -> TreeState | None:
        """The tree state, its row locked for this sequencer run; None when another worker
        holds it (PostgreSQL: ``FOR UPDATE SKIP LOCKED`` skips a locked row)."""
        state_query = select(_state).where(_state.c.id == 1)
        if conn.dialect.name == "postgresql":
            state_query = state_query.with_for_update(skip_locked=True)
        row = conn.execute(state_query).first()
        if row is None:
            if conn.dialect.name == "postgresql" and self._state_exists(conn):
                return None
            raise LogCorrupted("the audit log is not initialised (no tree state)")
        return tree_state_of(row)

    def _move_queued(
        self,
        conn: Connection,
        queued: Sequence[Row[Any, Any]],
        frontier: CompactRange,
        now: datetime,
    ) -> datetime:
        """Move the ``queued`` rows (id, leaf hash) into the tree: extend ``frontier``, copy
        the rows into ``audit_leaf`` with their new indices (one INSERT ... SELECT), store the
        new subtree hashes, delete the rows from the queue and advance the tree state.
        Returns when the oldest of them was queued."""
        size_before = frontier.size
        last_id = queued[-1][0]
        oldest: datetime = conn.execute(
            select(func.min(_queue.c.queued_at)).where(_queue.c.id <= last_id)
        ).scalar_one()
        nodes = frontier.extend_above([bytes(q[1]) for q in queued], self.min_stored_level)
        copied = conn.execute(
            insert(_leaf).from_select(
                ["leaf_index", *_SHARED, "integrated_at"],
                select(
                    func.row_number().over(order_by=_queue.c.id) + (size_before - 1),
                    *(_queue.c[name] for name in _SHARED),
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
        return oldest

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

    def _node_hashes(self, conn: Connection, ids: Sequence[NodeID]) -> list[bytes]:
        return read_subtree_hashes(conn, ids, min_stored_level=self.min_stored_level)

    # ---------------------------------------------------------------- readers

    def tree_state(self) -> TreeState | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_state).where(_state.c.id == 1)).first()
        return tree_state_of(row) if row is not None else None

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
        return [checkpoint_of(r) for r in rows]

    def node_hashes(self, ids: Sequence[NodeID]) -> list[bytes]:
        """Hashes of complete subtrees, in the order of ``ids`` (O(len(ids)) reads)."""
        with self.engine.connect() as conn:
            return self._node_hashes(conn, ids)

    def leaves(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """Entries ``[start, end)`` as (leaf index, entry bytes)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_leaf.c.leaf_index, _leaf.c.entry)
                .where(_leaf.c.leaf_index >= start, _leaf.c.leaf_index < end)
                .order_by(_leaf.c.leaf_index)
            )
            return [(int(i), bytes(e)) for i, e in rows]

    def query(
        self,
        flt: EventFilter,
        *,
        after: int = -1,
        limit: int = 1000,
        before: int | None = None,
        newest_first: bool = False,
    ) -> list[StoredLeaf]:
        """Leaves matching ``flt`` with ``after`` < index (< ``before`` when given), at most
        ``limit``: ascending, or descending with ``newest_first`` (a citizen's log page; the
        ``(subject, leaf_index)`` index serves both directions)."""
        conditions = _conditions(_leaf, flt)
        if after >= 0:  # no bound from the start: the planner keeps to (subject, leaf_index)
            conditions.append(_leaf.c.leaf_index > after)
        if before is not None:
            conditions.append(_leaf.c.leaf_index < before)
        order = _leaf.c.leaf_index.desc() if newest_first else _leaf.c.leaf_index
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*LEAF_COLUMNS).where(*conditions).order_by(order).limit(limit)
            ).all()
        return [stored_leaf_of(r) for r in rows]

    def daily_counts(
        self, *, since: datetime, until: datetime, utc_offset: timedelta
    ) -> list[DailyCount]:
        """See :func:`audit.storage.daily_counts.daily_counts`."""
        return daily_counts(self.engine, since=since, until=until, utc_offset=utc_offset)

    def queued(self, flt: EventFilter, *, limit: int) -> list[bytes]:
        """Entries matching ``flt`` that are committed but not yet in the tree, newest first
        (the queue holds only the last few seconds' entries)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_queue.c.entry)
                .where(*_conditions(_queue, flt))
                .order_by(_queue.c.id.desc())
                .limit(limit)
            ).all()
        return [bytes(r.entry) for r in rows]


def _conditions(table: Table, flt: EventFilter) -> list[Any]:
    """The WHERE conditions of ``flt`` on ``audit_leaf`` or ``audit_queue``."""
    conditions: list[Any] = []
    if flt.subject is not None:
        conditions.append(table.c.subject == flt.subject)
    if flt.actor_id is not None:
        conditions.append(table.c.actor_id == flt.actor_id)
    if flt.purpose is not None:
        conditions.append(table.c.purpose == flt.purpose)
    if flt.legal_basis is not None:
        conditions.append(table.c.legal_basis == flt.legal_basis)
    if flt.since is not None:
        conditions.append(table.c.event_at >= flt.since)
    if flt.until is not None:
        conditions.append(table.c.event_at < flt.until)
    return conditions


# ---------------------------------------------------------------- many rows at once


def _queued_values(entry: AuditEntry, queued_at: datetime) -> list[Any]:
    row = queue_row(entry, encode_entry(entry), queued_at)
    return [row[name] for name in _SHARED]


# ---------------------------------------------------------------- rows as records


def tree_state_of(row: Any) -> TreeState:
    """The tree state of an ``audit_tree_state`` row."""
    return TreeState(row.origin, int(row.tree_size), bytes(row.root_hash), row.updated_at)


def checkpoint_of(row: Any) -> StoredCheckpoint:
    """The checkpoint of an ``audit_checkpoint`` row."""
    return StoredCheckpoint(int(row.tree_size), bytes(row.root_hash), row.note, row.created_at)


def stored_leaf_of(row: Any) -> StoredLeaf:
    """The leaf of a row of :data:`LEAF_COLUMNS`."""
    return StoredLeaf(
        int(row.leaf_index), bytes(row.entry), bytes(row.leaf_hash), row.event_at, row.subject,
        row.actor_kind, row.actor_id, row.action, row.purpose, row.legal_basis, row.outcome,
    )  # fmt: skip
