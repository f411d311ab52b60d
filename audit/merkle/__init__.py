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

Modules, each importing only :mod:`audit.errors` and the ones above it:

- :mod:`audit.merkle.tree_hash`: the hashes, :class:`NodeID`, the frontier of a tree size
  (:func:`frontier_ids`, :func:`root_nodes`) and its root (:func:`root_from_frontier`);
- :mod:`audit.merkle.compact_range`: :class:`CompactRange`;
- :mod:`audit.merkle.proof_plans`: :class:`ProofPlan`, :func:`inclusion_nodes`,
  :func:`consistency_nodes`;
- :mod:`audit.merkle.proof_verification`: :func:`verify_inclusion`,
  :func:`verify_consistency` and the proof lengths.
"""
