"""Recompute the whole log and check it against every signed checkpoint.

This is what ``jati audit verify`` runs (UU PDP Art. 31: the record must be trustworthy even
against an administrator of the database). The checks, in order:

1. every stored checkpoint carries a valid signature by the log's key, for the log's
   origin, and its row (size, root) matches the signed note;
2. leaves are read in index order; each index must follow the previous one (a gap or a
   repeated index is reported), and each entry must hash to its stored leaf hash (an edit
   that did not also rewrite the hash is pinned to its leaf);
3. the tree is rebuilt from the entries (RFC 9162 §2.1.1) and its root compared with each
   checkpoint at the checkpoint's size: a mismatch means an entry at or below that size was
   edited, removed, inserted or reordered, whatever else the attacker rewrote;
4. every stored subtree hash is compared with the recomputed one as the rebuild completes
   it, which localises a change to the ``2**MIN_STORED_LEVEL`` leaves under that subtree;
5. the tree state (size, root) must equal the rebuilt tree; leaves beyond it are reported
   as inserted, a shorter log as truncated.

Checkpoints held outside the database (the service's witness file, or a note an auditor
kept) are checked like the stored ones, so wiping the stored checkpoints hides nothing from
whoever kept one. Everything is streamed: memory stays constant however long the log. The
hot loop hashes inline (no per-leaf objects) to keep up with logs of millions of entries.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from audit.checkpoint import open_checkpoint
from audit.errors import NoteError
from audit.merkle.tree_hash import root_from_frontier
from audit.note import NoteVerifier
from audit.records import StoredCheckpoint, TreeState

Progress = Callable[[int], None]
LeafRow = tuple[int, bytes, bytes]  # (leaf_index, entry, stored leaf hash)
NodeRow = tuple[int, int, bytes]  # (level, index, stored hash)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found. ``kind`` is a short code; ``message`` says exactly what and where."""

    kind: str
    message: str
    leaf_index: int | None = None


@dataclass(slots=True)
class VerifyReport:
    tree_size: int = 0
    leaves_checked: int = 0
    checkpoints_checked: int = 0
    nodes_checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, kind: str, message: str, leaf_index: int | None = None) -> None:
        self.findings.append(Finding(kind, message, leaf_index))


def verify_log(
    *,
    verifier: NoteVerifier,
    origin: str,
    state: TreeState | None,
    checkpoints: Iterable[StoredCheckpoint],
    leaf_batches: Iterable[Sequence[LeafRow]],
    nodes: Iterable[NodeRow],
    min_stored_level: int,
    external_checkpoints: Sequence[str] = (),
    column_mismatches: Iterable[tuple[int, str]] = (),
    progress: Progress | None = None,
    max_findings: int = 1000,
) -> VerifyReport:
    """Run the checks of the module docstring and return every finding (at most
    ``max_findings`` of the per-leaf kind, so a wholesale rewrite still ends quickly).

    ``checkpoints`` come by increasing size and ``nodes`` in completion order (by the last
    leaf they cover, then by level), as :class:`audit.storage.verification.LogSnapshot` gives them.
    """
    report = VerifyReport()
    signed = heapq.merge(
        _stored_checkpoints(report, checkpoints, verifier, origin),
        _external_checkpoints(report, external_checkpoints, verifier, origin),
    )
    rebuilt = _rebuild(
        report,
        leaf_batches,
        signed,
        iter(nodes),
        min_level=min_stored_level,
        progress=progress,
        max_findings=max_findings,
    )
    for leaf_index, column in column_mismatches:
        report.add(
            "columns",
            f"leaf {leaf_index}: the query column {column!r} differs from the entry "
            "(queries would show the wrong record)",
            leaf_index,
        )
    _check_state(report, state, rebuilt, origin)
    return report


@dataclass(slots=True)
class _Rebuilt:
    size: int
    frontier: list[bytes]


Signed = tuple[int, bytes, str]  # (size, root, where it came from)


def _stored_checkpoints(
    report: VerifyReport,
    checkpoints: Iterable[StoredCheckpoint],
    verifier: NoteVerifier,
    origin: str,
) -> Iterator[Signed]:
    """Step 1: the signed (size, root) of every stored checkpoint whose signature holds."""
    for stored in checkpoints:
        try:
            checkpoint = open_checkpoint(stored.note, verifier, origin=origin)
        except NoteError as exc:
            report.add("checkpoint_signature", f"checkpoint at size {stored.tree_size}: {exc}")
            continue
        report.checkpoints_checked += 1
        if checkpoint.size != stored.tree_size or checkpoint.root_hash != stored.root_hash:
            report.add(
                "checkpoint_row",
                f"checkpoint row at size {stored.tree_size} differs from its signed note "
                f"(size {checkpoint.size})",
            )
        yield checkpoint.size, checkpoint.root_hash, "checkpoint"


def _external_checkpoints(
    report: VerifyReport, notes: Sequence[str], verifier: NoteVerifier, origin: str
) -> Iterator[Signed]:
    opened: list[Signed] = []
    for note in notes:
        try:
            checkpoint = open_checkpoint(note, verifier, origin=origin)
        except NoteError as exc:
            report.add("checkpoint_signature", f"a checkpoint held outside the database: {exc}")
            continue
        report.checkpoints_checked += 1
        opened.append(
            (checkpoint.size, checkpoint.root_hash, "checkpoint held outside the database")
        )
    yield from sorted(opened)


def _rebuild(
    report: VerifyReport,
    leaf_batches: Iterable[Sequence[LeafRow]],
    signed: Iterator[Signed],
    stored_nodes: Iterator[NodeRow],
    *,
    min_level: int,
    progress: Progress | None,
    max_findings: int,
) -> _Rebuilt:
    """Steps 2-4: check indices and leaf hashes, rebuild the tree, compare checkpoints and
    stored subtree hashes as they complete."""
    sha256 = hashlib.sha256
    leaf_prefix = b"\x00"
    node_prefix = b"\x01"
    stack: list[bytes] = []
    size = 0
    expected = 0
    budget = max_findings
    nodes = _NodeMerge(report, stored_nodes)
    next_cp = next(signed, None)
    while next_cp is not None and next_cp[0] == 0:
        _compare_root(report, next_cp, stack)
        next_cp = next(signed, None)
    next_size = next_cp[0] if next_cp is not None else -1
    for batch in leaf_batches:
        for leaf_index, entry, stored_hash in batch:
            if leaf_index != expected and budget > 0:
                budget -= 1
                _report_index(report, leaf_index, expected)
            expected = leaf_index + 1
            leaf_hash = sha256(leaf_prefix + entry).digest()
            if leaf_hash != stored_hash and budget > 0:
                budget -= 1
                report.add(
                    "edited",
                    f"leaf {leaf_index}: the entry does not match its stored leaf hash (edited)",
                    leaf_index,
                )
            # Append to the compact range (RFC 9162 §2.1.1), checking stored-level nodes.
            index = size
            level = 0
            node = leaf_hash
            while index & 1:
                node = sha256(node_prefix + stack.pop() + node).digest()
                index >>= 1
                level += 1
                if level >= min_level:
                    nodes.check(level, index, node)
            stack.append(node)
            size += 1
            while size == next_size and next_cp is not None:
                _compare_root(report, next_cp, stack)
                next_cp = next(signed, None)
                next_size = next_cp[0] if next_cp is not None else -1
        report.leaves_checked = size
        if progress is not None:
            progress(size)
    while next_cp is not None:
        report.add(
            "truncated",
            f"{next_cp[2]} at size {next_cp[0]} covers leaves {size}..{next_cp[0] - 1}, "
            "which are missing",
        )
        next_cp = next(signed, None)
    nodes.finish(size)
    report.tree_size = size
    return _Rebuilt(size, stack)


class _NodeMerge:
    """Step 4: stored subtree hashes against the rebuilt ones, as both streams advance in
    completion order (the key ``((index + 1) << level, level)``)."""

    __slots__ = ("missing", "pending", "report", "stored")

    def __init__(self, report: VerifyReport, stored: Iterator[NodeRow]) -> None:
        self.report = report
        self.stored = stored
        self.pending = next(stored, None)
        self.missing = 0

    def check(self, level: int, index: int, computed: bytes) -> None:
        key = ((index + 1) << level, level)
        pending = self.pending
        while pending is not None and ((pending[1] + 1) << pending[0], pending[0]) < key:
            self._unexpected(pending)
            pending = self.pending = next(self.stored, None)
        if pending is not None and pending[0] == level and pending[1] == index:
            self.report.nodes_checked += 1
            if pending[2] != computed:
                first, last = index << level, ((index + 1) << level) - 1
                self.report.add(
                    "subtree",
                    f"leaves {first}..{last} do not match their stored subtree hash "
                    f"(level {level}): an entry there was edited, replaced or reordered",
                    first,
                )
            self.pending = next(self.stored, None)
        else:
            self.missing += 1

    def _unexpected(self, row: NodeRow) -> None:
        self.report.nodes_checked += 1
        self.report.add(
            "inserted",
            f"subtree row at level {row[0]}, index {row[1]} is not part of the rebuilt tree "
            "(inserted)",
        )

    def finish(self, size: int) -> None:
        while self.pending is not None:
            self._unexpected(self.pending)
            self.pending = next(self.stored, None)
        if self.missing:
            self.report.add(
                "subtree_missing",
                f"{self.missing} subtree hashes are missing from storage "
                "(proofs that need them will fail)",
            )


def _report_index(report: VerifyReport, leaf_index: int, expected: int) -> None:
    if leaf_index > expected:
        what = (
            f"leaves {expected}..{leaf_index - 1} are missing (deleted)"
            if leaf_index - 1 > expected
            else f"leaf {expected} is missing (deleted)"
        )
        report.add("gap", what, expected)
    else:
        report.add("order", f"leaf {leaf_index} appears after leaf {expected - 1}", leaf_index)


def _check_state(
    report: VerifyReport, state: TreeState | None, rebuilt: _Rebuilt, origin: str
) -> None:
    """Step 5: the tree state against the rebuilt tree."""
    if state is None:
        if rebuilt.size:
            report.add("state", "leaves are stored but the tree state is missing")
        return
    if state.origin != origin:
        report.add("state", f"the tree state names origin {state.origin!r}, not {origin!r}")
    if state.tree_size < rebuilt.size:
        report.add(
            "inserted",
            f"{rebuilt.size - state.tree_size} leaves beyond the tree size {state.tree_size} "
            "(inserted)",
            state.tree_size,
        )
    elif state.tree_size > rebuilt.size:
        report.add(
            "truncated",
            f"the tree state says {state.tree_size} leaves, {rebuilt.size} are stored (deleted)",
            rebuilt.size,
        )
    elif state.root_hash != root_from_frontier(rebuilt.frontier):
        report.add("state", "the tree state's root differs from the rebuilt tree")


def _compare_root(report: VerifyReport, signed: Signed, stack: list[bytes]) -> None:
    size, signed_root, where = signed
    root = root_from_frontier(stack)
    if root != signed_root:
        report.add(
            "checkpoint_root",
            f"{where} at size {size}: the rebuilt root {root.hex()[:16]}… differs from the "
            f"signed root {signed_root.hex()[:16]}…: an entry below {size} was edited, removed, "
            "inserted or reordered",
        )
