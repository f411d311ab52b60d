"""A hostile database administrator: triggers dropped first, then history rewritten.

Each attack must be caught twice: by ``jati audit verify`` (the operator's check against the
stored checkpoints) and by an outside client that kept an earlier checkpoint and checks the
log against it (it never trusts the database).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from audit.checkpoint import open_checkpoint
from audit.entry import AuditEntry
from audit.errors import AuditError, InconsistentLog, LogCorrupted
from audit.log import AuditLog
from audit.merkle.compact_range import CompactRange
from audit.merkle.proof_verification import verify_inclusion
from audit.merkle.tree_hash import hash_leaf
from audit.storage.store import SqlAuditStore
from audit.storage.verification import verify_stored_log
from audit.verify import VerifyReport
from audit.witness import CheckpointTracker, MemoryWitnessState
from identity.storage.database import Database
from tests.conftest import TEST_LOG_ORIGIN, ManualClock, keyed_log
from tests.helpers import clean_env, run_jati

SIZE = 40


def drop_triggers(database: Database) -> None:
    """What an administrator with DDL rights does first."""
    with database.write() as session:
        if database.dialect == "postgresql":
            names = session.execute(
                text(
                    "SELECT tgname, relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                    " WHERE NOT tgisinternal AND relname LIKE 'audit_%'"
                    " AND c.relnamespace = current_schema()::regnamespace"
                )
            ).all()
            for name, table in names:
                session.execute(text(f'DROP TRIGGER "{name}" ON {table}'))
        else:
            names = session.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars()
            for name in list(names):
                session.execute(text(f'DROP TRIGGER "{name}"'))


def run_verify(audit_log: AuditLog, store: SqlAuditStore) -> VerifyReport:
    return verify_stored_log(audit_log, store)


def client_audit(tracker: CheckpointTracker, audit_log: AuditLog) -> None:
    """An outside auditor: rebuild the tree from the served entries, compare with the
    checkpoint it holds, and check one inclusion proof per entry (raises on any failure)."""
    checkpoint = tracker.latest
    assert checkpoint is not None
    leaves = audit_log.leaves(0, checkpoint.size)
    if [i for i, _ in leaves] != list(range(checkpoint.size)):
        raise LogCorrupted("the served leaves are not the dense range of the checkpoint")
    rebuilt = CompactRange()
    rebuilt.extend(hash_leaf(entry) for _, entry in leaves)
    if rebuilt.root() != checkpoint.root_hash:
        raise LogCorrupted("the served entries do not hash to the checkpoint's root")
    for index, entry in leaves:
        proof = audit_log.inclusion_proof(index, checkpoint.size)
        verify_inclusion(
            leaf_index=index,
            tree_size=checkpoint.size,
            leaf_hash=hash_leaf(entry),
            proof=proof.inclusion_path,
            root=checkpoint.root_hash,
        )


@pytest.fixture
def scenario(
    database: Database,
    audit_store: SqlAuditStore,
    audit_log: AuditLog,
    add_entries: Callable[[int], list[AuditEntry]],
) -> CheckpointTracker:
    """A log of SIZE entries with a checkpoint that an outside client has saved."""
    add_entries(SIZE)
    audit_log.sequence(checkpoint=True)
    tracker = CheckpointTracker(
        verifier=audit_log.verifier, origin=audit_log.origin, state=MemoryWitnessState()
    )
    tracker.update(audit_log.checkpoint().note)
    client_audit(tracker, audit_log)  # intact: passes
    assert run_verify(audit_log, audit_store).ok
    drop_triggers(database)
    return tracker


def kinds(report: VerifyReport) -> set[str]:
    return {f.kind for f in report.findings}


def caught_twice(
    audit_log: AuditLog, store: SqlAuditStore, tracker: CheckpointTracker
) -> VerifyReport:
    """The outside client's audit against its saved checkpoint fails; returns what the
    operator's verify reports, for the test to check."""
    with pytest.raises(AuditError):
        client_audit(tracker, audit_log)
    return run_verify(audit_log, store)


def test_editing_one_byte_of_an_entry(
    database: Database, audit_store: SqlAuditStore, audit_log: AuditLog, scenario: CheckpointTracker
) -> None:
    with database.write() as session:
        entry = session.execute(
            text("SELECT entry FROM audit_leaf WHERE leaf_index = 17")
        ).scalar_one()
        forged = bytes(entry).replace(b'"disclose"', b'"disclosf"')
        session.execute(
            text("UPDATE audit_leaf SET entry = :e WHERE leaf_index = 17"), {"e": forged}
        )
    report = caught_twice(audit_log, audit_store, scenario)
    assert "edited" in kinds(report) and "checkpoint_root" in kinds(report)
    assert any(f.leaf_index == 17 for f in report.findings if f.kind == "edited")


def test_editing_an_entry_and_its_hashes_consistently(
    database: Database, audit_store: SqlAuditStore, audit_log: AuditLog, scenario: CheckpointTracker
) -> None:
    """The attacker rewrites the entry, its leaf hash and every stored subtree above it."""
    with database.write() as session:
        rows = session.execute(text("SELECT entry FROM audit_leaf ORDER BY leaf_index")).scalars()
        entries = [bytes(e) for e in rows]
        entries[5] = entries[5].replace(b'"disclose"', b'"read"')
        rebuilt = CompactRange()
        nodes = rebuilt.extend(hash_leaf(e) for e in entries)
        session.execute(
            text(
                "UPDATE audit_leaf SET entry = :e, leaf_hash = :h, action = 'read'"
                " WHERE leaf_index = 5"
            ),
            {"e": entries[5], "h": hash_leaf(entries[5])},
        )
        for node, digest in nodes:
            if node.level >= audit_store.min_stored_level:
                session.execute(
                    text("UPDATE audit_node SET hash = :h WHERE level = :l AND node_index = :i"),
                    {"h": digest, "l": node.level, "i": node.index},
                )
        session.execute(text("UPDATE audit_tree_state SET root_hash = :r"), {"r": rebuilt.root()})
    report = caught_twice(audit_log, audit_store, scenario)
    assert kinds(report) == {"checkpoint_root"}


def test_deleting_a_row(
    database: Database, audit_store: SqlAuditStore, audit_log: AuditLog, scenario: CheckpointTracker
) -> None:
    with database.write() as session:
        session.execute(text("DELETE FROM audit_leaf WHERE leaf_index = 23"))
    report = caught_twice(audit_log, audit_store, scenario)
    gap = [f for f in report.findings if f.kind == "gap"]
    assert gap and gap[0].leaf_index == 23 and "leaf 23 is missing" in gap[0].message


def test_swapping_two_rows(
    database: Database, audit_store: SqlAuditStore, audit_log: AuditLog, scenario: CheckpointTracker
) -> None:
    with database.write() as session:
        session.execute(text("UPDATE audit_leaf SET leaf_index = 1000000 WHERE leaf_index = 3"))
        session.execute(text("UPDATE audit_leaf SET leaf_index = 3 WHERE leaf_index = 30"))
        session.execute(text("UPDATE audit_leaf SET leaf_index = 30 WHERE leaf_index = 1000000"))
    report = caught_twice(audit_log, audit_store, scenario)
    assert {"subtree", "checkpoint_root"} <= kinds(report)
    assert {f.leaf_index for f in report.findings if f.kind == "subtree"} >= {0, 16}


def test_truncating_and_re_appending(
    database: Database,
    audit_store: SqlAuditStore,
    audit_log: AuditLog,
    scenario: CheckpointTracker,
    add_entries: Callable[[int], list[AuditEntry]],
    clock: ManualClock,
) -> None:
    """History replaced by a fresh log. The sequencer refuses to sign it, even once the
    stored checkpoints are wiped too (it remembers, and keeps a witness file); verify
    reports it against the witness; and if a sequencer that knew nothing signed it anyway,
    a client holding the old checkpoint sees a fork."""
    witness_state = MemoryWitnessState()
    witnessed = keyed_log(audit_store, clock, witness=witness_state)
    witnessed.initialize()
    assert witnessed.trusted_checkpoint() is not None
    witnessed.sequence(checkpoint=True)  # nothing new: the witness learns the latest
    witness_state.store(audit_log.checkpoint().note)
    with database.write() as session:
        session.execute(text("DELETE FROM audit_leaf"))
        session.execute(text("DELETE FROM audit_node"))
        session.execute(
            text("UPDATE audit_tree_state SET tree_size = 0, root_hash = :r"),
            {"r": CompactRange().root()},
        )
    audit_store._frontier = None  # a restarted sequencer: nothing cached
    add_entries(SIZE + 5)
    clock.advance(10)
    with pytest.raises(LogCorrupted, match="refusing to sign"):
        audit_log.sequence(checkpoint=True)
    report = run_verify(audit_log, audit_store)
    assert "checkpoint_root" in kinds(report) or "truncated" in kinds(report)
    # The administrator also wipes the stored checkpoints.
    with database.write() as session:
        session.execute(text("DELETE FROM audit_checkpoint"))
    with pytest.raises(LogCorrupted, match="refusing to sign"):
        audit_log.sequence(checkpoint=True)  # this process remembers
    fresh_with_witness = keyed_log(audit_store, clock, witness=witness_state)
    with pytest.raises(LogCorrupted, match="refusing to sign"):
        fresh_with_witness.sequence(checkpoint=True)  # a restart reads the witness file
    external = verify_stored_log(
        audit_log, audit_store, external_checkpoints=[witness_state.load() or ""]
    )
    assert {"checkpoint_root", "truncated"} & kinds(external)
    assert any("held outside the database" in f.message for f in external.findings)
    # A sequencer with neither memory nor witness would sign the new history...
    amnesiac = keyed_log(audit_store, clock)
    amnesiac.sequence(checkpoint=True)
    forged = amnesiac.checkpoint()
    assert forged.tree_size == SIZE + 5
    # ...and a client holding the old checkpoint sees the fork.
    proof = amnesiac.consistency_proof(SIZE, SIZE + 5)
    with pytest.raises(InconsistentLog):
        scenario.update(forged.note, proof)


def test_verify_cli_exits_1_with_a_precise_message(
    database: Database,
    database_url: str,
    audit_store: SqlAuditStore,
    audit_log: AuditLog,
    scenario: CheckpointTracker,
    tmp_path: object,
) -> None:
    from pathlib import Path

    from tests.conftest import TEST_MASTER_KEY

    # The CLI derives its key from the master key, so re-sign the checkpoint under that key.
    env = clean_env(
        JATI_DATABASE_URL=database_url,
        JATI_MASTER_KEY=TEST_MASTER_KEY,
        JATI_AUDIT_ORIGIN=TEST_LOG_ORIGIN,
    )
    with database.write() as session:
        session.execute(text("DELETE FROM audit_checkpoint"))
    cwd = Path(str(tmp_path))
    assert run_jati("audit", "checkpoint", cwd=cwd, env=env).returncode == 0
    intact = run_jati("audit", "verify", cwd=cwd, env=env)
    assert intact.returncode == 0 and "OK: 40 entries" in intact.stdout
    with database.write() as session:
        session.execute(text("DELETE FROM audit_leaf WHERE leaf_index IN (7, 8)"))
    broken = run_jati("audit", "verify", cwd=cwd, env=env)
    assert broken.returncode == 1
    assert "leaves 7..8 are missing (deleted)" in broken.stderr
    assert "verification FAILED" in broken.stderr and "Traceback" not in broken.stderr


def test_hiding_an_entry_from_queries_by_editing_its_columns(
    database: Database, audit_store: SqlAuditStore, audit_log: AuditLog, scenario: CheckpointTracker
) -> None:
    """The Merkle tree is intact, but the subject column no longer matches the entry, so the
    citizen's "who used my data" query would miss it."""
    with database.write() as session:
        session.execute(text("UPDATE audit_leaf SET subject = NULL WHERE leaf_index = 9"))
    report = run_verify(audit_log, audit_store)
    assert [(f.kind, f.leaf_index) for f in report.findings] == [("columns", 9)]
    assert "subject" in report.findings[0].message


@pytest.mark.parametrize(("column", "forged"), [("legal_basis", "'f'"), ("outcome", "'denied'"),
                                               ("outcome", "NULL")])  # fmt: skip
def test_a_rewritten_legal_basis_or_outcome_column_is_found(
    database: Database, audit_store: SqlAuditStore, audit_log: AuditLog,
    scenario: CheckpointTracker, column: str, forged: str,
) -> None:  # fmt: skip
    """An auditor filters by legal basis and the console counts refusals by outcome: a
    rewritten copy would mislead both, so the verifier checks them against the entry."""
    with database.write() as session:
        session.execute(text(f"UPDATE audit_leaf SET {column} = {forged} WHERE leaf_index = 9"))
    report = run_verify(audit_log, audit_store)
    assert [(f.kind, f.leaf_index) for f in report.findings] == [("columns", 9)]
    assert column in report.findings[0].message


def test_a_checkpoint_row_rewritten_without_the_key(
    database: Database, audit_store: SqlAuditStore, audit_log: AuditLog, scenario: CheckpointTracker
) -> None:
    with database.write() as session:
        note = session.execute(text("SELECT note FROM audit_checkpoint")).scalar_one()
        forged = note.replace(f"\n{SIZE}\n", f"\n{SIZE - 1}\n")
        session.execute(text("UPDATE audit_checkpoint SET note = :n"), {"n": forged})
    report = run_verify(audit_log, audit_store)
    assert "checkpoint_signature" in kinds(report)
    with pytest.raises(AuditError):
        open_checkpoint(forged, audit_log.verifier, origin=audit_log.origin)
