"""Jati's tamper-evident audit log (UU PDP Art. 31 and 32).

An append-only log of every access to personal data, organised as an RFC 9162 Merkle tree
with signed C2SP checkpoints, so that anyone holding an earlier checkpoint can detect an
edited, dropped or reordered entry. This package imports neither `consent` nor `identity`.

Holds the core (no web or database framework): :mod:`~audit.entry` (the canonical entry),
:mod:`~audit.merkle` (RFC 9162 tree hashing, compact ranges and proofs), :mod:`~audit.note`
and :mod:`~audit.checkpoint` (C2SP signed notes and checkpoints), :mod:`~audit.log` (the
service: append, sequence, checkpoint, prove), :mod:`~audit.witness`, :mod:`~audit.verify`,
:mod:`~audit.breach`, :mod:`~audit.records`, :mod:`~audit.pseudonym`, :mod:`~audit.ports`
(what other packages hand the log, exported here) and :mod:`~audit.errors`; and the adapters
:mod:`~audit.storage` (SQLAlchemy), :mod:`~audit.http` (FastAPI) and :mod:`~audit.cli`.
"""

from audit.ports import AuditAppender, Pseudonymizer

__all__ = ["AuditAppender", "Pseudonymizer"]
