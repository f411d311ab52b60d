"""base64url without padding (RFC 4648 §5; RFC 7515 §2 "Base64url Encoding"), the one encoder
of every value Jati puts in a token, a cookie, a JWK or a URL. Decoding is strict and lives
with the verifier (:func:`identity.relying_party.encoding.b64url_decode`)."""

from __future__ import annotations

import binascii

__all__ = ["b64url_encode"]

_FROM_STANDARD = bytes.maketrans(b"+/", b"-_")


def b64url_encode(data: bytes) -> str:
    """``data`` in base64url, without ``=`` padding."""
    return binascii.b2a_base64(data, newline=False).translate(_FROM_STANDARD).rstrip(b"=").decode()
