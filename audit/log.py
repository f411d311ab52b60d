"""The audit log service: append, sequence, checkpoint, prove (RFC 9162, C2SP).

``AuditLog`` is framework-free: it is given a store (:class:`AuditStore`), the log's note
signer and a clock. The SQL adapter (:mod:`audit.storage.store`) implements the store;
writers append through the adapter with their own transaction.

Maximum merge delay: an appended entry is covered by a published checkpoint within
``max_merge_delay`` seconds. :meth:`AuditLog.sequence` runs every ``sequencer_interval``
(a quarter of a second, or a fifth of a shorter delay); it integrates what is queued and
signs a checkpoint once the last one is older than a quarter of the delay, so an entry
waits at most one interval plus a quarter of the delay (1.5 s of the default 5 s), leaving
room for slow runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from audit.errors import InvalidRequest, NoteError
from audit.merkle.proof_plans import consistency_nodes, inclusion_nodes
from audit.merkle.tree_hash import NodeID, root_from_frontier, root_nodes
from audit.note import NoteSigner, NoteVerifier
from audit.records import (
    EventFilter,
    Integration,
    QueueStatus,
    StoredCheckpoint,
    StoredLeaf,
    TreeState,
)
from audit.statistics import DailyCount
from audit.witness import WitnessState

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_LEAVES_PER_REQUEST = 1000


class AuditStore(Protocol):
    """What the log needs from storage (implemented by ``SqlAuditStore``)."""

    min_stored_level: int

    def initialize(self, origin: str, *, now: datetime) -> TreeState: ...

    def integrate(
        self,
        *,
        now: datetime,
        max_batch: int = ...,
        sign: Callable[[int, bytes], str] | None = None,
        trusted: tuple[int, bytes] | None = None,
    ) -> Integration: ...

    def tree_state(self) -> TreeState | None: ...

    def queue_status(self) -> QueueStatus: ...

    def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    def recent_checkpoints(self, *, limit: int) -> list[StoredCheckpoint]: ...

    def node_hashes(self, ids: Sequence[NodeID]) -> list[bytes]: ...

    def leaves(self, start: int, end: int) -> list[tuple[int, bytes]]: ...

    def query(
        self,
        flt: EventFilter,
        *,
        after: int = -1,
        limit: int = 1000,
        before: int | None = None,
        newest_first: bool = False,
    ) -> list[StoredLeaf]: ...

    def queued(self, flt: EventFilter, *, limit: int) -> list[bytes]: ...

    def daily_counts(
        self, *, since: datetime, until: datetime, utc_offset: timedelta
    ) -> list[DailyCount]:
        """Integrated entries of :data:`audit.statistics.COUNTED_ACTIONS` in [since, until),
        counted per local day, actor, action and outcome."""
        ...


@dataclass(frozen=True, slots=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    inclusion_path: list[bytes]


class AuditLog:
    """One log, identified by its origin (the signer's key name)."""

    def __init__(
        self,
        *,
        store: AuditStore,
        signing_key: Ed25519PrivateKey,
        clock: Clock,
        origin: str | None = None,
        default_origin: str = "localhost/audit",
        max_merge_delay: float = 5.0,
        batch_size: int = 2000,
        witness: WitnessState | None = None,
    ) -> None:
        """``origin`` pins the log's name; without it, the name recorded by the first start
        is adopted, or ``default_origin`` for a new log. The origin is also the key name.

        ``witness`` keeps the latest signed checkpoint outside the database (a file in the
        data directory): the sequencer never signs a tree that is not consistent with it,
        so wiping the database's checkpoints does not make the log sign a rewritten history.
        """
        if max_merge_delay <= 0:
            raise ValueError("max_merge_delay must be positive")
        self.store = store
        self.clock = clock
        self.max_merge_delay = max_merge_delay
        self.sequencer_interval = min(0.25, max_merge_delay / 5)
        self.batch_size = batch_size
        self._signing_key = signing_key
        self._pinned_origin = origin
        self._default_origin = default_origin
        self._signer: NoteSigner | None = None
        self._last_checkpoint_at: datetime | None = None
        self._witness = witness
        self._trusted: Checkpoint | None = None
        self._verified_rows: dict[tuple[int, str], bool] = {}

    @property
    def signer(self) -> NoteSigner:
        if self._signer is None:
            self.initialize()
        assert self._signer is not None
        return self._signer

    @property
    def origin(self) -> str:
        return self.signer.name

    @property
    def verifier(self) -> NoteVerifier:
        return self.signer.verifier()

    def vkey(self) -> str:
        """The C2SP verifier key that clients use to check checkpoints."""
        return self.signer.vkey()

    def initialize(self) -> TreeState:
        """Create the log on first use and fix its origin; check a pinned origin."""
        wanted = self._pinned_origin or self._default_origin
        state = self.store.initialize(wanted, now=self.clock())
        if self._pinned_origin is not None and state.origin != self._pinned_origin:
            raise InvalidRequest(
                f"this database holds the audit log {state.origin!r}, not "
                f"{self._pinned_origin!r}; set JATI_AUDIT_ORIGIN={state.origin}"
            )
        self._signer = NoteSigner(state.origin, self._signing_key)
        return state

    def _sign(self, size: int, root: bytes) -> str:
        return sign_checkpoint(Checkpoint(self.origin, size, root), self.signer)

    def _genuine(self, stored: StoredCheckpoint) -> Checkpoint | None:
        """The checkpoint if its note is signed by this log's key and matches its row."""
        key = (stored.tree_size, stored.note)
        if self._verified_rows.get(key) is False:
            return None
        try:
            checkpoint = open_checkpoint(stored.note, self.verifier, origin=self.origin)
        except NoteError:
            checkpoint = None
        ok = (
            checkpoint is not None
            and checkpoint.size == stored.tree_size
            and checkpoint.root_hash == stored.root_hash
        )
        if len(self._verified_rows) > 1024:
            self._verified_rows.clear()
        self._verified_rows[key] = ok
        if not ok:
            log.error("audit checkpoint row at size %d is not signed by this log: ignored", key[0])
        return checkpoint if ok else None

    def trusted_checkpoint(self) -> Checkpoint | None:
        """The largest checkpoint signed by this log that this process knows of: in memory,
        in the witness file, or among the database's rows whose signature holds."""
        candidates = [self._trusted]
        if self._witness is not None and (note := self._witness.load()):
            try:
                candidates.append(open_checkpoint(note, self.verifier, origin=self.origin))
            except NoteError:
                log.error("the audit witness file holds no valid checkpoint of this log")
        for stored in self.store.recent_checkpoints(limit=8):
            if (genuine := self._genuine(stored)) is not None:
                candidates.append(genuine)
                break
        known = [c for c in candidates if c is not None]
        self._trusted = max(known, key=lambda c: c.size) if known else None
        return self._trusted

    def _remember(self, stored: StoredCheckpoint) -> None:
        self._last_checkpoint_at = stored.created_at
        checkpoint = Checkpoint(self.origin, stored.tree_size, stored.root_hash)
        if self._trusted is None or checkpoint.size > self._trusted.size:
            self._trusted = checkpoint
        if self._witness is not None:
            current = self._witness.load()
            try:
                older = (
                    open_checkpoint(current, self.verifier, origin=self.origin).size
                    if current
                    else -1
                )
            except NoteError:
                older = -1
            if stored.tree_size > older:
                self._witness.store(stored.note)

    def sequence(self, *, checkpoint: bool | None = None, drain: bool = True) -> Integration:
        """Integrate queued entries and, when due (or ``checkpoint=True``), sign a checkpoint.

        With ``drain``, keeps integrating batches until the queue is empty. Returns the
        summary of the whole run; ``skipped`` when another process is the sequencer now.
        """
        if self._signer is None:
            self.initialize()  # a new log: create it before the first run
        now = self.clock()
        if checkpoint is None:
            if self._last_checkpoint_at is None:
                latest = self.store.latest_checkpoint()
                self._last_checkpoint_at = latest.created_at if latest else None
            last = self._last_checkpoint_at
            checkpoint = last is None or (now - last).total_seconds() >= self.max_merge_delay / 4
        first: Integration | None = None
        result: Integration
        if checkpoint:
            self.trusted_checkpoint()  # read once; each signing below advances it in memory
        while True:
            known = self._trusted if checkpoint else None
            trusted = (known.size, known.root_hash) if known else None
            result = self.store.integrate(
                now=now,
                max_batch=self.batch_size,
                sign=self._sign if checkpoint else None,
                trusted=trusted,
            )
            if result.checkpoint is not None:
                self._remember(result.checkpoint)
            first = first or result
            drained = not result.skipped and result.integrated < self.batch_size
            if result.skipped or not drain or drained:
                break
            now = self.clock()
        return Integration(
            first.size_before,
            result.size_after,
            result.checkpoint or first.checkpoint,
            first.oldest_queued_at,
            skipped=result.skipped,
            drained=drained,
        )

    def checkpoint(self) -> StoredCheckpoint:
        """The latest checkpoint signed by this log (cutting the first one for a new log).

        Rows whose signature does not hold are skipped (and logged): a row inserted by
        someone without the key cannot take the place of the log's own.
        """
        for _ in range(2):
            for stored in self.store.recent_checkpoints(limit=8):
                if self._genuine(stored) is not None:
                    return stored
            self.sequence(checkpoint=True, drain=False)
        raise InvalidRequest("the audit log has no checkpoint yet; try again shortly")

    def _tree_size(self) -> int:
        state = self.store.tree_state()
        return state.tree_size if state else 0

    def inclusion_proof(self, leaf_index: int, tree_size: int) -> InclusionProof:
        """RFC 9162 §2.1.3.1 inclusion proof of leaf ``leaf_index`` in the tree of ``tree_size``."""
        current = self._tree_size()
        if not 0 < tree_size <= current:
            raise InvalidRequest(f"tree_size must be between 1 and {current}")
        if not 0 <= leaf_index < tree_size:
            raise InvalidRequest("leaf_index must be at least 0 and less than tree_size")
        plan = inclusion_nodes(leaf_index, tree_size)
        leaf_id = NodeID(0, leaf_index)
        hashes = self.store.node_hashes([leaf_id, *plan.ids])
        return InclusionProof(leaf_index, tree_size, hashes[0], plan.rehash(hashes[1:]))

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 consistency proof between tree sizes ``first`` and ``second``."""
        current = self._tree_size()
        if not 0 < first <= second <= current:
            raise InvalidRequest(f"need 1 <= first <= second <= {current}")
        plan = consistency_nodes(first, second)
        return plan.rehash(self.store.node_hashes(plan.ids))

    def root_at(self, tree_size: int) -> bytes:
        """The Merkle tree head at any historical size, from O(log n) stored hashes."""
        current = self._tree_size()
        if not 0 <= tree_size <= current:
            raise InvalidRequest(f"tree_size must be between 0 and {current}")
        return root_from_frontier(self.store.node_hashes(root_nodes(tree_size)))

    def leaves(self, start: int, end: int) -> list[tuple[int, bytes]]:
        current = self._tree_size()
        if not 0 <= start < end <= current:
            raise InvalidRequest(f"need 0 <= start < end <= {current}")
        if end - start > MAX_LEAVES_PER_REQUEST:
            raise InvalidRequest(f"at most {MAX_LEAVES_PER_REQUEST} leaves per request")
        return self.store.leaves(start, end)

    def events(self, flt: EventFilter, *, page_size: int = 1000) -> Iterator[StoredLeaf]:
        """Every integrated entry matching ``flt``, in log order, page by page."""
        after = -1
        while True:
            page = self.store.query(flt, after=after, limit=page_size)
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].leaf_index

    def lag_seconds(self) -> float:
        """How long the oldest queued entry has waited for integration (0 when none)."""
        oldest = self.store.queue_status().oldest_queued_at
        return max(0.0, (self.clock() - oldest).total_seconds()) if oldest else 0.0
