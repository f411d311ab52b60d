"""Verification of RFC 9162 proofs (§2.1.3.2 inclusion, §2.1.4.2 consistency).

:func:`verify_inclusion` and :func:`verify_consistency` follow the algorithms of RFC 9162
§2.1.3.2 and §2.1.4.2 literally, after checking every hash length and the proof length, and
raise :class:`~audit.errors.ProofError` or its subclass :class:`~audit.errors.RootMismatch`.
Both algorithms walk the same pair of counters ``(fn, sn)`` up the tree; :func:`_walk` is
that walk, once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

from audit.errors import ProofError, RootMismatch
from audit.merkle.tree_hash import EMPTY_ROOT, HASH_SIZE, MAX_TREE_SIZE, NODE_PREFIX

__all__ = [
    "consistency_proof_length",
    "inclusion_proof_length",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

_sha256 = hashlib.sha256


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


def _walk(fn: int, sn: int, path: Sequence[bytes], proof: str) -> Iterator[tuple[bytes, bool]]:
    """The walk up the tree shared by RFC 9162 §2.1.3.2 (step 4) and §2.1.4.2 (step 6).

    Yields each hash of ``path`` with whether it is a left sibling (``fn`` odd or
    ``fn == sn``: steps 4b and 6b, which then shift away the levels where ``fn`` is a right
    edge), after the check of steps 4a and 6a that ``sn`` is not 0 yet; steps 4c and 6c move
    one level up. At the end, steps 5 and 7 require that ``sn`` has reached 0. ``proof``
    names the proof in the errors (``inclusion``, ``consistency``).
    """
    for node in path:
        if sn == 0:  # 4a / 6a
            raise ProofError(f"{proof} proof is too long")
        left = bool(fn & 1) or fn == sn  # 4b / 6b
        yield node, left
        if left and not fn & 1:
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        fn >>= 1  # 4c / 6c
        sn >>= 1
    # 5 / 7. sn must be 0.
    if sn != 0:
        raise ProofError(f"{proof} proof is too short")


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
    r = leaf_hash
    # 4. Walk up the path (4b: a left sibling is hashed before r, otherwise after it);
    # 5. sn must be 0 at the end.
    for p, left in _walk(leaf_index, tree_size - 1, proof, "inclusion"):
        r = _sha256(NODE_PREFIX + (p + r if left else r + p)).digest()
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

    RFC 9162 §2.1.3.2. ``leaf_hash`` is :func:`~audit.merkle.tree_hash.hash_leaf` of the
    entry, never the entry.

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
    proof and ``first_root`` equal to :data:`~audit.merkle.tree_hash.EMPTY_ROOT` (the empty
    tree is a prefix of every tree); otherwise ``0 < first < second`` and the proof must
    have exactly the length of PROOF(first, D[second]).

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
    # 6. Fold in the rest of the path (6b: a left sibling goes into both fr and sr, a right
    # one into sr alone); 7. sn must be 0 at the end.
    for c, left in _walk(fn, sn, path, "consistency"):
        if left:
            fr = _sha256(NODE_PREFIX + c + fr).digest()
            sr = _sha256(NODE_PREFIX + c + sr).digest()
        else:
            sr = _sha256(NODE_PREFIX + sr + c).digest()
    return fr, sr
