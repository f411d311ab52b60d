"""Verification SDK for relying apps: accept Jati's tokens and credentials safely.

Importable without the server's dependencies (no FastAPI, no SQLAlchemy; only
``cryptography`` and the standard library)::

    from identity.relying_party import TokenVerifier, InvalidToken

    verifier = TokenVerifier(issuer="https://id.example.go.id", audience="my-client-id")
    claims = verifier.verify_access_token(token)   # or raises InvalidToken(reason=...)

    # an SD-JWT VC presented by a wallet (RFC 9901), bound to this verifier and its nonce
    disclosed = verifier.verify_presentation(sd_jwt_kb, audience=me, nonce=n)

See :mod:`identity.relying_party.verifier` for every check and the RFCs behind it, and
:mod:`identity.relying_party.sd_jwt` for the SD-JWT ones.
"""

from identity.relying_party.errors import InvalidToken, Reason
from identity.relying_party.status_list import StatusListCache
from identity.relying_party.verifier import TokenVerifier

__all__ = ["InvalidToken", "Reason", "StatusListCache", "TokenVerifier"]
