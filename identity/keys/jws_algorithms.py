"""The JWS algorithms Jati signs with, declared once (RFC 7518 §3, RFC 8037, RFC 9864).

Every name is *fully specified* in the sense of RFC 9864 §2 for the keys Jati holds: one
name, one key type, one operation. ``EdDSA`` (RFC 8037, polymorphic and deprecated by
RFC 9864 §2.2, but what most relying-party libraries still expect) and ``Ed25519`` (its
fully-specified name) are kept apart: each has keys of its own, published under that one
name, so that the JWK Set's ``alg`` always equals the header ``alg`` of what its key signs
(RFC 7517 §4.4; RFC 8725 §3.1, one algorithm per key) and a change of
``JATI_TOKEN_SIGNING_ALG`` never re-labels a key that already signed something.

- :data:`SERVICE_ALGORITHMS`: what ``JATI_TOKEN_SIGNING_ALG`` may name. Access tokens,
  consent receipts, SD-JWT VCs and Status List Tokens are signed with it: compact keys and
  signatures, for Jati's own verifiers and the SDK.
- :data:`ID_TOKEN_ALGORITHMS`: what an app may register as ``id_token_signed_response_alg``
  (OIDC Dynamic Client Registration 1.0 §2): the above and ``RS256`` (RFC 7518 §3.3, 3072-bit
  keys), which OpenID Connect Discovery 1.0 §3 requires every provider to offer for ID
  tokens and which older JOSE libraries are limited to.

This module imports nothing, so that the command line can offer the choices cheaply.
"""

from __future__ import annotations

__all__ = ["ID_TOKEN_ALGORITHMS", "RS256", "SERVICE_ALGORITHMS", "SIGNING_ALGORITHMS"]

RS256 = "RS256"
#: ``JATI_TOKEN_SIGNING_ALG`` (identity/service/settings.py spells them out again as a ``Literal``;
#: a test keeps the two equal).
SERVICE_ALGORITHMS: tuple[str, ...] = ("EdDSA", "Ed25519", "ES256")
#: ``id_token_signed_response_alg`` values an app may register.
ID_TOKEN_ALGORITHMS: tuple[str, ...] = (*SERVICE_ALGORITHMS, RS256)
#: Every algorithm Jati holds keys for (one next and one active key each, published in the
#: JWK Set and rotated together by ``jati keys rotate``).
SIGNING_ALGORITHMS: tuple[str, ...] = ID_TOKEN_ALGORITHMS
