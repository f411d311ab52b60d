"""RFC 9162 Merkle tree hashing, compact ranges, proof planning and proof verification.

The log is the Merkle Tree Hash of RFC 9162 §2.1.1 over SHA-256, with domain separation
between leaves (``0x00``) and interior nodes (``0x01``), so a leaf can never be passed off
as a node (second-preimage resistance).

Storage keeps the hash of every *complete* subtree, addressed by :class:`NodeID`
``(level, index)``: level 0 holds the leaf hashes, and node ``(level, index)`` covers the
leaves ``[index * 2**level, (index + 1) * 2**level)``. Any root, inclusion proof or
consistency proof at any historical tree size is then O(log n) reads, planned by
:func:`root_nodes`, :func:`inclusion_nodes` and :func:`consistency_nodes`; the only hash not
stored, the "ephemeral" node on the right edge of a tree whose size is not a power of two,
is recomputed by :meth:`ProofPlan.rehash` (modelled on transparency-dev/merkle
``proof.Nodes``).

:class:`CompactRange` holds the right frontier of the tree (transparency-dev/merkle
``compact.Range`` for ranges that start at 0) and tells the sequencer, per appended leaf,
which complete subtrees it has just finished, so it can store them.

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) follows the algorithms
of RFC 9162 §2.1.3.2 and §2.1.4.2 literally, after checking every hash length and the proof
length, and raises :class:`~audit.errors.ProofError` or its subclass
:class:`~audit.errors.RootMismatch`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audit.errors import ProofError, RootMismatch

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "CompactRange",
    "NodeID",
    "ProofPlan",
    "consistency_nodes",
    "consistency_proof_length",
    "frontier_ids",
    "hash_children",
    "hash_leaf",
    "inclusion_nodes",
    "inclusion_proof_length",
    "root_from_frontier",
    "root_from_inclusion_proof",
    "root_nodes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in every hash of the tree (SHA-256, the only hash algorithm this log accepts)."""

MAX_TREE_SIZE = 2**64 - 1
"""Largest tree size (and leaf count) accepted: tree sizes are uint64 in RFC 9162 §4.10."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""MTH({}) = SHA-256() -- the root of the empty tree (RFC 9162 §2.1.1)."""


def hash_leaf(entry: bytes) -> bytes:
    """Return the leaf hash MTH({d(0)}) = SHA-256(0x00 || entry) (RFC 9162 §2.1.1)."""
    return _sha256(_LEAF_PREFIX + entry).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Return the interior node hash SHA-256(0x01 || left || right) (RFC 9162 §2.1.1)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


# --------------------------------------------------------------------------------------
# Node addressing


@dataclass(frozen=True, slots=True, order=True)
class NodeID:
    """The complete subtree covering leaves ``[index * 2**level, (index + 1) * 2**level)``.

    Level 0 nodes are leaves. Not validated on construction (it sits on the sequencer's hot
    path); every function of this module only ever builds non-negative IDs.
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


def _check_tree_size(name: str, size: int, *, minimum: int = 0) -> None:
    if not minimum <= size <= MAX_TREE_SIZE:
        raise ValueError(f"{name} must be in [{minimum}, 2**64-1], got {size}")


def frontier_ids(size: int) -> list[NodeID]:
    """Decompose the leaves ``[0, size)`` into maximal complete subtrees, left to right.

    One node per set bit of ``size``, largest first: these are the nodes a
    :class:`CompactRange` of that size holds, and the only nodes needed to compute the root
    of the tree of that size.
    """
    _check_tree_size("size", size)
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
        root = _sha256(_NODE_PREFIX + hashes[i] + root).digest()
    return root


# --------------------------------------------------------------------------------------
# Compact range (the tree's right frontier)


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
        _check_tree_size("size", size)
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
            node_hash = _sha256(_NODE_PREFIX + hashes.pop() + node_hash).digest()
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
        for leaf_hash in batch:
            if len(leaf_hash) != HASH_SIZE:
                raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash)}")
        if self._size + len(batch) > MAX_TREE_SIZE:
            raise ValueError("the tree would exceed 2**64-1 leaves")
        hashes = self._hashes
        completed: list[tuple[NodeID, bytes]] = []
        add = completed.append
        pop = hashes.pop
        push = hashes.append
        sha256 = _sha256
        prefix = _NODE_PREFIX
        size = self._size
        for leaf_hash in batch:
            node_hash = leaf_hash
            index = size
            level = 0
            add((NodeID(0, index), node_hash))
            while index & 1:
                node_hash = sha256(prefix + pop() + node_hash).digest()
                index >>= 1
                level += 1
                add((NodeID(level, index), node_hash))
            push(node_hash)
            size += 1
        self._size = size
        return completed

    def extend_above(
        self, leaf_hashes: Sequence[bytes], min_level: int
    ) -> list[tuple[int, int, bytes]]:
        """Append many leaf hashes; return only the completed nodes at ``min_level`` or
        above, as plain ``(level, index, hash)`` tuples.

        The sequencer's hot path: storage keeps only those levels, so no object is made for
        the others. Same checks and all-or-nothing behaviour as :meth:`extend`.
        """
        for leaf_hash in leaf_hashes:
            if len(leaf_hash) != HASH_SIZE:
                raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash)}")
        if self._size + len(leaf_hashes) > MAX_TREE_SIZE:
            raise ValueError("the tree would exceed 2**64-1 leaves")
        hashes = self._hashes
        completed: list[tuple[int, int, bytes]] = []
        add = completed.append
        pop = hashes.pop
        push = hashes.append
        sha256 = _sha256
        prefix = _NODE_PREFIX
        size = self._size
        for leaf_hash in leaf_hashes:
            node = bytes(leaf_hash)
            index = size
            level = 0
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


# --------------------------------------------------------------------------------------
# Proof planning (which stored nodes make up a proof)


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
            ephemeral = _sha256(_NODE_PREFIX + hashes[i] + ephemeral).digest()
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
    _check_tree_size("size", size, minimum=1)
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
    _check_tree_size("size2", size2, minimum=1)
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


# --------------------------------------------------------------------------------------
# Verification (RFC 9162 §2.1.3.2 and §2.1.4.2)


def inclusion_proof_length(leaf_index: int, tree_size: int) -> int:
    """Number of hashes in PATH(leaf_index, D[tree_size]); requires 0 <= index < size."""
    inner = (leaf_index ^ (tree_size - 1)).bit_length()
    return inner + (leaf_index >> inner).bit_count()


def consistency_proof_length(first: int, second: int) -> int:
    """Number of hashes in PROOF(first, D[second]); requires 0 < first < second."""
    inner = ((first - 1) ^ (second - 1)).bit_length()
    border = ((first - 1) >> inner).bit_count()
    shift = (first & -first).bit_length() - 1
    seed = 0 if first == 1 << shift else 1
    return seed + inner - shift + border


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        if len(h) != HASH_SIZE:
            raise ProofError(f"proof hash {i} must be {HASH_SIZE} bytes, got {len(h)}")


def root_from_inclusion_proof(
    leaf_index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """Compute the root that ``proof`` leads to from ``leaf_hash`` at ``leaf_index``.

    RFC 9162 §2.1.3.2 steps 1-4, plus step 5's check that ``sn`` reaches 0; the caller
    compares the result with the trusted root (see :func:`verify_inclusion`).

    Raises:
        ProofError: index or size out of range, a hash that is not 32 bytes, or a proof of
            the wrong length.
    """
    # 1. leaf_index must be below tree_size.
    if not 0 <= tree_size <= MAX_TREE_SIZE:
        raise ProofError(f"tree size {tree_size} out of range")
    if not 0 <= leaf_index < tree_size:
        raise ProofError(f"leaf index {leaf_index} out of range for tree size {tree_size}")
    _check_hash("leaf hash", leaf_hash)
    _check_proof_hashes(proof)
    expected = inclusion_proof_length(leaf_index, tree_size)
    if len(proof) != expected:
        raise ProofError(
            f"inclusion proof for leaf {leaf_index} in tree size {tree_size} has "
            f"{len(proof)} hashes, expected {expected}"
        )
    # 2. fn = leaf_index, sn = tree_size - 1.  3. r = hash.
    fn = leaf_index
    sn = tree_size - 1
    r = leaf_hash
    # 4. Walk up the path.
    for p in proof:
        if sn == 0:  # 4a
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:  # 4b
            r = _sha256(_NODE_PREFIX + p + r).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(_NODE_PREFIX + r + p).digest()
        fn >>= 1  # 4c
        sn >>= 1
    # 5. sn must be 0.
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    *,
    leaf_index: int,
    tree_size: int,
    leaf_hash: bytes,
    proof: Sequence[bytes],
    root: bytes,
) -> None:
    """Check that ``proof`` proves ``leaf_hash`` at ``leaf_index`` in the tree ``root``.

    RFC 9162 §2.1.3.2. ``leaf_hash`` is :func:`hash_leaf` of the entry, never the entry.

    Raises:
        RootMismatch: the proof is well-formed but leads to another root.
        ProofError: anything else wrong (out of range index, bad lengths).
    """
    _check_hash("root", root)
    computed = root_from_inclusion_proof(leaf_index, tree_size, leaf_hash, proof)
    if computed != root:
        raise RootMismatch(size=tree_size, computed=computed, expected=root)


def verify_consistency(
    *,
    first: int,
    second: int,
    proof: Sequence[bytes],
    first_root: bytes,
    second_root: bytes,
) -> None:
    """Check that the tree ``second_root`` of size ``second`` extends ``first_root``.

    RFC 9162 §2.1.4.2, with the cases the algorithm leaves out made explicit:
    ``first == second`` needs an empty proof and equal roots; ``first == 0`` needs an empty
    proof and ``first_root`` equal to :data:`EMPTY_ROOT` (the empty tree is a prefix of
    every tree); otherwise ``0 < first < second`` and the proof must have exactly the
    length of PROOF(first, D[second]).

    Raises:
        RootMismatch: the proof is well-formed but does not lead to one of the roots
            (``size`` says which).
        ProofError: anything else wrong (sizes out of order, bad lengths, wrong proof
            length).
    """
    if not 0 <= second <= MAX_TREE_SIZE:
        raise ProofError(f"tree size {second} out of range")
    if not 0 <= first <= second:
        raise ProofError(f"consistency needs 0 <= first <= second, got {first} and {second}")
    _check_hash("first root", first_root)
    _check_hash("second root", second_root)
    _check_proof_hashes(proof)
    if first == second:
        if proof:
            raise ProofError("consistency proof between equal tree sizes must be empty")
        if first_root != second_root:
            raise RootMismatch(size=second, computed=first_root, expected=second_root)
        return
    if first == 0:
        if proof:
            raise ProofError("consistency proof from the empty tree must be empty")
        if first_root != EMPTY_ROOT:
            raise RootMismatch(size=0, computed=EMPTY_ROOT, expected=first_root)
        return
    # 1. An empty path fails.
    if not proof:
        raise ProofError("empty consistency proof between different tree sizes")
    expected = consistency_proof_length(first, second)
    if len(proof) != expected:
        raise ProofError(
            f"consistency proof from {first} to {second} has {len(proof)} hashes, "
            f"expected {expected}"
        )
    # 2. If first is an exact power of 2, the path starts with first_hash.
    if first & (first - 1) == 0:
        fr, sr = _fold_consistency_path(first, second, first_root, proof)
    else:
        fr, sr = _fold_consistency_path(first, second, proof[0], proof[1:])
    # 7. ... fr must be first_hash and sr second_hash.
    if fr != first_root:
        raise RootMismatch(size=first, computed=fr, expected=first_root)
    if sr != second_root:
        raise RootMismatch(size=second, computed=sr, expected=second_root)


def _fold_consistency_path(
    first: int, second: int, seed: bytes, path: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """RFC 9162 §2.1.4.2 steps 3-7 (up to the root comparisons): return (fr, sr)."""
    # 3. fn = first - 1, sn = second - 1.
    fn = first - 1
    sn = second - 1
    # 4. Shift away the levels below the largest complete subtree ending at first.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = first value of the path.
    fr = sr = seed
    # 6. Fold in the rest of the path.
    for c in path:
        if sn == 0:  # 6a
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:  # 6b
            fr = _sha256(_NODE_PREFIX + c + fr).digest()
            sr = _sha256(_NODE_PREFIX + c + sr).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(_NODE_PREFIX + sr + c).digest()
        fn >>= 1  # 6c
        sn >>= 1
    # 7. sn must be 0.
    if sn != 0:
        raise ProofError("consistency proof is too short")
    return fr, sr
