"""Reading the hashes of complete subtrees (RFC 9162 §2.1.1) from the audit tables.

``audit_node`` keeps the subtrees at level ``MIN_STORED_LEVEL`` and above; a lower one is
recomputed from the at most ``2**MIN_STORED_LEVEL`` leaf hashes under it in ``audit_leaf``.
Every root, inclusion proof and consistency proof is then O(log n) index probes
(:func:`read_subtree_hashes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Connection, Table, literal, select, union_all

from audit.errors import LogCorrupted
from audit.merkle.compact_range import CompactRange
from audit.merkle.tree_hash import NodeID
from audit.storage.tables import AuditLeaf, AuditNode

__all__ = ["MIN_STORED_LEVEL", "read_subtree_hashes"]

#: Subtrees below this level are not stored: their hashes are recomputed from at most
#: 2**MIN_STORED_LEVEL leaf hashes. It keeps the node table at ~n/16 rows for n leaves
#: while every proof still costs O(log n) reads.
MIN_STORED_LEVEL = 4

_leaf = cast(Table, AuditLeaf.__table__)
_node = cast(Table, AuditNode.__table__)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open ranges merged where they overlap or touch."""
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(ranges):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


def read_subtree_hashes(
    conn: Connection, ids: Sequence[NodeID], *, min_stored_level: int
) -> list[bytes]:
    """Hashes of complete subtrees, in the order of ``ids``.

    One query of primary-key lookups (UNION ALL), so that every piece is an index probe: a
    stored subtree by (level, index), a low subtree by its leaf-index range.

    Raises:
        LogCorrupted: a subtree or a leaf under a low subtree is missing.
    """
    if not ids:
        return []
    stored = [n for n in ids if n.level >= min_stored_level]
    low = [n for n in ids if n.level < min_stored_level]
    ranges = _merged([n.coverage() for n in low])
    parts = [
        select(_node.c.level, _node.c.node_index, _node.c.hash).where(
            _node.c.level == n.level, _node.c.node_index == n.index
        )
        for n in stored
    ] + [
        select(literal(0), _leaf.c.leaf_index, _leaf.c.leaf_hash).where(
            _leaf.c.leaf_index >= begin, _leaf.c.leaf_index < end
        )
        for begin, end in ranges
    ]
    query = parts[0] if len(parts) == 1 else union_all(*parts)
    found: dict[NodeID, bytes] = {}
    leaf_hashes: dict[int, bytes] = {}
    for level, index, node_hash in conn.execute(query):
        if level == 0:
            leaf_hashes[int(index)] = bytes(node_hash)
        else:
            found[NodeID(int(level), int(index))] = bytes(node_hash)
    for node in low:
        begin, end = node.coverage()
        hashes = [leaf_hashes.get(i) for i in range(begin, end)]
        if any(h is None for h in hashes):
            raise LogCorrupted(f"leaves {begin}..{end - 1} are missing from the log")
        subtree = CompactRange()
        subtree.extend(hashes)  # type: ignore[arg-type]
        found[node] = subtree.root()
    missing = [n for n in ids if n not in found]
    if missing:
        first = missing[0]
        raise LogCorrupted(f"subtree hash at level {first.level}, index {first.index} is missing")
    return [found[n] for n in ids]
