"""Issuing Jati's signed tokens: JWT access tokens (RFC 9068) and OIDC ID tokens.

- Compact JWS (RFC 7515 §7.1) signed with the active key of the configured algorithm:
  ``EdDSA`` (Ed25519, RFC 8037; or its RFC 9864 name ``Ed25519``, with keys of its own) or
  ``ES256`` (RFC 7518 §3.4, the signature as ``R || S``). Ed25519 signs through libsodium
  (PyNaCl), in about half the time of the OpenSSL build ``cryptography`` ships; Ed25519
  being deterministic (RFC 8032 §5.1.6), the signatures are byte for byte those
  ``cryptography`` would make.
  The header carries ``alg``, ``kid`` (RFC 7638 thumbprint) and an explicit ``typ``
  (RFC 8725 §3.11): ``at+jwt`` for access tokens (RFC 9068 §2.1), ``JWT`` for ID tokens,
  so neither is accepted in place of the other.
- An ID token follows the app's ``id_token_signed_response_alg`` when it registered one
  (OIDC Dynamic Client Registration 1.0 §2), which may also be ``RS256`` (RFC 7518 §3.3,
  RSASSA-PKCS1-v1_5 with SHA-256); access tokens always use the configured algorithm.
- A key signs under the one algorithm it was made for, the ``alg`` its JWK is published
  with (:mod:`identity.keys.jws_algorithms`): a signer refuses a key of another algorithm.
- Access tokens carry ``iss``, ``sub``, ``aud``, ``exp``, ``iat``, ``jti``, ``client_id`` and
  ``scope`` (RFC 9068 §2.2), and ``auth_time``/``acr`` when a citizen authenticated.
  Client-credentials tokens have no citizen: their ``sub`` is the client id (§2.2).
- ID tokens carry what OIDC Core §2 and §3.1.3.6 ask: ``iss``, ``sub``, ``aud``, ``exp``,
  ``iat``, ``auth_time``, ``nonce`` (when the request had one), ``acr``, ``amr``, ``azp``.
- ``sub`` is pairwise per sector (OIDC Core §8.1, :mod:`identity.oidc.pairwise`).
- Claims about the citizen are limited to the app's allowed claims; the registered claims
  above cannot be overridden by them.

The active key is read from the key store (the database decides, so every worker signs with
the same key) and kept for ``key_refresh`` seconds; after a rotation a worker may sign with
the just-retired key for that long, which verifiers still accept (it stays published).
"""

from __future__ import annotations

import binascii
import json
import os
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, NamedTuple

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign, crypto_sign_seed_keypair

from identity.keys.base64url import b64url_encode
from identity.keys.jws_algorithms import RS256, SIGNING_ALGORITHMS
from identity.keys.signing_keys import PrivateKey, SigningKeyInfo, key_matches
from identity.oidc.pairwise import PairwiseSubjects, SelfSubjects
from identity.relying_party.encoding import check_issuer

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
ID_TOKEN_TYPE = "JWT"  # noqa: S105
#: Authentication context classes (OIDC Core §2 ``acr``) Jati asserts.
ACR_PASSWORD = "urn:jati:acr:password"  # noqa: S105 - an acr value
ACR_MULTI_FACTOR = "urn:jati:acr:mfa"
#: Claims the issuer sets; a citizen claim of the same name is refused.
REGISTERED_CLAIMS = frozenset(
    {
        "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "auth_time",
        "nonce", "acr", "amr", "azp", "at_hash", "c_hash", "sid", "cnf", "status",
    }
)  # fmt: skip

ActiveKey = Callable[[str], tuple[SigningKeyInfo, PrivateKey] | None]


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _refuse_type(value: object) -> Any:
    raise TypeError(f"a {type(value).__name__} is not JSON")


def _json_encoder() -> Callable[[Any], str]:
    """Compact JSON (RFC 8259, UTF-8, no NaN). The C encoder is built once rather than on
    every ``json.dumps`` call: a measurable share of token issuance time."""
    make = json.encoder.c_make_encoder  # type: ignore[attr-defined]
    if make is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
    chunks = make(
        None, _refuse_type, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


_encode_json = _json_encoder()


b2a = binascii.b2a_base64


def new_jti() -> str:
    """128 random bits (RFC 7519 §4.1.7: collisions negligible), base64url."""
    return b64url_encode(os.urandom(16))


class NoSigningKey(RuntimeError):
    """The key store has no active key for the configured algorithm (run ``jati serve``
    once, or ``jati keys rotate``)."""


class WrongKey(ValueError):
    """The key store answered a key published for another algorithm: signing with it would
    give tokens whose header ``alg`` differs from their key's (RFC 7517 §4.4)."""


class JwsSigner:
    """Signs compact JWS with one private key; header segments are computed once per ``typ``."""

    __slots__ = ("_headers", "_sign", "alg", "kid")

    def __init__(self, kid: str, alg: str, private_key: PrivateKey) -> None:
        if not key_matches(alg, private_key):
            raise ValueError(f"the key {kid} cannot sign {alg}")
        if isinstance(private_key, Ed25519PrivateKey):
            self._sign: Callable[[bytes], bytes] = _ed25519_signer(private_key)
        elif isinstance(private_key, ec.EllipticCurvePrivateKey):
            self._sign = _es256_signer(private_key)
        else:
            self._sign = _rs256_signer(private_key)
        self.kid = kid
        self.alg = alg
        self._headers: dict[str, str] = {}

    def sign(self, claims: Mapping[str, Any], *, typ: str) -> str:
        header = self._headers.get(typ)
        if header is None:
            fields = {"alg": self.alg, "kid": self.kid, "typ": typ}
            header = b64url_encode(json.dumps(fields, separators=(",", ":")).encode())
            self._headers[typ] = header
        payload = b2a(_encode_json(claims).encode(), newline=False)
        signing_input = f"{header}.{payload.translate(_URLSAFE).rstrip(b'=').decode()}"
        signature = b2a(self._sign(signing_input.encode()), newline=False)
        return f"{signing_input}.{signature.translate(_URLSAFE).rstrip(b'=').decode()}"


def der_to_raw(der: bytes) -> bytes:
    """A DER ECDSA-Sig-Value (SEC 1 §C.5) of P-256 as RFC 7518 §3.4 ``R || S``."""
    r_len = der[3]
    s_len = der[5 + r_len]
    r = der[4 : 4 + r_len].lstrip(b"\x00").rjust(32, b"\x00")
    s = der[6 + r_len : 6 + r_len + s_len].lstrip(b"\x00").rjust(32, b"\x00")
    return r + s


def _ed25519_signer(key: Ed25519PrivateKey) -> Callable[[bytes], bytes]:
    """Ed25519 signing (RFC 8032 §5.1.6) by libsodium's ``crypto_sign``, which returns the
    64-byte signature followed by the message."""
    secret = crypto_sign_seed_keypair(key.private_bytes_raw())[1]

    def sign(data: bytes) -> bytes:
        return crypto_sign(data, secret)[:64]

    return sign


def _es256_signer(key: ec.EllipticCurvePrivateKey) -> Callable[[bytes], bytes]:
    sign_der = key.sign
    algorithm = ec.ECDSA(hashes.SHA256())

    def sign(data: bytes) -> bytes:
        return der_to_raw(sign_der(data, algorithm))

    return sign


def _rs256_signer(key: rsa.RSAPrivateKey) -> Callable[[bytes], bytes]:
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3, RFC 8017 §8.2.1): deterministic, the
    signature as many octets as the modulus."""
    sign = key.sign
    scheme = padding.PKCS1v15()
    algorithm = hashes.SHA256()

    def signature(data: bytes) -> bytes:
        return sign(data, scheme, algorithm)

    return signature


class ActiveSigner:
    """The signer of the active key for one algorithm, re-read every ``refresh`` seconds.

    The key store is asked for the active key of exactly this algorithm, and a key listed
    under another one is refused (:class:`WrongKey`): what a key signs always carries the
    ``alg`` its JWK is published with."""

    def __init__(
        self,
        active_key: ActiveKey,
        alg: str,
        *,
        refresh: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if alg not in SIGNING_ALGORITHMS:
            raise ValueError(f"unsupported signing algorithm {alg!r}; use {SIGNING_ALGORITHMS}")
        self._active_key = active_key
        self._alg = alg
        self._refresh = refresh
        self._clock = clock
        self._signer: JwsSigner | None = None
        self._until = float("-inf")
        self._lock = threading.Lock()

    @property
    def alg(self) -> str:
        """The header ``alg`` of what this signer signs."""
        return self._alg

    def sibling(self, alg: str) -> ActiveSigner:
        """A signer of the same key store for another algorithm (same refresh and clock)."""
        return ActiveSigner(self._active_key, alg, refresh=self._refresh, clock=self._clock)

    def fresh(self) -> bool:
        """Whether :meth:`current` answers from memory (no read of the active key)."""
        return self._signer is not None and self._clock() < self._until

    def current(self) -> JwsSigner:
        signer = self._signer
        if signer is not None and self._clock() < self._until:
            return signer
        with self._lock:
            if self._signer is None or self._clock() >= self._until:
                found = self._active_key(self._alg)
                if found is None:
                    raise NoSigningKey(f"no active {self._alg} signing key")
                info, private_key = found
                if info.alg != self._alg:
                    raise WrongKey(
                        f"the key {info.kid} is published for {info.alg}, not {self._alg}"
                    )
                if self._signer is None or self._signer.kid != info.kid:
                    self._signer = JwsSigner(info.kid, self._alg, private_key)
                self._until = self._clock() + self._refresh
            return self._signer


class IssuedToken(NamedTuple):
    token: str
    jti: str
    issued_at: int
    expires_at: int


class TokenIssuer:
    """Builds and signs access and ID tokens for relying apps.

    ``signer`` signs access tokens, and ID tokens of apps that registered no
    ``id_token_signed_response_alg``; an ID token for an app that did is signed by a
    :meth:`ActiveSigner.sibling` for that algorithm, made on first use.
    """

    def __init__(
        self,
        *,
        issuer: str,
        signer: ActiveSigner,
        pairwise: PairwiseSubjects,
        self_subjects: SelfSubjects | None = None,
        access_token_lifetime: int = 600,
        id_token_lifetime: int = 600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = check_issuer(issuer)
        self._signer = signer
        self._signers: dict[str, ActiveSigner] = {signer.alg: signer}
        self._pairwise = pairwise
        self._self_subjects = self_subjects
        self.access_token_lifetime = access_token_lifetime
        self.id_token_lifetime = id_token_lifetime
        self._clock = clock

    @property
    def signing_alg(self) -> str:
        """The algorithm of access tokens, and of ID tokens by default."""
        return self._signer.alg

    def _signer_for(self, alg: str | None) -> ActiveSigner:
        if alg is None:
            return self._signer
        signer = self._signers.get(alg)
        if signer is None:
            if alg not in SIGNING_ALGORITHMS:
                raise ValueError(f"unsupported ID token algorithm {alg!r}")
            signer = self._signers.setdefault(alg, self._signer.sibling(alg))
        return signer

    def signs_from_memory(self, id_token_alg: str | None = None) -> bool:
        """Whether signing now needs no read of an active key (:meth:`ActiveSigner.fresh`):
        the access token's, and the ID token's for an app with ``id_token_alg``."""
        return self._signer.fresh() and self._signer_for(id_token_alg).fresh()

    def signs_on_loop(self, id_token_alg: str | None = None) -> bool:
        """Whether an access token and an ID token (``id_token_alg``) can be signed on the
        event loop: both keys in memory and no RSA signature (about a millisecond at 3072
        bits, against tens of microseconds for Ed25519), which goes to a thread."""
        return id_token_alg != RS256 and self.signs_from_memory(id_token_alg)

    def subject(self, subject_id: str, sector_identifier: str) -> str:
        """The pairwise ``sub`` of a citizen for a sector (OIDC Core §8.1)."""
        return self._pairwise.subject(sector_identifier, subject_id)

    def access_token(
        self,
        *,
        client_id: str,
        scope: Sequence[str],
        subject_id: str | None = None,
        sector_identifier: str | None = None,
        audience: str | Sequence[str] | None = None,
        auth_time: int | None = None,
        acr: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> IssuedToken:
        """An RFC 9068 access token.

        ``subject_id`` and ``sector_identifier``: the citizen and the app's sector; without a
        citizen (client credentials) ``sub`` is the client id. ``audience`` defaults to the
        client id (the app is the resource server of its own API). ``extra``: further
        non-registered claims (e.g. a grant id), never citizen attributes.
        """
        if subject_id is None:
            sub = client_id
        elif sector_identifier is None:
            raise ValueError("a citizen's token needs the app's sector identifier")
        else:
            sub = self.subject(subject_id, sector_identifier)
        return self._access_token(sub, client_id, scope, audience, auth_time, acr, extra)

    def _access_token(
        self,
        sub: str,
        client_id: str,
        scope: Sequence[str],
        audience: str | Sequence[str] | None,
        auth_time: int | None,
        acr: str | None,
        extra: Mapping[str, Any] | None,
    ) -> IssuedToken:
        now = int(self._clock())
        jti = new_jti()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": _audience(audience, client_id),
            "exp": now + self.access_token_lifetime,
            "iat": now,
            "jti": jti,
            "client_id": client_id,
            "scope": " ".join(scope),
        }
        if auth_time is not None:
            claims["auth_time"] = auth_time
        if acr is not None:
            claims["acr"] = acr
        if extra:
            _refuse_registered(extra)
            claims.update(extra)
        token = self._signer.current().sign(claims, typ=ACCESS_TOKEN_TYPE)
        return IssuedToken(token, jti, now, claims["exp"])

    def citizen_api_token(
        self,
        *,
        client_id: str,
        subject_id: str,
        scope: Sequence[str],
        auth_time: int | None,
        extra: Mapping[str, Any] | None = None,
    ) -> IssuedToken:
        """An access token for Jati's own citizen API (``aud`` = the issuer, scope ``me``),
        issued to a first-party app: its ``sub`` is the citizen id sealed for Jati alone
        (:class:`identity.oidc.pairwise.SelfSubjects`), so Jati can tell whose data is asked for
        while the app holding the token learns no identifier it could share. ``extra``: as
        for :meth:`access_token` (the token family and consent grants of the code flow)."""
        if self._self_subjects is None:
            raise ValueError("this issuer was built without self subjects")
        sub = self._self_subjects.subject(subject_id)
        return self._access_token(sub, client_id, scope, self.issuer, auth_time, None, extra)

    def id_token(
        self,
        *,
        client_id: str,
        subject_id: str,
        sector_identifier: str,
        auth_time: int,
        acr: str,
        amr: Sequence[str],
        nonce: str | None = None,
        claims: Mapping[str, Any] | None = None,
        allowed_claims: Collection[str] = (),
        alg: str | None = None,
    ) -> IssuedToken:
        """An OIDC ID token (Core §2). ``claims``: the citizen's consented claims; only those
        named in ``allowed_claims`` (what the app may receive) are included. ``alg``: the
        app's ``id_token_signed_response_alg`` (OIDC Registration §2), None for the
        service's algorithm."""
        now = int(self._clock())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "sub": self.subject(subject_id, sector_identifier),
            "aud": client_id,
            "azp": client_id,
            "exp": now + self.id_token_lifetime,
            "iat": now,
            "auth_time": auth_time,
            "acr": acr,
            "amr": list(amr),
        }
        if nonce is not None:
            body["nonce"] = nonce
        if claims:
            _refuse_registered(claims)
            body.update(release(claims, allowed_claims))
        jti = new_jti()
        body["jti"] = jti
        token = self._signer_for(alg).current().sign(body, typ=ID_TOKEN_TYPE)
        return IssuedToken(token, jti, now, body["exp"])


def release(claims: Mapping[str, Any], allowed: Collection[str]) -> dict[str, Any]:
    """The subset of ``claims`` an app may receive (data minimisation, UU PDP Art. 16(2)b)."""
    return {name: value for name, value in claims.items() if name in allowed}


def _refuse_registered(claims: Mapping[str, Any]) -> None:
    clash = REGISTERED_CLAIMS & claims.keys()
    if clash:
        raise ValueError(f"claims {sorted(clash)} are set by the issuer")


def _audience(audience: str | Sequence[str] | None, client_id: str) -> str | list[str]:
    if audience is None:
        return client_id
    if isinstance(audience, str):
        return audience
    return audience[0] if len(audience) == 1 else list(audience)
