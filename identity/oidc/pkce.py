"""Proof Key for Code Exchange (RFC 7636), ``S256`` only.

RFC 9700 §2.1.1 asks authorization servers to require PKCE and to refuse ``plain``: with
``plain`` the challenge *is* the verifier, so anyone who sees the authorization request (a
log, a referrer, a malicious app on the device) can redeem a stolen code.

- ``code_verifier`` (§4.1): 43 to 128 characters of ``[A-Z] / [a-z] / [0-9] / "-" / "." /
  "_" / "~"``.
- ``code_challenge`` (§4.2): ``BASE64URL(SHA256(ASCII(code_verifier)))``, which for S256 is
  always 43 characters; the brief's 43-128 range is what §4.1 allows any challenge method,
  and an S256 challenge of another length can never match, so it is refused up front.
- The check (§4.6) compares in constant time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from identity.keys.base64url import b64url_encode

__all__ = [
    "CHALLENGE_METHODS",
    "S256",
    "s256_challenge",
    "valid_challenge",
    "valid_verifier",
    "verify_s256",
]

S256 = "S256"
CHALLENGE_METHODS = (S256,)
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]{43,128}")
#: An S256 challenge: 32 bytes as unpadded base64url, 43 characters.
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def valid_verifier(verifier: str) -> bool:
    """RFC 7636 §4.1: 43-128 unreserved characters."""
    return _UNRESERVED.fullmatch(verifier) is not None


def valid_challenge(challenge: str) -> bool:
    """An S256 ``code_challenge`` (RFC 7636 §4.2): 43 base64url characters (the encoding of
    a SHA-256 digest). A challenge of any other shape can never be met."""
    return _S256_CHALLENGE.fullmatch(challenge) is not None


def s256_challenge(verifier: str) -> str:
    """``BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return b64url_encode(digest)


def verify_s256(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6: does ``verifier`` answer ``challenge``? Constant-time comparison; a
    malformed verifier is simply wrong."""
    if not valid_verifier(verifier):
        return False  # the format says nothing about the challenge
    expected = s256_challenge(verifier).encode("ascii")
    return hmac.compare_digest(expected, challenge.encode("utf-8"))
