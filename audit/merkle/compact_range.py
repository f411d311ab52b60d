"""The right frontier of the log's Merkle tree, as the sequencer extends it (RFC 9162 §2.1.1).

:class:`CompactRange` holds the hashes of the maximal complete subtrees of the leaves appended
so far (transparency-dev/merkle ``compact.Range`` for ranges that start at 0) and tells the
sequencer, per appended leaf, which complete subtrees it has just finished, so it can store
them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from audit.merkle.tree_hash import (
    HASH_SIZE,
    MAX_TREE_SIZE,
    NODE_PREFIX,
    NodeID,
    check_tree_size,
    frontier_ids,
    root_from_frontier,
)

__all__ = ["CompactRange"]

_sha256 = hashlib.sha256


class CompactRange:
    """The right frontier of a log Merkle tree: the hashes of :func:`frontier_ids` (size).

    Modelled on transparency-dev/merkle ``compact.Range`` for ranges that start at leaf 0.
    :meth:`append` adds one leaf hash and returns every complete subtree it finishes, which
    the sequencer stores; :meth:`root` is the RFC 9162 tree head of everything appended.

    Not thread-safe: the log has exactly one sequencer, which owns its range.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Resume from a tree of ``size`` leaves whose frontier hashes are ``hashes``.

        Raises:
            ValueError: if ``size`` is out of range, the number of hashes is not the number
                of set bits of ``size``, or a hash is not 32 bytes long.
        """
        check_tree_size("size", size)
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a compact range of size {size} needs {size.bit_count()} hashes, got {len(hashes)}"
            )
        for h in hashes:
            if len(h) != HASH_SIZE:
                raise ValueError(f"frontier hash must be {HASH_SIZE} bytes, got {len(h)}")
        self._size = size
        self._hashes = [bytes(h) for h in hashes]

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The frontier hashes, left to right, matching :func:`frontier_ids` (size)."""
        return tuple(self._hashes)

    def ids(self) -> list[NodeID]:
        """The node IDs of :attr:`hashes`."""
        return frontier_ids(self._size)

    def append(self, leaf_hash: bytes) -> list[tuple[NodeID, bytes]]:
        """Append one leaf hash; return the complete subtrees it finishes, bottom-up.

        The first item is always the leaf itself at level 0; then one parent per level for
        as long as the new node has a complete left sibling on the frontier.

        Raises:
            ValueError: if ``leaf_hash`` is not 32 bytes or the tree is full.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash)}")
        size = self._size
        if size >= MAX_TREE_SIZE:
            raise ValueError("the tree is full (2**64-1 leaves)")
        hashes = self._hashes
        node_hash = bytes(leaf_hash)
        index = size
        level = 0
        completed = [(NodeID(0, index), node_hash)]
        while index & 1:
            node_hash = _sha256(NODE_PREFIX + hashes.pop() + node_hash).digest()
            index >>= 1
            level += 1
            completed.append((NodeID(level, index), node_hash))
        hashes.append(node_hash)
        self._size = size + 1
        return completed

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[tuple[NodeID, bytes]]:
        """Append many leaf hashes; return all completed nodes, in order of completion.

        Equivalent to concatenating :meth:`append` results, with less overhead per leaf.
        All-or-nothing: every hash is checked before the first one is appended.

        Raises:
            ValueError: if a hash is not 32 bytes or the tree would exceed 2**64-1 leaves.
        """
        batch = [bytes(h) for h in leaf_hashes]
        completed = self._extend(batch, 0, leaves=True)
        return [(NodeID(level, index), node) for level, index, node in completed]

    def extend_above(
        self, leaf_hashes: Sequence[bytes], min_level: int
    ) -> list[tuple[int, int, bytes]]:
        """Append many leaf hashes; return only the completed nodes at ``min_level`` or
        above, as plain ``(level, index, hash)`` tuples.

        The sequencer's hot path: storage keeps only those levels, so no object is made for
        the others. Same checks and all-or-nothing behaviour as :meth:`extend`.
        """
        return self._extend(leaf_hashes, min_level, leaves=False)

    def _extend(
        self, batch: Sequence[bytes], min_level: int, *, leaves: bool
    ) -> list[tuple[int, int, bytes]]:
        """Append ``batch`` (every hash checked first); return, in order of completion, the
        subtrees it completes at ``min_level`` or above, and with ``leaves`` each leaf (level
        0) as it is appended, as ``(level, index, hash)``."""
        for leaf_hash in batch:
            if len(leaf_hash) != HASH_SIZE:
                raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash)}")
        if self._size + len(batch) > MAX_TREE_SIZE:
            raise ValueError("the tree would exceed 2**64-1 leaves")
        # Locals for the loop: it runs once per leaf on the sequencer's hot path.
        hashes = self._hashes
        completed: list[tuple[int, int, bytes]] = []
        add = completed.append
        pop = hashes.pop
        push = hashes.append
        sha256 = _sha256
        prefix = NODE_PREFIX
        size = self._size
        for leaf_hash in batch:
            node = bytes(leaf_hash)
            index = size
            level = 0
            if leaves:
                add((0, index, node))
            while index & 1:
                node = sha256(prefix + pop() + node).digest()
                index >>= 1
                level += 1
                if level >= min_level:
                    add((level, index, node))
            push(node)
            size += 1
        self._size = size
        return completed

    def root(self) -> bytes:
        """The Merkle Tree Hash of the leaves appended so far (RFC 9162 §2.1.1)."""
        return root_from_frontier(self._hashes)

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"
