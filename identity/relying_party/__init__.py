"""Verification SDK for relying apps: accept Jati's access and ID tokens safely.

Importable without the server's dependencies (no FastAPI, no SQLAlchemy; only
``cryptography`` and the standard library)::

    from identity.relying_party import TokenVerifier, InvalidToken

    verifier = TokenVerifier(issuer="https://id.example.go.id", audience="my-client-id")
    claims = verifier.verify_access_token(token)   # or raises InvalidToken(reason=...)

See :mod:`identity.relying_party.verifier` for every check and the RFCs behind it.
"""

from identity.relying_party.errors import InvalidToken, Reason
from identity.relying_party.verifier import TokenVerifier

__all__ = ["InvalidToken", "Reason", "TokenVerifier"]
