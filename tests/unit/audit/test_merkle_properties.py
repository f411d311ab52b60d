"""Property tests of audit.merkle against a plain transcription of RFC 9162 §2.1.

The reference below is MTH (§2.1.1), PATH (§2.1.3.1) and PROOF/SUBPROOF (§2.1.4.1) written
as the RFC states them, recursively over lists of leaf hashes. The module under test must
agree with it: compact-range roots and completed nodes, ProofPlan proofs built from a naive
store of complete subtrees, and verification (which must also refuse a mutated proof).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.errors import ProofError
from audit.merkle.compact_range import CompactRange
from audit.merkle.proof_plans import consistency_nodes, inclusion_nodes
from audit.merkle.proof_verification import verify_consistency, verify_inclusion
from audit.merkle.tree_hash import NodeID, frontier_ids, hash_leaf, root_from_frontier, root_nodes

MAX_SIZE = 300
EXHAUSTIVE_SIZE = 64

# --------------------------------------------------------------------------------------
# RFC 9162 §2.1, verbatim


def _hash(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes (the leaf hashing of §2.1.1 is already applied)."""
    n = len(d)
    if n == 0:
        return _hash(b"")
    if n == 1:
        return d[0]
    k = _k(n)
    return _hash(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of §2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of §2.1.4.1."""
    return subproof(m, d, True)


def subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


# --------------------------------------------------------------------------------------
# One tree of MAX_SIZE distinct leaves, built once


ENTRIES = [b"entry %d" % i for i in range(MAX_SIZE)]
LEAF_HASHES = [hash_leaf(e) for e in ENTRIES]


@cache
def reference_root(size: int) -> bytes:
    return mth(LEAF_HASHES[:size])


def _build() -> tuple[dict[NodeID, bytes], list[bytes], list[tuple[bytes, ...]]]:
    store: dict[NodeID, bytes] = {}
    roots = []
    frontiers = []
    compact = CompactRange()
    roots.append(compact.root())
    frontiers.append(compact.hashes)
    for leaf_hash in LEAF_HASHES:
        for node, node_hash in compact.append(leaf_hash):
            assert node not in store
            store[node] = node_hash
        roots.append(compact.root())
        frontiers.append(compact.hashes)
    return store, roots, frontiers


STORE, COMPACT_ROOTS, FRONTIERS = _build()


def fetch(ids: Sequence[NodeID]) -> list[bytes]:
    return [STORE[node] for node in ids]


def planned_inclusion(index: int, size: int) -> list[bytes]:
    plan = inclusion_nodes(index, size)
    return plan.rehash(fetch(plan.ids))


def planned_consistency(size1: int, size2: int) -> list[bytes]:
    plan = consistency_nodes(size1, size2)
    return plan.rehash(fetch(plan.ids))


def _mutate(hashes: list[bytes], position: int, bit: int) -> list[bytes]:
    if not hashes:
        return [bytes(32)]
    i = position % len(hashes)
    mutated = list(hashes)
    mutated[i] = (
        mutated[i][: bit // 8]
        + bytes([mutated[i][bit // 8] ^ (1 << bit % 8)])
        + (mutated[i][bit // 8 + 1 :])
    )
    return mutated


# --------------------------------------------------------------------------------------
# Compact range


@settings(max_examples=100, deadline=None)
@given(st.integers(0, MAX_SIZE))
def test_compact_range_root_is_mth(size: int) -> None:
    assert COMPACT_ROOTS[size] == reference_root(size)
    assert root_from_frontier(fetch(root_nodes(size))) == reference_root(size)
    assert tuple(fetch(frontier_ids(size))) == FRONTIERS[size]


def test_every_completed_node_is_the_mth_of_its_leaves() -> None:
    for node, node_hash in STORE.items():
        begin, end = node.coverage()
        assert end <= MAX_SIZE
        assert node_hash == mth(LEAF_HASHES[begin:end])
    # ...and every complete subtree of the final tree was emitted exactly once.
    expected = sum(MAX_SIZE >> level for level in range(MAX_SIZE.bit_length()))
    assert len(STORE) == expected


@settings(max_examples=100, deadline=None)
@given(st.integers(0, MAX_SIZE), st.integers(0, MAX_SIZE))
def test_compact_range_resumes_from_its_frontier(a: int, b: int) -> None:
    start, stop = min(a, b), max(a, b)
    resumed = CompactRange(start, FRONTIERS[start])
    emitted = resumed.extend(LEAF_HASHES[start:stop])
    assert resumed.size == stop
    assert resumed.root() == reference_root(stop)
    assert resumed.hashes == FRONTIERS[stop]
    for node, node_hash in emitted:
        assert STORE[node] == node_hash
    one_by_one = CompactRange(start, FRONTIERS[start])
    assert [n for h in LEAF_HASHES[start:stop] for n in one_by_one.append(h)] == emitted


def test_compact_range_rejects_bad_state() -> None:
    with pytest.raises(ValueError):
        CompactRange(3, FRONTIERS[2])
    with pytest.raises(ValueError):
        CompactRange(-1, ())
    with pytest.raises(ValueError):
        CompactRange(1, (b"short",))
    with pytest.raises(ValueError):
        CompactRange().append(b"short")
    compact = CompactRange()
    with pytest.raises(ValueError):
        compact.extend([LEAF_HASHES[0], b"short"])
    assert compact.size == 0  # all or nothing
    assert compact.root() == reference_root(0)


# --------------------------------------------------------------------------------------
# Inclusion


def check_inclusion(index: int, size: int, position: int = 0, bit: int = 0) -> None:
    expected = path(index, LEAF_HASHES[:size])
    planned = planned_inclusion(index, size)
    assert planned == expected
    assert len(inclusion_nodes(index, size).ids) <= 2 * size.bit_length()
    verify_inclusion(
        leaf_index=index,
        tree_size=size,
        leaf_hash=LEAF_HASHES[index],
        proof=planned,
        root=reference_root(size),
    )
    with pytest.raises(ProofError):
        verify_inclusion(
            leaf_index=index,
            tree_size=size,
            leaf_hash=LEAF_HASHES[index],
            proof=_mutate(planned, position, bit),
            root=reference_root(size),
        )


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_inclusion_matches_reference(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, MAX_SIZE), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    position = data.draw(st.integers(0, 64), label="position")
    bit = data.draw(st.integers(0, 255), label="bit")
    check_inclusion(index, size, position, bit)


@pytest.mark.parametrize("size", range(1, EXHAUSTIVE_SIZE + 1))
def test_inclusion_exhaustive(size: int) -> None:
    for index in range(size):
        check_inclusion(index, size, position=index, bit=index % 256)


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (6, 5), (0, 0), (0, 2**64)])
def test_inclusion_nodes_validates(index: int, size: int) -> None:
    with pytest.raises(ValueError):
        inclusion_nodes(index, size)


# --------------------------------------------------------------------------------------
# Consistency


def check_consistency(size1: int, size2: int, position: int = 0, bit: int = 0) -> None:
    expected = proof(size1, LEAF_HASHES[:size2])
    planned = planned_consistency(size1, size2)
    assert planned == expected
    assert len(consistency_nodes(size1, size2).ids) <= 3 * size2.bit_length()
    verify_consistency(
        first=size1,
        second=size2,
        proof=planned,
        first_root=reference_root(size1),
        second_root=reference_root(size2),
    )
    with pytest.raises(ProofError):
        verify_consistency(
            first=size1,
            second=size2,
            proof=_mutate(planned, position, bit),
            first_root=reference_root(size1),
            second_root=reference_root(size2),
        )
    if size1 < size2:
        with pytest.raises(ProofError):
            verify_consistency(
                first=size1,
                second=size2,
                proof=planned,
                first_root=reference_root(size1 - 1),
                second_root=reference_root(size2),
            )


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_consistency_matches_reference(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(1, MAX_SIZE), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    position = data.draw(st.integers(0, 64), label="position")
    bit = data.draw(st.integers(0, 255), label="bit")
    check_consistency(size1, size2, position, bit)


@pytest.mark.parametrize("size2", range(1, EXHAUSTIVE_SIZE + 1))
def test_consistency_exhaustive(size2: int) -> None:
    for size1 in range(1, size2 + 1):
        check_consistency(size1, size2, position=size1, bit=(size1 * 7) % 256)


def test_consistency_from_empty_tree() -> None:
    for size in range(MAX_SIZE + 1):
        verify_consistency(
            first=0,
            second=size,
            proof=[],
            first_root=reference_root(0),
            second_root=reference_root(size),
        )


@pytest.mark.parametrize(("size1", "size2"), [(0, 5), (-1, 5), (6, 5), (1, 0), (1, 2**64)])
def test_consistency_nodes_validates(size1: int, size2: int) -> None:
    with pytest.raises(ValueError):
        consistency_nodes(size1, size2)


def test_large_tree_plans_stay_logarithmic() -> None:
    size = 2**63 + 12345
    for index in (0, 1, size // 3, size - 2, size - 1):
        assert len(inclusion_nodes(index, size).ids) <= 2 * 64
    for size1 in (1, 2**40, size // 2 + 1, size - 1, size):
        assert len(consistency_nodes(size1, size).ids) <= 3 * 64
