"""A third party's view of the log: remember the latest checkpoint, refuse forks.

Anyone holding the log's verifier key (an auditor, a citizen's app, a monitor) can use
:class:`CheckpointTracker` without a database, much like the Go checksum database client
(golang.org/x/mod/sumdb): it keeps the latest signed checkpoint it accepted in a small
:class:`WitnessState`, and accepts a new one only if

1. the note is signed by the log's key and is a checkpoint for the expected origin
   (C2SP signed-note, tlog-checkpoint);
2. it is not smaller than the one held (a smaller one is a rollback);
3. it has the same root if it has the same size, or comes with a consistency proof from the
   held checkpoint (RFC 9162 §2.1.4); otherwise the log has shown two different histories
   (a fork), which is evidence of misbehaviour worth keeping: both notes are signed.

Then inclusion proofs for entries are checked against the held checkpoint (RFC 9162 §2.1.3).
The first checkpoint is trusted on first use: get it from a source you trust.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.errors import InconsistentLog, ProofError
from audit.merkle.proof_verification import verify_consistency, verify_inclusion
from audit.merkle.tree_hash import EMPTY_ROOT, hash_leaf
from audit.note import Verifier

__all__ = [
    "CheckpointTracker",
    "FileWitnessState",
    "LogWitness",
    "MemoryWitnessState",
    "WitnessState",
]


class WitnessState(Protocol):
    """Where a tracker keeps the latest accepted signed checkpoint note."""

    def load(self) -> str | None:
        """The stored note, or None if none was stored yet."""
        ...

    def store(self, note: str) -> None:
        """Replace the stored note (atomically: a crash leaves the old or the new one)."""
        ...


class MemoryWitnessState:
    """A :class:`WitnessState` in memory, for tests and short-lived processes."""

    def __init__(self, note: str | None = None) -> None:
        self._note = note

    def load(self) -> str | None:
        return self._note

    def store(self, note: str) -> None:
        self._note = note


class FileWitnessState:
    """A :class:`WitnessState` in one file, replaced atomically (temp file + os.replace).

    Not locked against other processes: give each tracker its own file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> str | None:
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return None
        return data.decode("utf-8")

    def store(self, note: str) -> None:
        directory = self._path.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp_name = tempfile.mkstemp(
            dir=directory, prefix=f".{self._path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(note.encode("utf-8"))
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, self._path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        # Make the rename itself durable where the platform allows it.
        with contextlib.suppress(OSError):
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


class CheckpointTracker:
    """Follows one log's checkpoints and refuses rollbacks and forks.

    Construct with the log's ``verifier`` key, its ``origin`` line and a ``state``; a note
    already in ``state`` is verified again (it may have been edited at rest).
    Thread-safe within one process.
    """

    def __init__(self, *, verifier: Verifier, origin: str, state: WitnessState) -> None:
        self._verifier = verifier
        self._origin = origin
        self._state = state
        self._lock = threading.Lock()
        self._latest: Checkpoint | None = None
        self._latest_note: str | None = None
        stored = state.load()
        if stored is not None:
            self._latest = self._open(stored)
            self._latest_note = stored

    @property
    def latest(self) -> Checkpoint | None:
        """The latest accepted checkpoint, or None before the first one."""
        return self._latest

    @property
    def latest_note(self) -> str | None:
        """The signed note of :attr:`latest`, to show others (e.g. as fork evidence)."""
        return self._latest_note

    def _open(self, note: str) -> Checkpoint:
        checkpoint = open_checkpoint(note, self._verifier, origin=self._origin)
        if checkpoint.size == 0 and checkpoint.root_hash != EMPTY_ROOT:
            raise InconsistentLog("checkpoint of the empty tree with a non-empty root")
        return checkpoint

    def update(self, note: str, consistency_proof: Sequence[bytes] = ()) -> Checkpoint:
        """Accept ``note`` if it extends the latest checkpoint; return it.

        ``consistency_proof`` is PROOF(latest.size, D[new.size]) (RFC 9162 §2.1.4.1), empty
        when the sizes are equal or nothing was seen before.

        Raises:
            MalformedNote, UnverifiedNote: the note is not a checkpoint signed by the log
                for this origin.
            InconsistentLog: a rollback (smaller size), another root at the same size, or
                a consistency proof that does not verify (a fork).
        """
        checkpoint = self._open(note)
        with self._lock:
            previous = self._latest
            if previous is not None:
                if checkpoint.size < previous.size:
                    raise InconsistentLog(
                        f"rollback: checkpoint size {checkpoint.size} is smaller than "
                        f"the size {previous.size} seen before"
                    )
                try:
                    verify_consistency(
                        first=previous.size,
                        second=checkpoint.size,
                        proof=consistency_proof,
                        first_root=previous.root_hash,
                        second_root=checkpoint.root_hash,
                    )
                except ProofError as exc:
                    raise InconsistentLog(
                        f"fork: checkpoint at size {checkpoint.size} is not consistent with "
                        f"the one seen at size {previous.size} ({exc})"
                    ) from exc
                if checkpoint == previous:
                    return previous
            self._state.store(note)
            self._latest = checkpoint
            self._latest_note = note
            return checkpoint

    def verify_inclusion(self, entry: bytes, leaf_index: int, proof: Sequence[bytes]) -> Checkpoint:
        """Check that ``entry`` is leaf ``leaf_index`` of the log at the latest checkpoint.

        ``proof`` is PATH(leaf_index, D[latest.size]) (RFC 9162 §2.1.3.1). Returns the
        checkpoint the entry was proven against.

        Raises:
            RootMismatch: the proof leads to another root.
            ProofError: no checkpoint yet, or a malformed proof.
        """
        checkpoint = self._latest
        if checkpoint is None:
            raise ProofError("no checkpoint accepted yet: call update() first")
        verify_inclusion(
            leaf_index=leaf_index,
            tree_size=checkpoint.size,
            leaf_hash=hash_leaf(entry),
            proof=proof,
            root=checkpoint.root_hash,
        )
        return checkpoint


LogWitness = CheckpointTracker
"""Alias of :class:`CheckpointTracker` (the name in the first design notes)."""
