"""Jati's tamper-evident audit log (UU PDP Art. 31 and 32).

An append-only log of every access to personal data, organised as an RFC 9162 Merkle tree
with signed C2SP checkpoints, so that anyone holding an earlier checkpoint can detect an
edited, dropped or reordered entry. This package imports neither `consent` nor `identity`.
"""

from audit.ports import AuditAppender, Pseudonymizer

__all__ = ["AuditAppender", "Pseudonymizer"]
