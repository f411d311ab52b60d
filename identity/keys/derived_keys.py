"""Keys derived from the master key with HKDF-SHA-256 (RFC 5869), one label per purpose.

Derivation gives every worker and every host the same keys without storing them. Every label
is in the table below, so that no two purposes share a key and a reviewer sees every key the
master key stands behind in one place. Each label is versioned, so a key can be replaced by
changing its label without touching the others (the stored data a key protects must be
re-sealed first: the data keys, the signing keys and the TOTP secrets are; the rest are
short-lived or recomputable).

:class:`DerivedKeyHolder` is the base of the objects that hold one such key, named by their
class's ``LABEL``, and never show it in their ``repr``.
"""

from __future__ import annotations

from typing import ClassVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# The audit log: the checkpoint signing key (Ed25519 seed) and the citizens' pseudonyms.
AUDIT_CHECKPOINT_KEY = b"jati/audit/checkpoint-signing-key/v1"
AUDIT_PSEUDONYM_KEY = b"jati/audit/subject-pseudonym-key/v1"
# Subjects: pairwise subjects for apps (OIDC Core §8.1), Jati's own (64 bytes: AES-256-SIV).
PAIRWISE_SUBJECT_KEY = b"jati/identity/pairwise-subject-key/v1"
SELF_SUBJECT_KEY = b"jati/identity/self-subject-key/v1"
# Sealed at rest: citizens' data keys, the NIK blind index, signing keys, TOTP secrets.
DATA_KEY_WRAPPING_LABEL = b"jati/identity/data-key-wrapping/v1"
NIK_INDEX_LABEL = b"jati/identity/nik-blind-index/v1"
SIGNING_KEY_WRAPPING_LABEL = b"jati/identity/signing-key-wrapping/v1"
TOTP_SECRET_KEY = b"jati/identity/totp-secret-key/v1"
# Throttles and remembered devices: counters keyed so that no id or address is stored.
LOGIN_THROTTLE_KEY_LABEL = b"jati/identity/login-throttle-key/v1"
CLIENT_THROTTLE_KEY_LABEL = b"jati/identity/client-auth-throttle-key/v1"
DEVICE_KEY_LABEL = b"jati/identity/login-device-key/v1"
# What travels through the browser: sealed authorization requests, pending logins,
# activation tickets, passkey ceremonies' state, a form kept across an expired session, CSRF.
REQUEST_SEALING_KEY = b"jati/identity/authorization-request-key/v1"
PENDING_LOGIN_KEY = b"jati/identity/pending-login-key/v1"
ACTIVATION_TICKET_KEY = b"jati/identity/activation-ticket-key/v1"
WEBAUTHN_CEREMONY_KEY = b"jati/identity/webauthn-ceremony-key/v1"
PAGE_INTENT_KEY = b"jati/identity/page-intent-key/v1"
CONSOLE_ACTIVATION_KEY = b"jati/identity/console-activation-key/v1"
CSRF_KEY_LABEL = b"jati/identity/csrf-key/v1"
# Credential issuance: nonces for holder proofs (OpenID4VCI c_nonce).
CREDENTIAL_NONCE_KEY = b"jati/identity/credential-nonce-key/v1"
# Development only (``jati demo``): the demo app's secret, the client id appended.
CLIENT_SECRET_KEY = b"jati/demo/client-secret/v1/"

#: Every label above (tests/unit/identity/keys/test_derived_keys.py checks that none repeats
#: or prefixes another).
LABELS = (
    AUDIT_CHECKPOINT_KEY,
    AUDIT_PSEUDONYM_KEY,
    PAIRWISE_SUBJECT_KEY,
    SELF_SUBJECT_KEY,
    DATA_KEY_WRAPPING_LABEL,
    NIK_INDEX_LABEL,
    SIGNING_KEY_WRAPPING_LABEL,
    TOTP_SECRET_KEY,
    LOGIN_THROTTLE_KEY_LABEL,
    CLIENT_THROTTLE_KEY_LABEL,
    DEVICE_KEY_LABEL,
    REQUEST_SEALING_KEY,
    PENDING_LOGIN_KEY,
    ACTIVATION_TICKET_KEY,
    WEBAUTHN_CEREMONY_KEY,
    PAGE_INTENT_KEY,
    CONSOLE_ACTIVATION_KEY,
    CSRF_KEY_LABEL,
    CREDENTIAL_NONCE_KEY,
    CLIENT_SECRET_KEY,
)


def derive_key(master_key: bytes, label: bytes, length: int = 32) -> bytes:
    """The key for ``label`` (RFC 5869 HKDF, SHA-256, no salt: the master key is uniform)."""
    if len(master_key) < 32:
        raise ValueError("the master key must be at least 32 bytes")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label).derive(master_key)


class DerivedKeyHolder:
    """An object holding the key derived from the master key for its class's ``LABEL``
    (``self._key``, 32 bytes); its ``repr`` names the class and hides the key."""

    __slots__ = ("_key",)
    #: The label of the table above that the subclass's key is derived for.
    LABEL: ClassVar[bytes]

    def __init__(self, master_key: bytes) -> None:
        self._key = derive_key(master_key, self.LABEL)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<key hidden>)"
