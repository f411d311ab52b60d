"""Proof planning: which stored complete subtrees make up an RFC 9162 proof.

Storage keeps the hash of every complete subtree (:class:`~audit.merkle.tree_hash.NodeID`),
so an inclusion proof (RFC 9162 §2.1.3.1) or a consistency proof (§2.1.4.1) at any historical
tree size is O(log n) reads, planned by :func:`inclusion_nodes` and
:func:`consistency_nodes`. The only hash not stored, the "ephemeral" node on the right edge
of a tree whose size is not a power of two, is recomputed by :meth:`ProofPlan.rehash`
(modelled on transparency-dev/merkle ``proof.Nodes``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from audit.merkle.tree_hash import HASH_SIZE, NODE_PREFIX, NodeID, check_tree_size, frontier_ids

__all__ = ["ProofPlan", "consistency_nodes", "inclusion_nodes"]

_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True)
class ProofPlan:
    """The stored nodes to fetch for a proof, and how to fold them into the proof.

    ``ids`` lists complete subtrees; ``ids[ephemeral_begin:ephemeral_end]`` (possibly empty)
    are the pieces of the one proof node that is not a complete subtree, the "ephemeral"
    node ``ephemeral`` on the right edge of the tree, ordered from lower to upper levels.
    Modelled on transparency-dev/merkle ``proof.Nodes``.
    """

    ids: tuple[NodeID, ...]
    ephemeral_begin: int = 0
    ephemeral_end: int = 0
    ephemeral: NodeID | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.ephemeral_begin <= self.ephemeral_end <= len(self.ids):
            raise ValueError("ephemeral span out of range")

    def rehash(self, hashes: Sequence[bytes]) -> list[bytes]:
        """Turn the fetched hashes of :attr:`ids` (same order) into the RFC 9162 proof.

        Raises:
            ValueError: if the number of hashes differs from ``len(ids)`` or a hash is not
                32 bytes long.
        """
        if len(hashes) != len(self.ids):
            raise ValueError(f"got {len(hashes)} hashes for {len(self.ids)} nodes")
        for h in hashes:
            if len(h) != HASH_SIZE:
                raise ValueError(f"node hash must be {HASH_SIZE} bytes, got {len(h)}")
        begin, end = self.ephemeral_begin, self.ephemeral_end
        if end - begin <= 1:
            return list(hashes)
        # The pieces run from the lowest (rightmost) to the highest (leftmost) level.
        ephemeral = hashes[begin]
        for i in range(begin + 1, end):
            ephemeral = _sha256(NODE_PREFIX + hashes[i] + ephemeral).digest()
        proof = list(hashes[:begin])
        proof.append(ephemeral)
        proof.extend(hashes[end:])
        return proof


def _right_range_nodes(begin: int, end: int) -> list[NodeID]:
    """Complete subtrees covering ``[begin, end)``, from lower to upper levels.

    Only for ranges where ``begin`` is a multiple of a power of two above ``end - begin``
    (the remainder to the right of a complete node), so the decomposition follows the bits
    of ``end - begin``.
    """
    count = end - begin
    ids: list[NodeID] = []
    pos = begin
    level = count.bit_length() - 1
    while level >= 0:
        if (count >> level) & 1:
            ids.append(NodeID(level, pos >> level))
            pos += 1 << level
        level -= 1
    ids.reverse()
    return ids


def _plan(index: int, level: int, size: int) -> tuple[list[NodeID], int, int, NodeID]:
    """Nodes proving that node ``(level, index)`` is in the tree of ``size`` leaves.

    The first ID is the node itself. Port of transparency-dev/merkle ``proof.nodes``.
    """
    # The fork is where the path to (level, index) leaves the path to leaf `size`; its
    # sibling is the ephemeral node, made of the complete subtrees right of the fork.
    inner = (index ^ (size >> level)).bit_length() - 1
    fork_level = level + inner
    fork_index = index >> inner
    begin = fork_index << fork_level
    end = (fork_index + 1) << fork_level

    ids = [NodeID(level, index)]
    node_level, node_index = level, index
    while node_level < fork_level:
        ids.append(NodeID(node_level, node_index ^ 1))
        node_level += 1
        node_index >>= 1
    ephemeral_begin = len(ids)
    ids.extend(_right_range_nodes(end, size))
    ephemeral_end = len(ids)
    left = frontier_ids(begin)
    left.reverse()
    ids.extend(left)
    if ephemeral_begin >= ephemeral_end:
        ephemeral_begin = ephemeral_end = 0
    return ids, ephemeral_begin, ephemeral_end, NodeID(fork_level, fork_index ^ 1)


def _plan_skipping_first(ids: list[NodeID], begin: int, end: int, ephemeral: NodeID) -> ProofPlan:
    if begin < end:
        return ProofPlan(tuple(ids[1:]), begin - 1, end - 1, ephemeral)
    return ProofPlan(tuple(ids[1:]))


def inclusion_nodes(index: int, size: int) -> ProofPlan:
    """Plan the inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    Fetch the hashes of ``plan.ids`` and call ``plan.rehash`` to get PATH(index, D[size])
    of RFC 9162 §2.1.3.1. Requires ``0 <= index < size``.
    """
    check_tree_size("size", size, minimum=1)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} out of range for tree size {size}")
    ids, begin, end, ephemeral = _plan(index, 0, size)
    return _plan_skipping_first(ids, begin, end, ephemeral)


def consistency_nodes(size1: int, size2: int) -> ProofPlan:
    """Plan the consistency proof between the trees of ``size1`` and ``size2`` leaves.

    Fetch the hashes of ``plan.ids`` and call ``plan.rehash`` to get PROOF(size1, D[size2])
    of RFC 9162 §2.1.4.1 (empty when the sizes are equal). Requires
    ``0 < size1 <= size2``: there is no consistency proof from the empty tree.
    """
    check_tree_size("size2", size2, minimum=1)
    if not 0 < size1 <= size2:
        raise ValueError(f"consistency needs 0 < size1 <= size2, got {size1} and {size2}")
    if size1 == size2:
        return ProofPlan(())
    # The largest complete subtree ending at size1 is the seed; when size1 is a power of
    # two it is the old root itself, which the verifier already has, so it is skipped.
    level = (size1 & -size1).bit_length() - 1
    index = (size1 - 1) >> level
    ids, begin, end, ephemeral = _plan(index, level, size2)
    if size1 & (size1 - 1) == 0:
        return _plan_skipping_first(ids, begin, end, ephemeral)
    if begin < end:
        return ProofPlan(tuple(ids), begin, end, ephemeral)
    return ProofPlan(tuple(ids))
