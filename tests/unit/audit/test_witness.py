"""CheckpointTracker: a client that needs no database detects rollbacks and forks."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.errors import (
    InconsistentLog,
    MalformedNote,
    NoteError,
    ProofError,
    RootMismatch,
    UnverifiedNote,
)
from audit.merkle.compact_range import CompactRange
from audit.merkle.proof_plans import consistency_nodes, inclusion_nodes
from audit.merkle.tree_hash import NodeID, hash_leaf
from audit.note import NoteSigner
from audit.witness import (
    CheckpointTracker,
    FileWitnessState,
    LogWitness,
    MemoryWitnessState,
    WitnessState,
)

ORIGIN = "jati.example.go.id/audit"


class FakeLog:
    """A naive in-memory log: every complete subtree hash, and a checkpoint per size."""

    def __init__(self, signer: NoteSigner, entries: list[bytes]) -> None:
        self.signer = signer
        self.entries = entries
        self.store: dict[NodeID, bytes] = {}
        self.roots: list[bytes] = []
        compact = CompactRange()
        self.roots.append(compact.root())
        for entry in entries:
            self.store.update(compact.append(hash_leaf(entry)))
            self.roots.append(compact.root())

    def checkpoint(self, size: int) -> str:
        return sign_checkpoint(Checkpoint(ORIGIN, size, self.roots[size]), self.signer)

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        if size1 == 0:
            return []
        plan = consistency_nodes(size1, size2)
        return plan.rehash([self.store[n] for n in plan.ids])

    def inclusion(self, index: int, size: int) -> list[bytes]:
        plan = inclusion_nodes(index, size)
        return plan.rehash([self.store[n] for n in plan.ids])


MakeLog = Callable[..., FakeLog]


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


@pytest.fixture
def make_log(signer: NoteSigner) -> MakeLog:
    def make(count: int = 20, *, fork_at: int | None = None, key: NoteSigner = signer) -> FakeLog:
        entries = [b"event %d" % i for i in range(count)]
        if fork_at is not None:
            entries[fork_at:] = [b"forked event %d" % i for i in range(fork_at, count)]
        return FakeLog(key, entries)

    return make


def tracker(signer: NoteSigner, state: WitnessState | None = None) -> CheckpointTracker:
    return CheckpointTracker(
        verifier=signer.verifier(), origin=ORIGIN, state=state or MemoryWitnessState()
    )


def test_first_checkpoint_is_trusted_then_extended(signer: NoteSigner, make_log: MakeLog) -> None:
    log = make_log()
    t = tracker(signer)
    assert t.latest is None
    first = t.update(log.checkpoint(5))
    assert (first.size, first.root_hash) == (5, log.roots[5])
    for old, new in [(5, 9), (9, 16), (16, 16), (16, 20)]:
        assert t.update(log.checkpoint(new), log.consistency(old, new)).size == new
    assert t.latest == Checkpoint(ORIGIN, 20, log.roots[20])
    assert t.latest_note == log.checkpoint(20)


def test_growth_from_the_empty_tree(signer: NoteSigner, make_log: MakeLog) -> None:
    log = make_log()
    t = tracker(signer)
    t.update(log.checkpoint(0))
    assert t.update(log.checkpoint(3), []).size == 3


def test_rollback_detected(signer: NoteSigner, make_log: MakeLog) -> None:
    log = make_log()
    t = tracker(signer)
    t.update(log.checkpoint(10))
    with pytest.raises(InconsistentLog, match="rollback"):
        t.update(log.checkpoint(9))
    assert t.latest is not None
    assert t.latest.size == 10


def test_fork_detected_same_size(signer: NoteSigner, make_log: MakeLog) -> None:
    honest, forked = make_log(fork_at=5), make_log()
    t = tracker(signer)
    t.update(honest.checkpoint(8))
    with pytest.raises(InconsistentLog, match="fork"):
        t.update(forked.checkpoint(8))


def test_fork_detected_when_growing(signer: NoteSigner, make_log: MakeLog) -> None:
    # Two histories signed by the same log key, sharing their first 5 entries.
    seen, other = make_log(), make_log(fork_at=5)
    t = tracker(signer)
    t.update(seen.checkpoint(6))
    with pytest.raises(InconsistentLog, match="fork") as info:
        t.update(other.checkpoint(12), other.consistency(6, 12))
    assert isinstance(info.value.__cause__, RootMismatch)
    # Both histories agree up to the shared prefix, so growing from there is fine ...
    prefix = tracker(signer)
    prefix.update(other.checkpoint(5))
    prefix.update(other.checkpoint(12), other.consistency(5, 12))
    # ... but the honest history cannot be joined afterwards.
    with pytest.raises(InconsistentLog):
        prefix.update(seen.checkpoint(15), seen.consistency(12, 15))
    assert prefix.latest is not None
    assert prefix.latest.root_hash == other.roots[12]


@pytest.mark.parametrize(
    "bad_proof",
    [
        lambda p: [],
        lambda p: p[:-1],
        lambda p: [*p, p[0]],
        lambda p: [bytes([p[0][0] ^ 1]) + p[0][1:], *p[1:]],
        lambda p: [h[:31] for h in p],
    ],
    ids=["empty", "truncated", "extended", "flipped-bit", "short-hashes"],
)
def test_bad_consistency_proof_is_inconsistent(
    signer: NoteSigner, make_log: MakeLog, bad_proof: Callable[[list[bytes]], list[bytes]]
) -> None:
    log = make_log()
    t = tracker(signer)
    t.update(log.checkpoint(7))
    with pytest.raises(InconsistentLog):
        t.update(log.checkpoint(13), bad_proof(log.consistency(7, 13)))
    assert t.latest is not None
    assert t.latest.size == 7


def test_bad_signature_rejected(signer: NoteSigner, make_log: MakeLog) -> None:
    t = tracker(signer)
    impostor = make_log(key=NoteSigner.generate(ORIGIN))
    with pytest.raises(UnverifiedNote):
        t.update(impostor.checkpoint(4))
    note = make_log().checkpoint(4)
    tampered = note.replace("\n4\n", "\n5\n", 1)
    assert tampered != note
    with pytest.raises(UnverifiedNote):
        t.update(tampered)
    with pytest.raises(MalformedNote):
        t.update(note.replace("\n\n", "\n", 1))
    assert t.latest is None


def test_wrong_origin_rejected(signer: NoteSigner) -> None:
    t = tracker(signer)
    note = sign_checkpoint(Checkpoint("other.example/log", 1, hash_leaf(b"x")), signer)
    with pytest.raises(UnverifiedNote, match="origin"):
        t.update(note)


def test_empty_tree_with_a_root_is_rejected(signer: NoteSigner) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 0, hash_leaf(b"x")), signer)
    with pytest.raises(InconsistentLog):
        tracker(signer).update(note)


def test_inclusion(signer: NoteSigner, make_log: MakeLog) -> None:
    log = make_log()
    t = tracker(signer)
    with pytest.raises(ProofError, match="no checkpoint"):
        t.verify_inclusion(log.entries[0], 0, [])
    t.update(log.checkpoint(13))
    for index in range(13):
        assert t.verify_inclusion(log.entries[index], index, log.inclusion(index, 13)).size == 13
    with pytest.raises(RootMismatch):
        t.verify_inclusion(b"not logged", 3, log.inclusion(3, 13))
    with pytest.raises(RootMismatch):
        t.verify_inclusion(log.entries[4], 3, log.inclusion(3, 13))
    with pytest.raises(ProofError):
        t.verify_inclusion(log.entries[3], 3, log.inclusion(3, 12))
    with pytest.raises(ProofError):
        t.verify_inclusion(log.entries[0], 13, log.inclusion(12, 13))


def test_file_state_survives_a_new_instance(
    signer: NoteSigner, make_log: MakeLog, tmp_path: Path
) -> None:
    log = make_log()
    path = tmp_path / "checkpoint.note"
    first = tracker(signer, FileWitnessState(path))
    first.update(log.checkpoint(5))
    first.update(log.checkpoint(11), log.consistency(5, 11))
    assert path.read_text(encoding="utf-8") == log.checkpoint(11)
    assert os.listdir(tmp_path) == ["checkpoint.note"]  # no temporary file left behind

    second = tracker(signer, FileWitnessState(path))
    assert second.latest == Checkpoint(ORIGIN, 11, log.roots[11])
    with pytest.raises(InconsistentLog, match="rollback"):
        second.update(log.checkpoint(10))
    forked = make_log(fork_at=8)
    with pytest.raises(InconsistentLog):
        second.update(forked.checkpoint(14), forked.consistency(11, 14))
    second.update(log.checkpoint(14), log.consistency(11, 14))
    assert tracker(signer, FileWitnessState(path)).latest == Checkpoint(ORIGIN, 14, log.roots[14])


def test_tampered_file_state_is_refused(
    signer: NoteSigner, make_log: MakeLog, tmp_path: Path
) -> None:
    path = tmp_path / "checkpoint.note"
    FileWitnessState(path).store(make_log(key=NoteSigner.generate(ORIGIN)).checkpoint(3))
    with pytest.raises(NoteError):
        tracker(signer, FileWitnessState(path))


def test_missing_file_means_no_state(tmp_path: Path) -> None:
    assert FileWitnessState(tmp_path / "absent").load() is None


def test_memory_state_round_trip() -> None:
    state = MemoryWitnessState()
    assert state.load() is None
    state.store("note\n")
    assert state.load() == "note\n"


def test_log_witness_is_the_tracker() -> None:
    assert LogWitness is CheckpointTracker
