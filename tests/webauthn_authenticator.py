"""A software WebAuthn authenticator and client, for tests only.

It answers ``PublicKeyCredentialCreationOptionsJSON`` with a ``RegistrationResponseJSON``
(attestation ``none``) and ``PublicKeyCredentialRequestOptionsJSON`` with an
``AuthenticationResponseJSON`` (WebAuthn Level 3 §5.1), as a browser would hand them to the
page. The bytes are built with fido2's own data classes (``CollectedClientData``,
``AuthenticatorData``, ``AttestedCredentialData``, ``AttestationObject``) and the keys and
signatures with ``cryptography``: P-256 (ES256, DER signatures, §6.5.5), Ed25519 (EdDSA),
P-384 (ES384, never offered by Jati) and RSA (RS256).

Every field an attack test needs to falsify is a keyword: the origin and the RP ID the client
claims, the challenge, the UP, UV, BE and BS flags, the counter, the user handle, the
signature. Each credential keeps its own counter; ``counter_step=0`` makes an authenticator
without a counter (synced passkeys report 0 every time).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from fido2.cose import ES256, ES384, RS256, CoseKey, EdDSA
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
FLAG = AuthenticatorData.FLAG
#: What a test may change in ``clientDataJSON`` (the rest of ``tamper`` is the authenticator's).
CLIENT_FIELDS = frozenset({"type", "challenge", "origin", "cross_origin", "client_data_extra"})
KEEP: Any = object()  # "as the authenticator would": the default of the overridable fields


#: fido2's COSE key from a ``cryptography`` public key, by algorithm name.
COSE_KEY: dict[str, Callable[[Any], CoseKey]] = {
    "ES256": ES256.from_cryptography_key,
    "ES384": ES384.from_cryptography_key,
    "EdDSA": EdDSA.from_cryptography_key,
    "RS256": RS256.from_cryptography_key,
}


def new_key(alg: str, *, rsa_bits: int = 2048) -> tuple[PrivateKey, CoseKey]:
    """A private key and its COSE public key for ``alg`` (ES256, EdDSA, ES384, RS256)."""
    private: PrivateKey
    if alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg == "ES384":
        private = ec.generate_private_key(ec.SECP384R1())
    elif alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    return private, COSE_KEY[alg](private.public_key())


def sign(private: PrivateKey, message: bytes) -> bytes:
    if isinstance(private, ec.EllipticCurvePrivateKey):
        algorithm = hashes.SHA256() if private.curve.name == "secp256r1" else hashes.SHA384()
        return private.sign(message, ec.ECDSA(algorithm))
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign(message)
    return private.sign(message, padding.PKCS1v15(), hashes.SHA256())


@dataclass
class Credential:
    """A discoverable credential held by the authenticator."""

    credential_id: bytes
    private_key: PrivateKey = field(repr=False)
    rp_id: str
    user_handle: bytes
    counter: int = 0


@dataclass
class SoftAuthenticator:
    """A platform authenticator with its client, for one origin.

    Args:
        origin: what the client writes as ``clientDataJSON.origin``.
        alg: the key type of new credentials.
        counter_step: how much each signature raises a credential's counter (0: never).
        backup_eligible, backed_up: the BE and BS flags it reports.
    """

    origin: str
    alg: str = "ES256"
    counter_step: int = 1
    backup_eligible: bool = False
    backed_up: bool = False
    aaguid: bytes = bytes(range(16))
    rsa_bits: int = 2048
    credentials: dict[bytes, Credential] = field(default_factory=dict)

    def _authenticator_data(
        self,
        rp: str,
        counter: int,
        attested: bytes = b"",
        *,
        rp_id: Any = KEEP,
        up: bool = True,
        uv: bool = True,
        be: Any = KEEP,
        bs: Any = KEEP,
    ) -> AuthenticatorData:
        flags = FLAG.AT if attested else FLAG(0)
        for on, flag in (
            (up, FLAG.UP),
            (uv, FLAG.UV),
            (self.backup_eligible if be is KEEP else be, FLAG.BE),
            (self.backed_up if bs is KEEP else bs, FLAG.BS),
        ):
            if on:
                flags |= flag
        rp_id_hash = hashlib.sha256((rp if rp_id is KEEP else rp_id).encode()).digest()
        made: AuthenticatorData = AuthenticatorData.create(rp_id_hash, flags, counter, attested)
        return made

    def _client_data(
        self,
        kind: str,
        options: dict[str, Any],
        *,
        type: str | None = None,
        challenge: Any = KEEP,
        origin: Any = KEEP,
        cross_origin: bool = False,
        client_data_extra: dict[str, Any] | None = None,
    ) -> CollectedClientData:
        return CollectedClientData.create(
            type=type or kind,
            challenge=options["challenge"] if challenge is KEEP else challenge,
            origin=self.origin if origin is KEEP else origin,
            cross_origin=cross_origin,
            **(client_data_extra or {}),
        )

    def _made(
        self,
        kind: str,
        options: dict[str, Any],
        rp: str,
        counter: int,
        attested: bytes,
        tamper: dict[str, Any],
    ) -> tuple[AuthenticatorData, CollectedClientData]:
        """The authenticator data and client data of a ceremony, with what ``tamper`` sets:
        ``rp_id``, ``up``, ``uv``, ``be``, ``bs`` (the authenticator's) and ``type``,
        ``challenge``, ``origin``, ``cross_origin``, ``client_data_extra`` (the client's)."""
        client = {k: tamper.pop(k) for k in list(tamper) if k in CLIENT_FIELDS}
        auth_data = self._authenticator_data(rp, counter, attested, **tamper)
        return auth_data, self._client_data(kind, options, **client)

    def create(
        self,
        options: dict[str, Any],
        *,
        credential_id: bytes | None = None,
        transports: tuple[str, ...] = ("internal", "hybrid"),
        **tamper: Any,
    ) -> dict[str, Any]:
        """``navigator.credentials.create()``: a new credential for ``options``, as
        ``RegistrationResponseJSON`` (``tamper``: see :meth:`_made`)."""
        rp = options["rp"]["id"]
        for excluded in options.get("excludeCredentials") or []:
            if websafe_decode(excluded["id"]) in self.credentials:
                raise LookupError("InvalidStateError: this authenticator is excluded")
        private, cose = new_key(self.alg, rsa_bits=self.rsa_bits)
        cred_id = credential_id if credential_id is not None else os.urandom(32)
        handle = websafe_decode(options["user"]["id"])
        self.credentials[cred_id] = Credential(cred_id, private, rp, handle)
        attested = AttestedCredentialData.create(self.aaguid, cred_id, cose)
        auth_data, client_data = self._made("webauthn.create", options, rp, 0, attested, tamper)
        attestation = AttestationObject.create("none", auth_data, {})
        response = {
            "clientDataJSON": websafe_encode(client_data),
            "attestationObject": websafe_encode(attestation),
            "transports": list(transports),
        }
        return _public_key_credential(cred_id, response)

    def get(
        self,
        options: dict[str, Any],
        *,
        credential_id: bytes | None = None,
        counter: int | None = None,
        user_handle: Any = KEEP,
        signature: bytes | None = None,
        **tamper: Any,
    ) -> dict[str, Any]:
        """``navigator.credentials.get()``: an assertion by ``credential_id`` (the newest
        credential when None), as ``AuthenticationResponseJSON``. ``counter`` sets the counter
        it reports (``tamper``: see :meth:`_made`)."""
        cred = self.credentials[credential_id or list(self.credentials)[-1]]
        if counter is None:
            cred.counter += self.counter_step
            counter = cred.counter
        auth_data, client_data = self._made(
            "webauthn.get", options, cred.rp_id, counter, b"", tamper
        )
        signed = sign(cred.private_key, auth_data + client_data.hash)
        handle = cred.user_handle if user_handle is KEEP else user_handle
        response = {
            "clientDataJSON": websafe_encode(client_data),
            "authenticatorData": websafe_encode(auth_data),
            "signature": websafe_encode(signature if signature is not None else signed),
        }
        if handle is not None:
            response["userHandle"] = websafe_encode(handle)
        return _public_key_credential(cred.credential_id, response)


def _public_key_credential(credential_id: bytes, response: dict[str, Any]) -> dict[str, Any]:
    """A ``PublicKeyCredential`` as ``toJSON()`` gives it (§5.1)."""
    return {
        "id": websafe_encode(credential_id),
        "rawId": websafe_encode(credential_id),
        "type": "public-key",
        "response": response,
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
    }
