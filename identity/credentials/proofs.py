"""Fresh nonces and holder proofs of possession for credential issuance.

OpenID for Verifiable Credential Issuance 1.0 (OID4VCI):

- §7 Nonce Endpoint: ``c_nonce`` is an unpredictable value the wallet must sign into its
  proof. Jati's nonce is self-authenticating, ``base64url(expiry || random || tag)`` where
  ``tag`` is HMAC-SHA-256 under a key derived from the master key (so any worker can check
  one another issued, and a forged or expired nonce is refused without a database read);
  single use is enforced where the credential is stored, in the same transaction.
- Appendix F.1 (``jwt`` proof type): a JWS with ``typ: openid4vci-proof+jwt``, an asymmetric
  ``alg``, the holder's public key in ``jwk`` (Jati takes no ``kid``/``x5c``: nothing to
  resolve, nothing fetched), and claims ``aud`` = the credential issuer identifier, ``iat``
  (fresh), ``nonce`` = a ``c_nonce`` of ours, and ``iss`` = the wallet's client id when
  present. The signature must verify with that ``jwk``; that key becomes the credential's
  ``cnf.jwk`` (RFC 7800 §3.2), the key a presentation's key binding JWT must be signed with.

RFC 8725 applies: an algorithm allow-list bound to the key type (``ES256`` with P-256,
``EdDSA``/``Ed25519`` with Ed25519), strict base64url and JSON, an explicit ``typ``, no
private key members, no ``crit``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from identity.errors import CredentialError
from identity.keys.base64url import b64url_encode
from identity.keys.derived_keys import CREDENTIAL_NONCE_KEY, derive_key
from identity.keys.jwk import jwk_thumbprint
from identity.relying_party.encoding import b64url_decode, json_object
from identity.relying_party.errors import InvalidToken
from identity.relying_party.keys import (
    HOLDER_ALGORITHMS,
    PRIVATE_MEMBERS,
    UnusableKey,
    VerificationKey,
    verification_key,
)

PROOF_TYPE = "openid4vci-proof+jwt"
NONCE_LIFETIME = 300  # seconds a c_nonce stays usable
PROOF_MAX_AGE = 300  # seconds: how old a proof's iat may be
LEEWAY = 30  # seconds of clock skew allowed on iat
MAX_PROOF_CHARS = 4096
_NONCE_RANDOM = 16
_NONCE_TAG = 16
_NONCE_BYTES = 8 + _NONCE_RANDOM + _NONCE_TAG
#: The public members a holder key may carry (RFC 7517 §4, RFC 7518 §6.2.1, RFC 8037 §2).
_HOLDER_JWK_MEMBERS = frozenset({"kty", "crv", "x", "y", "kid", "alg", "use", "key_ops"})
_REFUSED_HEADERS = frozenset({"kid", "x5c", "x5u", "jku", "x5t", "x5t#S256", "crit", "b64"})


class CredentialNonces:
    """Issues and checks ``c_nonce`` values (OID4VCI §7). Stateless; see the module text."""

    def __init__(self, master_key: bytes, *, lifetime: int = NONCE_LIFETIME) -> None:
        self._key = derive_key(master_key, CREDENTIAL_NONCE_KEY)
        self.lifetime = lifetime

    def issue(self, now: datetime) -> str:
        expiry = int(now.timestamp()) + self.lifetime
        body = struct.pack(">Q", expiry) + secrets.token_bytes(_NONCE_RANDOM)
        return b64url_encode(body + self._tag(body))

    def check(self, nonce: object, now: datetime) -> int:
        """The nonce's expiry (seconds since the epoch) if it is ours and unexpired.

        Raises:
            CredentialError: ``invalid_nonce``.
        """
        if type(nonce) is not str or len(nonce) > 64:
            raise CredentialError("invalid_nonce", "the proof carries no c_nonce of this issuer")
        try:
            raw = b64url_decode(nonce)
        except InvalidToken:
            raise CredentialError("invalid_nonce", "the c_nonce is not one of ours") from None
        if len(raw) != _NONCE_BYTES:
            raise CredentialError("invalid_nonce", "the c_nonce is not one of ours")
        body, tag = raw[:-_NONCE_TAG], raw[-_NONCE_TAG:]
        if not hmac.compare_digest(tag, self._tag(body)):
            raise CredentialError("invalid_nonce", "the c_nonce is not one of ours")
        (expiry,) = struct.unpack(">Q", body[:8])
        if expiry <= now.timestamp():
            raise CredentialError("invalid_nonce", "the c_nonce has expired; ask for a new one")
        return int(expiry)

    def _tag(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_NONCE_TAG]


def nonce_digest(nonce: str) -> str:
    """What the single-use table stores of a nonce (never the nonce itself)."""
    return hashlib.sha256(nonce.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class HolderProof:
    """A verified proof: the holder's public JWK (only its public members), its RFC 7638
    thumbprint, the ``c_nonce`` it signed and that nonce's expiry."""

    jwk: Mapping[str, Any]
    thumbprint: str
    nonce: str
    nonce_expiry: int


def _invalid(message: str) -> CredentialError:
    return CredentialError("invalid_proof", message)


def holder_key(jwk: object) -> tuple[dict[str, Any], VerificationKey]:
    """The holder key of a proof header: its public members (what ``cnf.jwk`` will hold)
    and the key to verify with (its ``alg``, ``use`` and ``key_ops`` honoured), or
    ``invalid_proof``."""
    if not isinstance(jwk, Mapping):
        raise _invalid("the proof header carries no jwk")
    if PRIVATE_MEMBERS & jwk.keys():
        raise _invalid("the proof's jwk carries private key material")
    if not _HOLDER_JWK_MEMBERS.issuperset(jwk):
        raise _invalid("the proof's jwk has members this issuer does not accept")
    try:
        key = verification_key(jwk, algorithms=HOLDER_ALGORITHMS)
    except UnusableKey as exc:
        raise _invalid(f"the proof's jwk cannot be used: {exc}") from None
    return {k: jwk[k] for k in ("kty", "crv", "x", "y") if k in jwk}, key


def verify_proof(
    proof: object,
    *,
    issuer: str,
    client_id: str,
    nonces: CredentialNonces,
    now: datetime,
) -> HolderProof:
    """Check one ``jwt`` proof (OID4VCI Appendix F.1 and F.4).

    Raises:
        CredentialError: ``invalid_proof`` or ``invalid_nonce`` (the wallet asks the nonce
        endpoint for a fresh ``c_nonce`` and tries again, §8.3.1.2).
    """
    if type(proof) is not str or not proof:
        raise _invalid("a proof is a compact JWS")
    if len(proof) > MAX_PROOF_CHARS:
        raise _invalid("the proof is too large")
    parts = proof.split(".")
    if len(parts) != 3:
        raise _invalid("a proof is a compact JWS")
    try:
        header = json_object(b64url_decode(parts[0]), "JOSE header")
        claims = json_object(b64url_decode(parts[1]), "JWT claims set")
        signature = b64url_decode(parts[2])
    except InvalidToken:
        raise _invalid("the proof is not a well-formed JWS") from None
    if header.get("typ") != PROOF_TYPE:
        raise _invalid(f"the proof's typ must be {PROOF_TYPE}")
    alg = header.get("alg")
    if alg not in HOLDER_ALGORITHMS:
        raise _invalid("the proof's alg is not accepted (ES256, EdDSA, Ed25519)")
    refused = _REFUSED_HEADERS & header.keys()
    if refused:
        raise _invalid(f"the proof header {sorted(refused)[0]} is not accepted; use jwk")
    jwk, key = holder_key(header.get("jwk"))
    if alg not in key.algorithms:
        raise _invalid("the proof's alg does not match its key")
    if not key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii")):
        raise _invalid("the proof's signature does not verify")
    if claims.get("aud") != issuer:
        raise _invalid("the proof's aud must be the credential issuer identifier")
    iss = claims.get("iss")
    if iss is not None and iss != client_id:
        raise _invalid("the proof's iss is not the client the access token was issued to")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise _invalid("the proof needs a numeric iat")
    if iat > now.timestamp() + LEEWAY or iat < now.timestamp() - PROOF_MAX_AGE:
        raise _invalid("the proof's iat is not fresh")
    nonce = claims.get("nonce")
    expiry = nonces.check(nonce, now)
    assert isinstance(nonce, str)
    return HolderProof(jwk=jwk, thumbprint=jwk_thumbprint(jwk), nonce=nonce, nonce_expiry=expiry)
