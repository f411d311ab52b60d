"""The WebAuthn Level 3 ceremonies of a relying party over Yubico's ``fido2``: options,
the state a caller keeps between options and response, and the verification of responses.
Framework-free and storage-free; :mod:`identity.login.passkeys` keeps the credential records.

What the browser sends is parsed by fido2 (base64url, CBOR, COSE keys: never by hand here).

- **Registration** (§7.1): :meth:`fido2.server.Fido2Server.register_complete` checks the
  type, the challenge, the origin (matched exactly), the RP ID hash and the UP and UV flags.
- **Authentication** (§7.2), the hot path of every passkey sign-in: fido2's byte-level
  classes parse the authenticator data and the client data, fido2's COSE key verifies the
  signature over ``authenticatorData || SHA-256(clientDataJSON)``, and the checks between
  them are made here, in §7.2's order and with the same constant-time comparisons as
  ``Fido2Server.authenticate_complete``: type ``webauthn.get``, the challenge, the origin,
  the RP ID hash, UP, UV, the signature. Not the server method itself: it rebuilds the whole
  response through fido2's JSON data classes, whose ``typing.get_type_hints`` calls cost
  about 0.5 ms per response, six times the signature check. A credential's parsed key is
  cached by its bytes.

Added to both:

- user verification is always required, whatever a state says;
- a ceremony from a cross-origin iframe (``crossOrigin`` true or a ``topOrigin``, §5.8.1) is
  refused: Jati's pages are never framed;
- BS is never set without BE (§6.1.3), and at sign-in BE is as registered;
- a new credential's algorithm must be one offered (ES256 -7, EdDSA -8, RS256 -257), its
  key must load (an RSA modulus of at least 2048 bits), its id is at most 1023 bytes (§7.1)
  and is the response's ``rawId``; attestation is ``none``: none is asked for or checked;
- the state is a JSON object: version, ceremony (``webauthn.create`` or ``webauthn.get``), a
  32-byte random challenge (base64url), its expiry (Unix seconds, 5 minutes ahead: §15.1's
  lower bound for ceremonies with user verification) and what the caller adds. A state of
  another ceremony, past its expiry, expiring further ahead than a state can (allowing a
  minute of skew between workers' clocks) or unreadable is :class:`PasskeyCeremonyExpired`.
  That the state is used once is the caller's to ensure (:mod:`identity.login.passkeys`
  spends the challenge in the transaction that records the ceremony's effect).

A failed check is :class:`PasskeyRefused` with a short ``reason`` (``origin``, ``rp_id``,
...), never the library's text, which may quote input.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import secrets
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import constant_time
from fido2.cose import RS256, CoseKey
from fido2.server import Fido2Server
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationConveyancePreference,
    AttestedCredentialData,
    AuthenticatorData,
    AuthenticatorTransport,
    CollectedClientData,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from identity.errors import (
    InvalidPasskeyResponse,
    PasskeyCeremonyExpired,
    PasskeyRefused,
)

__all__ = [
    "ALGORITHMS",
    "CEREMONY_LIFETIME",
    "CREATE",
    "GET",
    "Assertion",
    "Challenge",
    "Credential",
    "RelyingParty",
    "refusal",
]

# fido2's server logs credential ids at INFO and DEBUG: Jati logs none (they identify a person)
logging.getLogger("fido2.server").setLevel(logging.WARNING)

#: COSE algorithms offered (RFC 9053 §2.1 ES256, EdDSA; RFC 8812 §2 RS256), preferred first.
ALGORITHMS = (-7, -8, -257)
CEREMONY_LIFETIME = timedelta(minutes=5)
#: How far ahead of this worker's clock another worker's clock may be (a state made there).
CLOCK_SKEW = timedelta(minutes=1)
CHALLENGE_BYTES = 32
MAX_CREDENTIAL_ID_BYTES = 1023
MIN_RSA_MODULUS_BYTES = 256
#: Names an authenticator shows are kept to 64 bytes (§6.4.1 string truncation).
USER_TEXT_MAX_BYTES = 64
CREATE = "webauthn.create"
GET = "webauthn.get"
_STATE_VERSION = 1
_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)
#: The start of the text of fido2 2.x's failed registration checks, and Jati's reason.
_FIDO2_REASONS = (
    ("Incorrect type", "type"),
    ("Invalid origin", "origin"),
    ("Wrong challenge", "challenge"),
    ("Wrong RP ID hash", "rp_id"),
    ("User Present flag", "user_presence"),
    ("User verification required", "user_verification"),
)
#: Parsed credentials kept, by their attested credential data (a few hundred bytes each).
CREDENTIAL_CACHE = 4096
#: What fido2's parsers and checks raise on input that is not what it should be.
MALFORMED = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    struct.error,
    RecursionError,
    OverflowError,
)


@dataclass(frozen=True, slots=True)
class Challenge:
    """A ceremony's challenge, as opened from its state, and when it expires."""

    value: bytes = field(repr=False)
    expires_at: datetime

    @property
    def checks(self) -> dict[str, Any]:
        """The state fido2's ``*_complete`` reads: user verification always required."""
        return {
            "challenge": websafe_encode(self.value),
            "user_verification": UserVerificationRequirement.REQUIRED,
        }


@dataclass(frozen=True, slots=True)
class Credential:
    """A verified registration: what a credential record (§4) keeps of the credential."""

    credential_id: bytes = field(repr=False)
    credential_data: bytes = field(repr=False)
    sign_count: int
    backup_eligible: bool
    backed_up: bool
    aaguid: str
    transports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assertion:
    """A parsed ``AuthenticationResponseJSON``, not yet verified."""

    credential_id: bytes = field(repr=False)
    user_handle: bytes | None = field(repr=False)
    client_data: CollectedClientData = field(repr=False)
    auth_data: AuthenticatorData = field(repr=False)
    signature: bytes = field(repr=False)


def refusal(error: Exception) -> PasskeyRefused:
    """fido2's failed check as :class:`PasskeyRefused` (``reason`` ``invalid`` if unknown)."""
    text = str(error)
    reason = next((code for start, code in _FIDO2_REASONS if text.startswith(start)), "invalid")
    return PasskeyRefused(reason)


def _parse(kind: type[Any], response: object) -> Any:
    if not isinstance(response, Mapping):
        raise InvalidPasskeyResponse()
    try:
        return kind.from_dict(response)
    except MALFORMED:
        raise InvalidPasskeyResponse() from None


def _binary(value: object) -> bytes:
    """A base64url member of a response (RFC 4648 §5, unpadded)."""
    if not isinstance(value, str):
        raise InvalidPasskeyResponse()
    try:
        return websafe_decode(value)
    except ValueError:
        raise InvalidPasskeyResponse() from None


@functools.lru_cache(maxsize=CREDENTIAL_CACHE)
def _credential(credential_data: bytes) -> AttestedCredentialData:
    return AttestedCredentialData(credential_data)


def _user_text(value: str) -> str:
    encoded = value.strip().encode("utf-8")[:USER_TEXT_MAX_BYTES]
    return encoded.decode("utf-8", errors="ignore") or "Jati"


def _plain(options: Mapping[str, Any]) -> dict[str, Any]:
    """fido2's options as plain JSON (``PublicKeyCredential*OptionsJSON``, binary values in
    base64url: what ``PublicKeyCredential.parse*OptionsFromJSON`` reads)."""
    plain: dict[str, Any] = json.loads(json.dumps(dict(options)))
    return plain


def _check_client_data(client_data: CollectedClientData) -> None:
    if client_data.cross_origin is not False or "topOrigin" in json.loads(client_data):
        raise PasskeyRefused("cross_origin")


def _check_flags(auth_data: AuthenticatorData) -> None:
    if auth_data.is_backed_up() and not auth_data.is_backup_eligible():
        raise PasskeyRefused("backup_state")


def _check_key(key: CoseKey) -> None:
    """An offered algorithm, and a key that loads: a probe signature is refused as a
    signature, not as a malformed key."""
    if key.ALGORITHM not in ALGORITHMS:
        raise PasskeyRefused("algorithm")
    modulus = key.get(-1)
    if isinstance(key, RS256) and not (
        isinstance(modulus, bytes) and len(modulus) >= MIN_RSA_MODULUS_BYTES
    ):
        raise PasskeyRefused("public_key")
    try:
        key.verify(b"jati key check", b"\x00" * 64)
    except InvalidSignature:
        return
    except MALFORMED:
        pass
    raise PasskeyRefused("public_key")


def _transports(response: Mapping[str, Any]) -> tuple[str, ...]:
    """The known transports the browser reported (``response.transports``), as hints."""
    inner = response.get("response")
    listed = inner.get("transports") if isinstance(inner, Mapping) else None
    if not isinstance(listed, list):
        return ()
    return tuple(sorted({t for t in listed if isinstance(t, str) and t in _TRANSPORTS}))


class RelyingParty:
    """The ceremonies of one relying party: ``rp_id`` (the issuer's host, §5.1.2) and
    ``origin`` (the issuer's ``https://host[:port]``, matched exactly)."""

    def __init__(self, *, rp_id: str, origin: str, rp_name: str = "Jati") -> None:
        self.rp_id = rp_id
        self.origin = origin
        self._server = Fido2Server(
            PublicKeyCredentialRpEntity(name=rp_name, id=rp_id),
            attestation=AttestationConveyancePreference.NONE,
            verify_origin=self._is_origin,
        )
        self._server.allowed_algorithms = [
            PublicKeyCredentialParameters(type=PublicKeyCredentialType.PUBLIC_KEY, alg=alg)
            for alg in ALGORITHMS
        ]
        timeout_ms: Any = int(CEREMONY_LIFETIME.total_seconds() * 1000)  # fido2 types it None
        self._server.timeout = timeout_ms
        self._rp_id_hash = hashlib.sha256(rp_id.encode("utf-8")).digest()
        # A sign-in's options differ only by their challenge: fido2 makes them once here (its
        # data classes cost about 0.2 ms a call, on the event loop of every sign-in).
        self._request_options = self._fido2_request_options(b"\x00" * CHALLENGE_BYTES)

    def _is_origin(self, origin: object) -> bool:
        return isinstance(origin, str) and origin == self.origin

    # ------------------------------------------------------------ state

    @staticmethod
    def _state(ceremony: str, challenge: bytes, now: datetime, **extra: str) -> dict[str, Any]:
        return {
            "v": _STATE_VERSION,
            "ceremony": ceremony,
            "challenge": websafe_encode(challenge),
            "expires_at": int((now + CEREMONY_LIFETIME).timestamp()),
            **extra,
        }

    @staticmethod
    def open(state: object, ceremony: str, now: datetime) -> Challenge:
        """The challenge of a state made for ``ceremony`` and not expired at ``now``.

        Raises:
            PasskeyCeremonyExpired.
        """
        if not isinstance(state, Mapping) or state.get("v") != _STATE_VERSION:
            raise PasskeyCeremonyExpired()
        encoded, expires_at = state.get("challenge"), state.get("expires_at")
        if state.get("ceremony") != ceremony or not isinstance(encoded, str):
            raise PasskeyCeremonyExpired()
        if not isinstance(expires_at, int) or isinstance(expires_at, bool):
            raise PasskeyCeremonyExpired()
        if not 0 < expires_at - now.timestamp() <= (CEREMONY_LIFETIME + CLOCK_SKEW).total_seconds():
            raise PasskeyCeremonyExpired()
        try:
            challenge = websafe_decode(encoded)
        except ValueError:
            raise PasskeyCeremonyExpired() from None
        if len(challenge) != CHALLENGE_BYTES:
            raise PasskeyCeremonyExpired()
        return Challenge(challenge, datetime.fromtimestamp(expires_at, UTC))

    # ------------------------------------------------------------ registration

    def creation_options(
        self,
        *,
        user_handle: bytes,
        user_name: str,
        display_name: str,
        exclude: Sequence[tuple[bytes, Sequence[str]]],
        now: datetime,
        **extra: str,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``PublicKeyCredentialCreationOptionsJSON`` (§5.4) and the state to keep:
        a discoverable credential, user verification required, attestation ``none``, the
        offered algorithms, ``exclude`` (credential ids and transports) as
        ``excludeCredentials``. ``extra`` (strings) goes into the state."""
        user = PublicKeyCredentialUserEntity(
            name=_user_text(user_name), id=user_handle, display_name=_user_text(display_name)
        )
        descriptors = [
            PublicKeyCredentialDescriptor(
                type=PublicKeyCredentialType.PUBLIC_KEY,
                id=credential_id,
                transports=[AuthenticatorTransport(t) for t in transports] or None,
            )
            for credential_id, transports in exclude
        ]
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        options, _ = self._server.register_begin(
            user,
            descriptors,
            resident_key_requirement=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
            challenge=challenge,
        )
        return _plain(options.public_key), self._state(CREATE, challenge, now, **extra)

    def verify_registration(
        self, challenge: Challenge, response_json: Mapping[str, Any]
    ) -> Credential:
        """Verify a ``RegistrationResponseJSON`` against the opened state (§7.1).

        Raises:
            InvalidPasskeyResponse, PasskeyRefused.
        """
        response = _parse(RegistrationResponse, response_json)
        client_data = response.response.client_data
        auth_data = response.response.attestation_object.auth_data
        if auth_data.credential_data is None:  # fido2 only asserts it
            raise PasskeyRefused("attested_credential_data")
        try:
            self._server.register_complete(challenge.checks, response)
        except MALFORMED as error:
            raise refusal(error) from None
        _check_client_data(client_data)
        _check_flags(auth_data)
        credential: AttestedCredentialData = auth_data.credential_data
        if credential.credential_id != response.raw_id:
            raise PasskeyRefused("credential_id")
        if not 0 < len(credential.credential_id) <= MAX_CREDENTIAL_ID_BYTES:
            raise PasskeyRefused("credential_id")
        _check_key(credential.public_key)
        return Credential(
            credential_id=bytes(credential.credential_id),
            credential_data=bytes(credential),
            sign_count=auth_data.counter,
            backup_eligible=auth_data.is_backup_eligible(),
            backed_up=auth_data.is_backed_up(),
            aaguid=str(credential.aaguid),
            transports=_transports(response_json),
        )

    # ------------------------------------------------------------ authentication

    def request_options(self, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
        """``PublicKeyCredentialRequestOptionsJSON`` for a discoverable sign-in (no
        ``allowCredentials``, user verification required) and the state to keep."""
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        options = {**self._request_options, "challenge": websafe_encode(challenge)}
        return options, self._state(GET, challenge, now)

    def _fido2_request_options(self, challenge: bytes) -> dict[str, Any]:
        """fido2's request options for a discoverable sign-in with ``challenge`` (scalars
        only: what :meth:`request_options` copies)."""
        options, _ = self._server.authenticate_begin(
            user_verification=UserVerificationRequirement.REQUIRED, challenge=challenge
        )
        plain = _plain(options.public_key)
        assert not any(isinstance(v, (dict, list)) for v in plain.values())
        return plain

    @staticmethod
    def parse_assertion(response_json: Mapping[str, Any]) -> Assertion:
        """An ``AuthenticationResponseJSON`` (§5.1), parsed. Raises: InvalidPasskeyResponse."""
        if not isinstance(response_json, Mapping):
            raise InvalidPasskeyResponse()
        inner, raw_id = response_json.get("response"), response_json.get("rawId")
        if not isinstance(inner, Mapping) or response_json.get("id", raw_id) != raw_id:
            raise InvalidPasskeyResponse()
        if response_json.get("type", "public-key") != "public-key":
            raise InvalidPasskeyResponse()
        handle = inner.get("userHandle")
        try:
            client_data = CollectedClientData(_binary(inner.get("clientDataJSON")))
            auth_data = AuthenticatorData(_binary(inner.get("authenticatorData")))
        except MALFORMED:
            raise InvalidPasskeyResponse() from None
        return Assertion(
            credential_id=_binary(raw_id),
            user_handle=_binary(handle) if handle is not None else None,
            client_data=client_data,
            auth_data=auth_data,
            signature=_binary(inner.get("signature")),
        )

    def verify_assertion(
        self,
        challenge: Challenge,
        assertion: Assertion,
        *,
        credential_data: bytes,
        backup_eligible: bool,
    ) -> AuthenticatorData:
        """Verify an assertion with the stored credential (§7.2); BE must be as registered
        (§6.1.3). Returns the authenticator data (counter, BS) for the caller's record.

        Raises:
            PasskeyRefused.
        """
        client_data, auth_data = assertion.client_data, assertion.auth_data
        if client_data.type != GET:
            raise PasskeyRefused("type")
        if not self._is_origin(client_data.origin):
            raise PasskeyRefused("origin")
        if not constant_time.bytes_eq(client_data.challenge, challenge.value):
            raise PasskeyRefused("challenge")
        if not constant_time.bytes_eq(auth_data.rp_id_hash, self._rp_id_hash):
            raise PasskeyRefused("rp_id")
        if not auth_data.is_user_present():
            raise PasskeyRefused("user_presence")
        if not auth_data.is_user_verified():
            raise PasskeyRefused("user_verification")
        try:
            key = _credential(credential_data).public_key
            key.verify(auth_data + client_data.hash, assertion.signature)
        except (InvalidSignature, *MALFORMED):
            raise PasskeyRefused("signature") from None
        _check_client_data(client_data)
        _check_flags(auth_data)
        if auth_data.is_backup_eligible() != backup_eligible:
            raise PasskeyRefused("backup_eligibility")
        return auth_data
