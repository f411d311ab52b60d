"""The audit package's exceptions.

Drawn as a tree (every class derives from :class:`AuditError`, which is never raised itself)::

    AuditError
    ├── InvalidEntry              an entry that cannot be encoded or decoded
    ├── InvalidRequest            a query or proof request out of range or malformed
    ├── ProofError                a Merkle proof that does not verify (RFC 9162 §2.1.3, §2.1.4)
    │   └── RootMismatch          the proof leads to another root than the expected one
    ├── NoteError                 a signed note or checkpoint that cannot be trusted
    │   ├── MalformedNote         bad syntax (C2SP signed-note / tlog-checkpoint)
    │   └── UnverifiedNote        no valid signature by a known key
    ├── InconsistentLog           a checkpoint that contradicts an earlier one (rollback or fork)
    └── LogCorrupted              stored entries or tree nodes that do not match the checkpoints
"""

from __future__ import annotations

from typing import Any


class AuditError(Exception):
    """Root of the audit package's errors. ``code`` is a short machine-readable name, which
    each subclass declares in its header (``class X(AuditError, code="x")``)."""

    code = "audit_error"

    def __init_subclass__(cls, *, code: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = code


class InvalidEntry(AuditError, code="invalid_entry"):
    """An entry that cannot be encoded or decoded."""


class InvalidRequest(AuditError, code="invalid_request"):
    """A query or proof request out of range or malformed."""


class ProofError(AuditError, code="invalid_proof"):
    """A Merkle proof that does not verify (RFC 9162 §2.1.3, §2.1.4)."""


class RootMismatch(ProofError, code="root_mismatch"):
    """A proof computed to ``computed`` where ``expected`` was required, at ``size``."""

    def __init__(self, *, size: int, computed: bytes, expected: bytes) -> None:
        self.size = size
        self.computed = computed
        self.expected = expected
        super().__init__(
            f"root mismatch at tree size {size}: computed {computed.hex()}, "
            f"expected {expected.hex()}"
        )


class NoteError(AuditError, code="invalid_note"):
    """A signed note or checkpoint that cannot be trusted."""


class MalformedNote(NoteError, code="malformed_note"):
    """Bad syntax (C2SP signed-note / tlog-checkpoint)."""


class UnverifiedNote(NoteError, code="unverified_note"):
    """No valid signature by a known key."""


class InconsistentLog(AuditError, code="inconsistent_log"):
    """A new checkpoint is not an extension of one seen before: a rollback or a fork."""


class LogCorrupted(AuditError, code="log_corrupted"):
    """What is stored does not match what was signed: an edit, gap, insertion or reorder."""
