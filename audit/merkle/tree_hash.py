"""The Merkle Tree Hash of RFC 9162 §2.1.1 over SHA-256, and the addressing of its nodes.

Leaves and interior nodes are hashed with different prefixes (``0x00`` and ``0x01``), so a
leaf can never be passed off as a node (second-preimage resistance). A complete subtree is a
:class:`NodeID` ``(level, index)``; the leaves ``[0, size)`` decompose into the maximal
complete subtrees of :func:`frontier_ids`, whose hashes fold into the root
(:func:`root_from_frontier`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "MAX_TREE_SIZE",
    "NODE_PREFIX",
    "NodeID",
    "check_tree_size",
    "frontier_ids",
    "hash_children",
    "hash_leaf",
    "root_from_frontier",
    "root_nodes",
]

HASH_SIZE = 32
"""Bytes in every hash of the tree (SHA-256, the only hash algorithm this log accepts)."""

MAX_TREE_SIZE = 2**64 - 1
"""Largest tree size (and leaf count) accepted: tree sizes are uint64 in RFC 9162 §4.10."""

LEAF_PREFIX = b"\x00"
"""Prefixed to an entry before hashing it as a leaf (RFC 9162 §2.1.1)."""

NODE_PREFIX = b"\x01"
"""Prefixed to two child hashes before hashing them as an interior node (RFC 9162 §2.1.1)."""

_sha256 = hashlib.sha256

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""MTH({}) = SHA-256() -- the root of the empty tree (RFC 9162 §2.1.1)."""


def hash_leaf(entry: bytes) -> bytes:
    """Return the leaf hash MTH({d(0)}) = SHA-256(0x00 || entry) (RFC 9162 §2.1.1)."""
    return _sha256(LEAF_PREFIX + entry).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Return the interior node hash SHA-256(0x01 || left || right) (RFC 9162 §2.1.1)."""
    return _sha256(NODE_PREFIX + left + right).digest()


# --------------------------------------------------------------------------------------
# Node addressing


@dataclass(frozen=True, slots=True, order=True)
class NodeID:
    """The complete subtree covering leaves ``[index * 2**level, (index + 1) * 2**level)``.

    Level 0 nodes are leaves. Not validated on construction (it sits on the sequencer's hot
    path); every function of this package only ever builds non-negative IDs.
    """

    level: int
    index: int

    def parent(self) -> NodeID:
        """The node one level up that has this node as a child."""
        return NodeID(self.level + 1, self.index >> 1)

    def sibling(self) -> NodeID:
        """The other child of this node's parent."""
        return NodeID(self.level, self.index ^ 1)

    def coverage(self) -> tuple[int, int]:
        """The half-open range ``[begin, end)`` of leaf indices under this node."""
        return self.index << self.level, (self.index + 1) << self.level


def check_tree_size(name: str, size: int, *, minimum: int = 0) -> None:
    """Raise ValueError unless ``minimum <= size <= 2**64-1`` (``name`` says which size)."""
    if not minimum <= size <= MAX_TREE_SIZE:
        raise ValueError(f"{name} must be in [{minimum}, 2**64-1], got {size}")


def frontier_ids(size: int) -> list[NodeID]:
    """Decompose the leaves ``[0, size)`` into maximal complete subtrees, left to right.

    One node per set bit of ``size``, largest first: these are the nodes a
    :class:`~audit.merkle.compact_range.CompactRange` of that size holds, and the only nodes
    needed to compute the root of the tree of that size.
    """
    check_tree_size("size", size)
    ids: list[NodeID] = []
    level = size.bit_length() - 1
    while level >= 0:
        if (size >> level) & 1:
            ids.append(NodeID(level, (size >> level) - 1))
        level -= 1
    return ids


def root_nodes(size: int) -> list[NodeID]:
    """The stored nodes from which the root of the tree of ``size`` leaves is computed.

    Same as :func:`frontier_ids`; fold their hashes with :func:`root_from_frontier`.
    """
    return frontier_ids(size)


def root_from_frontier(hashes: Sequence[bytes]) -> bytes:
    """Fold the hashes of :func:`frontier_ids` (left to right) into MTH (RFC 9162 §2.1.1).

    The empty sequence gives :data:`EMPTY_ROOT`.
    """
    if not hashes:
        return EMPTY_ROOT
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ValueError(f"frontier hash must be {HASH_SIZE} bytes, got {len(h)}")
    root = hashes[-1]
    for i in range(len(hashes) - 2, -1, -1):
        root = _sha256(NODE_PREFIX + hashes[i] + root).digest()
    return root
