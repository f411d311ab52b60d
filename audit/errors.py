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


class AuditError(Exception):
    """Root of the audit package's errors. ``code`` is a short machine-readable name."""

    code = "audit_error"


class InvalidEntry(AuditError):
    code = "invalid_entry"


class InvalidRequest(AuditError):
    code = "invalid_request"


class ProofError(AuditError):
    code = "invalid_proof"


class RootMismatch(ProofError):
    """A proof computed to ``computed`` where ``expected`` was required, at ``size``."""

    code = "root_mismatch"

    def __init__(self, *, size: int, computed: bytes, expected: bytes) -> None:
        self.size = size
        self.computed = computed
        self.expected = expected
        super().__init__(
            f"root mismatch at tree size {size}: computed {computed.hex()}, "
            f"expected {expected.hex()}"
        )


class NoteError(AuditError):
    code = "invalid_note"


class MalformedNote(NoteError):
    code = "malformed_note"


class UnverifiedNote(NoteError):
    code = "unverified_note"


class InconsistentLog(AuditError):
    """A new checkpoint is not an extension of one seen before: a rollback or a fork."""

    code = "inconsistent_log"


class LogCorrupted(AuditError):
    """What is stored does not match what was signed: an edit, gap, insertion or reorder."""

    code = "log_corrupted"
