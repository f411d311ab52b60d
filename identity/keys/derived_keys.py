"""Keys derived from the master key with HKDF-SHA-256 (RFC 5869), one label per purpose.

Derivation gives every worker and every host the same keys without storing them: the
audit log's checkpoint signing key, the audit subject-pseudonym key and the pairwise
subject key of relying apps. Each label is
versioned, so a key can be replaced by changing its label without touching the others.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

AUDIT_CHECKPOINT_KEY = b"jati/audit/checkpoint-signing-key/v1"
AUDIT_PSEUDONYM_KEY = b"jati/audit/subject-pseudonym-key/v1"
PAIRWISE_SUBJECT_KEY = b"jati/identity/pairwise-subject-key/v1"
SELF_SUBJECT_KEY = b"jati/identity/self-subject-key/v1"  # 64 bytes: AES-256-SIV


def derive_key(master_key: bytes, label: bytes, length: int = 32) -> bytes:
    """The key for ``label`` (RFC 5869 HKDF, SHA-256, no salt: the master key is uniform)."""
    if len(master_key) < 32:
        raise ValueError("the master key must be at least 32 bytes")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label).derive(master_key)
