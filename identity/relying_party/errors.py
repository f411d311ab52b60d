"""The one exception of the verification SDK, with a machine-readable reason."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["InvalidToken", "Reason"]


class Reason(StrEnum):
    """Why a token was refused. Stable strings: relying apps may branch on them and log them."""

    MALFORMED = "malformed"  # not a compact JWS, bad base64url, bad JSON, duplicate names
    TOO_LARGE = "too_large"  # over the size limit, refused before parsing
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"  # alg outside the allow-list, e.g. none
    FORBIDDEN_HEADER = "forbidden_header"  # jku, x5u, x5c, jwk, crit, ...
    UNKNOWN_KEY = "unknown_key"  # kid absent from the issuer's JWKS (after one refresh)
    KEY_MISMATCH = "key_mismatch"  # alg not bound to the key's type
    BAD_SIGNATURE = "bad_signature"
    WRONG_TYPE = "wrong_type"  # typ header is not the one this token kind needs
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"  # nbf in the future
    ISSUED_IN_FUTURE = "issued_in_future"  # iat beyond the leeway
    MISSING_CLAIM = "missing_claim"
    INVALID_CLAIM = "invalid_claim"  # a claim of the wrong type or value
    NONCE_MISMATCH = "nonce_mismatch"
    KEYS_UNAVAILABLE = "keys_unavailable"  # discovery or the JWKS could not be read
    # SD-JWT presentations (RFC 9901 §7) and Token Status Lists (draft-ietf-oauth-status-list)
    INVALID_DISCLOSURE = "invalid_disclosure"  # RFC 9901 §7.1: a disclosure is refused
    KEY_BINDING_REQUIRED = "key_binding_required"  # no KB-JWT where the policy needs one
    BAD_KEY_BINDING = "bad_key_binding"  # KB-JWT signature, typ, aud, nonce, iat or sd_hash
    REVOKED = "revoked"  # status 1 (INVALID) or an application-specific non-zero status
    SUSPENDED = "suspended"  # status 2 (SUSPENDED)
    STATUS_UNAVAILABLE = "status_unavailable"  # the status list could not be read or verified


class InvalidToken(Exception):
    """A token that must not be accepted. ``reason`` is a :class:`Reason`; the message says
    which check failed and never contains the token or its claims' values."""

    def __init__(self, reason: Reason, message: str = "") -> None:
        super().__init__(f"{reason.value}: {message}" if message else reason.value)
        self.reason = reason
