"""The audit log on a real database: transactional append, sequencing, proofs at any size."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from audit.checkpoint import open_checkpoint
from audit.entry import AuditEntry, encode_entry
from audit.errors import InvalidRequest
from audit.log import AuditLog
from audit.merkle.compact_range import CompactRange
from audit.merkle.proof_verification import verify_consistency, verify_inclusion
from audit.merkle.tree_hash import hash_leaf
from audit.records import EventFilter
from audit.storage.store import SqlAuditStore
from identity.storage.database import Database
from tests.conftest import ManualClock, append_entries


def test_append_commits_and_rolls_back_with_the_callers_transaction(
    database: Database,
    audit_store: SqlAuditStore,
    audit_log: AuditLog,
    make_entry: Callable[..., AuditEntry],
    clock: ManualClock,
) -> None:
    with pytest.raises(RuntimeError), database.write() as session:
        audit_store.append(session, make_entry(), queued_at=clock())
        raise RuntimeError("the read of personal data failed")
    assert audit_store.queue_status().length == 0
    with database.write() as session:
        audit_store.append(session, make_entry(), queued_at=clock())
    assert audit_store.queue_status().length == 1
    result = audit_log.sequence()
    assert (result.size_before, result.size_after) == (0, 1)
    assert audit_store.queue_status().length == 0


def test_append_many_queues_in_order_with_the_callers_transaction(
    database: Database,
    audit_store: SqlAuditStore,
    audit_log: AuditLog,
    make_entry: Callable[..., AuditEntry],
    clock: ManualClock,
) -> None:
    entries = [make_entry() for _ in range(25)]
    with pytest.raises(RuntimeError), database.write() as session:
        audit_store.append_many(session, entries, queued_at=clock())
        raise RuntimeError("the batch failed")
    assert audit_store.queue_status().length == 0
    with database.write() as session:
        audit_store.append_many(session, [], queued_at=clock())
        audit_store.append_many(session, entries[:1], queued_at=clock())
        audit_store.append_many(session, entries[1:], queued_at=clock())
    status = audit_store.queue_status()
    assert (status.length, status.oldest_queued_at) == (25, clock())
    assert audit_log.sequence().size_after == 25
    stored = [entry for _, entry in audit_store.leaves(0, 25)]
    assert stored == [encode_entry(e) for e in entries]  # the rows append() would queue
    assert [leaf.subject for leaf in audit_store.query(EventFilter())] == [
        e.subject for e in entries
    ]


def test_sequencing_gives_dense_indices_and_signed_checkpoints(
    audit_store: SqlAuditStore, audit_log: AuditLog, add_entries: Callable[[int], list[AuditEntry]]
) -> None:
    entries = add_entries(37)
    audit_log.batch_size = 10  # several batches in one run
    result = audit_log.sequence(checkpoint=True)
    assert result.size_after == 37 and result.checkpoint is not None
    stored = [entry for _, entry in audit_store.leaves(0, 37)]
    assert stored == [encode_entry(e) for e in entries]  # queue order, no gaps
    checkpoint = open_checkpoint(
        audit_log.checkpoint().note, audit_log.verifier, origin=audit_log.origin
    )
    reference = CompactRange()
    reference.extend(hash_leaf(e) for e in stored)
    assert checkpoint.size == 37 and checkpoint.root_hash == reference.root()


def test_checkpoints_are_cut_when_due_not_on_every_run(
    audit_log: AuditLog, add_entries: Callable[[int], list[AuditEntry]], clock: ManualClock
) -> None:
    add_entries(1)
    first = audit_log.sequence()
    assert first.checkpoint is not None  # the first one is always due
    add_entries(1)
    clock.advance(1)
    assert audit_log.sequence().checkpoint is None  # within a quarter of the merge delay
    clock.advance(audit_log.max_merge_delay / 4)
    later = audit_log.sequence()
    assert later.checkpoint is not None and later.checkpoint.tree_size == 2


def test_proofs_at_every_historical_size_verify(
    database: Database,
    audit_store: SqlAuditStore,
    audit_log: AuditLog,
    make_entry: Callable[..., AuditEntry],
    clock: ManualClock,
) -> None:
    entries = [encode_entry(make_entry()) for _ in range(70)]
    with database.write() as session:
        audit_store.append_encoded(session, entries, queued_at=clock())
    audit_log.sequence(checkpoint=True)
    reference = CompactRange()
    roots = [reference.root()]
    for data in entries:
        reference.append(hash_leaf(data))
        roots.append(reference.root())
    for size in (1, 2, 15, 16, 17, 31, 32, 33, 64, 69, 70):
        assert audit_log.root_at(size) == roots[size]
        for index in {0, size // 2, size - 1}:
            proof = audit_log.inclusion_proof(index, size)
            assert proof.leaf_hash == hash_leaf(entries[index])
            verify_inclusion(
                leaf_index=index,
                tree_size=size,
                leaf_hash=proof.leaf_hash,
                proof=proof.inclusion_path,
                root=roots[size],
            )
        for first in {1, size // 3 or 1, size}:
            verify_consistency(
                first=first,
                second=size,
                proof=audit_log.consistency_proof(first, size),
                first_root=roots[first],
                second_root=roots[size],
            )


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("inclusion_proof", (5, 5)),
        ("inclusion_proof", (0, 6)),
        ("inclusion_proof", (-1, 3)),
        ("consistency_proof", (3, 2)),
        ("consistency_proof", (0, 3)),
        ("consistency_proof", (1, 6)),
        ("leaves", (3, 3)),
        ("leaves", (0, 6)),
        ("root_at", (6,)),
    ],
)
def test_out_of_range_requests_are_refused(
    audit_log: AuditLog,
    add_entries: Callable[[int], list[AuditEntry]],
    call: str,
    args: tuple[int, ...],
) -> None:
    add_entries(5)
    audit_log.sequence()
    with pytest.raises(InvalidRequest):
        getattr(audit_log, call)(*args)


def test_queries_filter_by_subject_actor_purpose_and_time(
    database: Database,
    audit_store: SqlAuditStore,
    audit_log: AuditLog,
    make_entry: Callable[..., AuditEntry],
    clock: ManualClock,
    pseudonymizer: object,
) -> None:
    entries = []
    for i in range(30):
        entries.append(make_entry(time=clock(), purpose="tax" if i % 2 else "health-aid"))
        clock.advance(60)
    append_entries(database, audit_store, entries, clock)
    audit_log.sequence()
    subject = entries[3].subject
    found = list(audit_log.events(EventFilter(subject=subject), page_size=2))
    assert [leaf.leaf_index for leaf in found] == [
        i for i, e in enumerate(entries) if e.subject == subject
    ]
    by_actor = list(audit_log.events(EventFilter(actor_id="app-1", purpose="tax")))
    assert all(leaf.actor_id == "app-1" and leaf.purpose == "tax" for leaf in by_actor)
    assert len(by_actor) == sum(1 for e in entries if e.actor.id == "app-1" and e.purpose == "tax")
    window = list(audit_log.events(EventFilter(since=entries[10].time, until=entries[20].time)))
    assert [leaf.leaf_index for leaf in window] == list(range(10, 20))


def test_a_second_sequencer_skips_while_one_holds_the_tree(
    database: Database, audit_log: AuditLog, add_entries: Callable[[int], list[AuditEntry]]
) -> None:
    add_entries(3)
    if database.dialect != "postgresql":
        # SQLite: BEGIN IMMEDIATE serialises sequencers; a second one simply runs after.
        assert audit_log.sequence().size_after == 3
        assert audit_log.sequence().integrated == 0
        return
    with database.engine.connect() as holder:
        holder.execute(text("BEGIN"))
        holder.execute(text("SELECT * FROM audit_tree_state WHERE id = 1 FOR UPDATE"))
        assert audit_log.sequence().skipped
        holder.execute(text("ROLLBACK"))
    assert audit_log.sequence().size_after == 3


def test_the_log_keeps_its_origin(
    audit_store: SqlAuditStore, audit_log: AuditLog, clock: ManualClock
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = AuditLog(
        store=audit_store,
        signing_key=Ed25519PrivateKey.generate(),
        clock=clock,
        origin="somewhere.else/audit",
    )
    with pytest.raises(InvalidRequest, match=r"jati\.test/audit"):
        other.initialize()
    adopting = AuditLog(store=audit_store, signing_key=Ed25519PrivateKey.generate(), clock=clock)
    assert adopting.origin == "jati.test/audit"
