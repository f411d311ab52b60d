"""Relying apps: the OAuth 2.0 clients that use Jati (framework-free core).

An operator registers each app (RFC 6749 §2, "Client Registration"; ``jati client add``);
apps never register themselves. Every app is a *confidential* client (RFC 6749 §2.1) and gets
a random, opaque, URL-safe ``client_id`` (§2.2). The metadata carries the names of RFC 7591
§2 (``client_name``, ``redirect_uris``, ``grant_types``, ``response_types``, ``scope``,
``token_endpoint_auth_method``, ``jwks``) and of OIDC Dynamic Client Registration 1.0 §2
(``id_token_signed_response_alg``), plus what Jati adds for UU PDP:

- **Redirect URIs** are registered in full and compared as exact strings (RFC 6749 §3.1.2,
  OAuth 2.0 Security BCP RFC 9700 §2.1 and §4.1): absolute, https, or http only on a loopback
  host (RFC 8252 §7.3, §8.3); no fragment, no wildcard, no user info. Open redirectors and
  code theft through loosely matched URIs start where these rules end.
- **Scopes** come from an allow-list. Authorization-code apps must ask for ``openid``;
  ``audit:read`` belongs only to client-credentials apps (auditors act for no citizen).
- **Allowed claims** follow from the scopes (OIDC Core §5.4), optionally narrowed by the
  operator; nothing outside them is ever released to the app.
- **Sector identifier** (OIDC Core §8.1): the host whose apps share one pairwise ``sub`` per
  citizen. By default the host of the redirect URIs when they share one; otherwise the
  operator must name it (Jati does not fetch a ``sector_identifier_uri``).
- **ID token algorithm** (``id_token_signed_response_alg``): one of
  :data:`~identity.keys.jws_algorithms.ID_TOKEN_ALGORITHMS`, ``RS256`` included for RS256-only
  JOSE libraries (OIDC Discovery §3); None means the service's ``JATI_TOKEN_SIGNING_ALG``.
  Only the ID token follows it; code-flow apps only (no ID token without a citizen).
- **Purposes** ``CODE:BASIS``, each with its legal basis under UU PDP Art. 20(2) (a) consent,
  (b) contract, (c) legal obligation, (d) vital interest, (e) public task, (f) legitimate
  interest. The ``nik`` scope needs at least one: the NIK is confidential (PDP.md). These
  declare a basis, not data items: a claim reaches the app only once a purpose in the
  consent ledger lists its data item (``jati purpose add``); :func:`claims_without_purpose`
  names the claims still uncovered.

Client authentication at the token endpoint (RFC 6749 §2.3):

- ``client_secret_basic`` (RFC 6749 §2.3.1; RFC 7591 §2's default) and ``client_secret_post``
  (the secret in the form body, RFC 6749 §2.3.1, OIDC Core §9): a 256-bit random secret,
  shown once and stored only as an argon2id hash
  (:class:`identity.citizens.passwords.PasswordService`);
  :meth:`ClientRegistry.authenticate_secret` checks it in the same shape for unknown and known
  apps and answers one opaque :class:`~identity.errors.InvalidClient`, also when the secret
  came by the other of the two ways (an app uses the one it registered); a secret verified in
  the last minute is answered from memory (:mod:`identity.oidc.client_secret_cache`); any other
  attempt is throttled per client id and per address before its hash
  (:mod:`identity.oidc.client_throttle`), and hashed on the bounded hashing pool. Both ways alike.
- ``private_key_jwt`` (OIDC Core §9, RFC 7523 §2.2): the app signs a client assertion with a
  key from the JWK Set it registered. Only public Ed25519 (``OKP``) and P-256 (``EC``) keys
  are accepted; a JWK holding private members is refused. ``kid`` defaults to the RFC 7638
  thumbprint.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import builtins
import ipaddress
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.entry import LegalBasis
from consent.purposes import Purpose as ProcessingPurpose
from identity.citizens.passwords import MAX_PASSWORD_BYTES, PasswordService, Verification
from identity.errors import (
    InvalidClient,
    InvalidClientMetadata,
    InvalidRedirectUri,
    NotFound,
    Overloaded,
)
from identity.keys.jwk import jwk_thumbprint
from identity.keys.jws_algorithms import ID_TOKEN_ALGORITHMS
from identity.login.throttle import AttemptKeys
from identity.oidc.claims_release import CLAIM_FIELDS
from identity.oidc.client_secret_cache import VerifiedSecrets
from identity.oidc.client_throttle import ClientAuthThrottle

__all__ = [
    "AUDITOR_SCOPES",
    "KNOWN_SCOPES",
    "LOOPBACK_HOSTS",
    "SCOPE_CLAIMS",
    "ClientRegistry",
    "ClientStore",
    "GrantType",
    "Purpose",
    "Registration",
    "RelyingApp",
    "TokenEndpointAuthMethod",
    "claims_for_scopes",
    "claims_without_purpose",
    "generate_client_id",
    "generate_client_secret",
    "load_jwks",
    "new_relying_app",
    "parse_claims",
    "parse_purpose",
    "parse_scopes",
    "validate_client_name",
    "validate_client_secret",
    "validate_jwks",
    "validate_redirect_uri",
    "validate_sector_identifier",
]

log = logging.getLogger(__name__)

# ------------------------------------------------------------------ allow-lists and limits

#: OIDC Core §5.4: the ``profile`` scope's claims.
_PROFILE_CLAIMS = (
    "name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
    "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
)  # fmt: skip
#: OIDC Core §5.4: the claims each scope requests; ``nik`` and ``me`` are Jati's own.
SCOPE_CLAIMS: Mapping[str, frozenset[str]] = {
    "openid": frozenset(),
    "profile": frozenset(_PROFILE_CLAIMS),
    "email": frozenset({"email", "email_verified"}),
    "address": frozenset({"address"}),
    "phone": frozenset({"phone_number", "phone_number_verified"}),
    "nik": frozenset({"nik"}),
    "me": frozenset(),  # the citizen API (DESIGN.md §4), no claims of its own
    # the SD-JWT VC identity credential (identity.credentials.issuer); the NIK needs ``nik`` too
    "identity_credential": frozenset({"name", "birthdate", "address"}),
    "audit:read": frozenset(),  # auditors (client credentials), no citizen
}
KNOWN_SCOPES: tuple[str, ...] = tuple(SCOPE_CLAIMS)
#: Scopes only client-credentials apps may hold, and the only ones they may hold.
AUDITOR_SCOPES = frozenset({"audit:read"})
#: RFC 8252 §7.3 (loopback IP literals) and §8.3 (``localhost``, tolerated for development).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

MAX_NAME_LENGTH = 120
MAX_REDIRECT_URIS = 20
MAX_REDIRECT_URI_LENGTH = 2000
MAX_PURPOSES = 32
MAX_JWKS_KEYS = 10
MAX_JWKS_BYTES = 64 * 1024
MIN_SECRET_LENGTH = 32  # an operator-supplied secret; generated ones are 43 characters
MAX_CLIENT_ID_LENGTH = 128

#: JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4).
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: The public members Jati stores for a client's key; anything else is refused.
_JWK_MEMBERS = ("kty", "crv", "x", "y", "kid", "alg", "use", "key_ops")
#: kty -> (crv, accepted ``alg`` values, public coordinate members). RSA is not accepted:
#: Jati's allow-list is Ed25519 and P-256 (DESIGN.md §4).
_JWK_TYPES: dict[str, tuple[str, frozenset[str], tuple[str, ...]]] = {
    "OKP": ("Ed25519", frozenset({"EdDSA", "Ed25519"}), ("x",)),
    "EC": ("P-256", frozenset({"ES256"}), ("x", "y")),
}

#: The same shape as an audit entry's purpose code (``audit.entry``), where it is recorded.
_PURPOSE_CODE = re.compile(r"[a-z0-9][a-z0-9._:-]{0,63}")
_LEGAL_BASIS_NAMES = {basis.name.lower(): basis for basis in LegalBasis}
_CLIENT_ID = re.compile(rf"[A-Za-z0-9._~-]{{1,{MAX_CLIENT_ID_LENGTH}}}")
_HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_KID = re.compile(r"[\x21-\x7e]{1,128}")


def _show(value: str, limit: int = 80) -> str:
    """A value quoted for an error line: operator input, cut short, on one line."""
    text = value if len(value) <= limit else value[: limit - 3] + "..."
    return repr(text)


_Choice = TypeVar("_Choice", bound=StrEnum)


def _one_of(choices: type[_Choice], value: str, name: str, limit: int = 80) -> _Choice:
    """``value`` as a member of ``choices``; otherwise the operator's line naming them."""
    try:
        return choices(value)
    except ValueError:
        listed = ", ".join(choice.value for choice in choices)
        raise InvalidClientMetadata(
            f"{name} {_show(str(value), limit)} is not one of {listed}"
        ) from None


# ------------------------------------------------------------------ domain values


class GrantType(StrEnum):
    """RFC 7591 §2 ``grant_types`` values Jati registers."""

    AUTHORIZATION_CODE = "authorization_code"
    CLIENT_CREDENTIALS = "client_credentials"


class TokenEndpointAuthMethod(StrEnum):
    """RFC 7591 §2 ``token_endpoint_auth_method`` values Jati accepts (RFC 6749 §2.3.1, OIDC
    Core §9), in the order discovery lists them."""

    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method name, not a secret
    CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105 - a method name, not a secret
    PRIVATE_KEY_JWT = "private_key_jwt"

    @property
    def uses_secret(self) -> bool:
        """Whether the app authenticates with a client secret (Jati keeps its hash)."""
        return self is not TokenEndpointAuthMethod.PRIVATE_KEY_JWT


@dataclass(frozen=True, slots=True)
class Purpose:
    """A purpose of processing and its legal basis (UU PDP Art. 20(2))."""

    code: str
    legal_basis: LegalBasis

    def __str__(self) -> str:
        return f"{self.code}:{self.legal_basis.value}"


@dataclass(frozen=True, slots=True)
class RelyingApp:
    """A registered app, as the authorization and token endpoints see it. Never a secret.

    ``scopes``, ``allowed_claims`` are sorted; ``redirect_uris`` keep the registered order.
    ``sector_identifier`` is None for client-credentials apps (no citizen, no ``sub``).
    ``jwks`` is the registered public JWK Set (``{"keys": [...]}``) for ``private_key_jwt``
    (compared, not hashed; treat it as read-only). ``id_token_signed_response_alg`` is None
    unless the app registered one: its ID tokens then use the service's algorithm.
    """

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    allowed_claims: tuple[str, ...]
    sector_identifier: str | None
    purposes: tuple[Purpose, ...]
    token_endpoint_auth_method: TokenEndpointAuthMethod
    grant_types: tuple[GrantType, ...]
    jwks: Mapping[str, Any] | None = field(hash=False)
    created_at: datetime
    id_token_signed_response_alg: str | None = None

    @property
    def scope(self) -> str:
        """The RFC 7591 ``scope`` value: space-separated."""
        return " ".join(self.scopes)

    @property
    def response_types(self) -> tuple[str, ...]:
        return ("code",) if GrantType.AUTHORIZATION_CODE in self.grant_types else ()

    def allows_redirect_uri(self, uri: str) -> bool:
        """Exact string comparison with a registered URI (RFC 9700 §4.1.3).

        No normalisation and no loopback port relaxation: RFC 8252 §7.3's "any port" is for
        native public clients, and every Jati app is confidential.
        """
        return uri in self.redirect_uris

    def allows_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def purpose(self, code: str) -> Purpose | None:
        return next((p for p in self.purposes if p.code == code), None)

    def metadata(self) -> dict[str, Any]:
        """The app as RFC 7591 §3.2.1 client information, without any secret or hash."""
        data: dict[str, Any] = {
            "client_id": self.client_id,
            "client_name": self.name,
            "client_id_issued_at": int(self.created_at.timestamp()),
            "grant_types": [g.value for g in self.grant_types],
            "response_types": list(self.response_types),
            "redirect_uris": list(self.redirect_uris),
            "scope": self.scope,
            "token_endpoint_auth_method": self.token_endpoint_auth_method.value,
            "allowed_claims": list(self.allowed_claims),
            "purposes": [
                {"code": p.code, "legal_basis": p.legal_basis.value} for p in self.purposes
            ],
        }
        if self.sector_identifier is not None:
            data["subject_type"] = "pairwise"
            data["sector_identifier"] = self.sector_identifier
        if self.jwks is not None:
            data["jwks"] = json.loads(json.dumps(self.jwks))
        if self.id_token_signed_response_alg is not None:
            data["id_token_signed_response_alg"] = self.id_token_signed_response_alg
        return data


@dataclass(frozen=True, slots=True)
class Registration:
    """What :meth:`ClientRegistry.register` returns: the app, and the secret it generated.

    ``client_secret`` is set only when Jati generated it: show it to the operator once; only
    its hash is kept.
    """

    app: RelyingApp
    client_secret: str | None = field(default=None, repr=False)


# ------------------------------------------------------------------ validation


def generate_client_id() -> str:
    """160 random bits, lower-case base32: opaque, URL-safe (RFC 6749 §2.2), and a valid
    audit actor id."""
    return base64.b32encode(secrets.token_bytes(20)).decode().lower()


def generate_client_secret() -> str:
    """256 random bits, base64url (43 characters)."""
    return secrets.token_urlsafe(32)


def validate_client_name(name: str) -> str:
    """RFC 7591 ``client_name``: 1-120 printable characters, shown to citizens."""
    name = name.strip()
    if not name:
        raise InvalidClientMetadata("the client name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidClientMetadata(f"the client name is at most {MAX_NAME_LENGTH} characters")
    if any(not ch.isprintable() for ch in name):
        raise InvalidClientMetadata("the client name must not contain control characters")
    return name


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return len(host) <= 253 and _HOSTNAME.fullmatch(host) is not None
    return True


def validate_redirect_uri(uri: str) -> str:
    """Check one redirect URI (RFC 6749 §3.1.2, RFC 9700 §2.1, RFC 8252 §7.3/§8.3).

    Returns the URI unchanged: it is stored and later compared as an exact string.

    Raises:
        InvalidRedirectUri: not absolute, not https (http only on 127.0.0.1, [::1] or
            localhost), with a fragment, a wildcard, user info, a bad host or port, or
            characters that need percent-encoding.
    """
    shown = _show(uri)
    if not uri:
        raise InvalidRedirectUri("a redirect URI cannot be empty")
    if len(uri) > MAX_REDIRECT_URI_LENGTH:
        raise InvalidRedirectUri(
            f"redirect URI {shown} is longer than {MAX_REDIRECT_URI_LENGTH} characters"
        )
    if not uri.isascii() or any(ch.isspace() or not ch.isprintable() for ch in uri):
        raise InvalidRedirectUri(
            f"redirect URI {shown} contains spaces, control or non-ASCII characters "
            "(percent-encode them)"
        )
    if "*" in uri:
        raise InvalidRedirectUri(
            f"redirect URI {shown} contains a wildcard; register each exact URI (RFC 9700 §2.1)"
        )
    if "#" in uri:
        raise InvalidRedirectUri(
            f"redirect URI {shown} has a fragment, which RFC 6749 §3.1.2 forbids"
        )
    parts = urlsplit(uri)
    if not parts.scheme or not parts.netloc:
        raise InvalidRedirectUri(
            f"redirect URI {shown} is not an absolute URI (e.g. https://app.example.go.id/cb)"
        )
    if "@" in parts.netloc:
        raise InvalidRedirectUri(f"redirect URI {shown} must not contain user information")
    host = parts.hostname
    try:
        parts.port  # noqa: B018 - parsing it validates it
    except ValueError:
        raise InvalidRedirectUri(f"redirect URI {shown} has an invalid port") from None
    if not host or not _valid_host(host):
        raise InvalidRedirectUri(f"redirect URI {shown} has an invalid host")
    if parts.scheme == "http":
        if host not in LOOPBACK_HOSTS:
            raise InvalidRedirectUri(
                f"redirect URI {shown} uses http: use https (http only on loopback: "
                "127.0.0.1, [::1], localhost; RFC 8252 §7.3)"
            )
    elif parts.scheme != "https":
        raise InvalidRedirectUri(
            f"redirect URI {shown} has scheme {parts.scheme!r}; use https (or http on loopback)"
        )
    return uri


def parse_scopes(scope: str | Iterable[str]) -> tuple[str, ...]:
    """Space-separated scope tokens (RFC 6749 §3.3) from the allow-list, sorted, unique."""
    text = scope if isinstance(scope, str) else " ".join(scope)
    tokens = sorted(set(text.split()))
    if not tokens:
        raise InvalidClientMetadata("give at least one scope, e.g. --scope 'openid profile'")
    for token in tokens:
        if token not in SCOPE_CLAIMS:
            raise InvalidClientMetadata(
                f"unknown scope {_show(token)}; known scopes: {' '.join(KNOWN_SCOPES)}"
            )
    return tuple(tokens)


def claims_for_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The claims the scopes request (OIDC Core §5.4)."""
    claims: set[str] = set()
    for scope in scopes:
        claims |= SCOPE_CLAIMS[scope]
    return frozenset(claims)


def claims_without_purpose(
    app: RelyingApp, purposes: Iterable[ProcessingPurpose]
) -> tuple[str, ...]:
    """The claims the app may ask for that no purpose of processing covers, sorted.

    A claim is released only under a purpose whose data items include the claim's personal
    field (:data:`identity.oidc.claims_release.CLAIM_FIELDS`: ``phone_number`` is the item
    ``phone``), on that purpose's legal basis (UU PDP Art. 20(2)). A claim no purpose covers is
    never released, and the consent screen does not ask for it: the app silently receives ``sub``
    alone. ``purposes`` are the app's purposes in the consent ledger (``jati purpose add``);
    a ``CODE:BASIS`` declared at registration names no data item and covers nothing. The
    claims Jati never releases (``email_verified``, ``locale``, ...) are not listed, since
    no purpose would change that; claims narrowed away (``--claims``) are not asked for.
    """
    covered: set[str] = set()
    for purpose in purposes:
        covered |= purpose.item_names
    return tuple(
        claim
        for claim in app.allowed_claims
        if claim in CLAIM_FIELDS and CLAIM_FIELDS[claim] not in covered
    )


def parse_claims(claims: str | Iterable[str]) -> tuple[str, ...]:
    """Claim names separated by spaces or commas, sorted, unique."""
    text = claims if isinstance(claims, str) else " ".join(claims)
    return tuple(sorted({c for c in re.split(r"[\s,]+", text) if c}))


def parse_purpose(text: str) -> Purpose:
    """``CODE:BASIS``: a purpose code and its UU PDP Art. 20(2) legal basis, as the letter
    (``a``-``f``) or its name (``consent``, ``contract``, ``legal_obligation``,
    ``vital_interest``, ``public_task``, ``legitimate_interest``)."""
    code, sep, basis_text = text.strip().rpartition(":")
    if not sep or not code:
        raise InvalidClientMetadata(f"purpose {_show(text)} must be CODE:BASIS, e.g. social-aid:e")
    if not _PURPOSE_CODE.fullmatch(code):
        raise InvalidClientMetadata(
            f"purpose code {_show(code)} must be 1-64 characters of a-z 0-9 . _ : - "
            "starting with a letter or digit"
        )
    key = basis_text.strip().lower().replace("-", "_")
    try:
        basis = LegalBasis(key)
    except ValueError:
        basis_or_none = _LEGAL_BASIS_NAMES.get(key)
        if basis_or_none is None:
            choices = ", ".join(f"{b.value} ({b.name.lower()})" for b in LegalBasis)
            raise InvalidClientMetadata(
                f"purpose {_show(code)}: legal basis {_show(basis_text)} is not one of "
                f"UU PDP Art. 20(2): {choices}"
            ) from None
        basis = basis_or_none
    return Purpose(code=code, legal_basis=basis)


def validate_sector_identifier(value: str) -> str:
    """OIDC Core §8.1: the sector is a host. Accepts a host or an https URL (its host)."""
    text = value.strip()
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme != "https" or not parts.hostname:
            raise InvalidClientMetadata(
                f"sector identifier {_show(value)}: give a host, or an https URL"
            )
        text = parts.hostname
    host = text.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not _valid_host(host):
        raise InvalidClientMetadata(
            f"sector identifier {_show(value)} is not a host name (e.g. dinsos.example.go.id)"
        )
    return host


def validate_client_secret(secret: str) -> str:
    """An operator-supplied ``client_secret``: high-entropy, printable ASCII (RFC 6749
    §10.10 asks for secrets attackers cannot guess)."""
    if len(secret) < MIN_SECRET_LENGTH:
        raise InvalidClientMetadata(
            f"the client secret is shorter than {MIN_SECRET_LENGTH} characters; "
            "omit --secret-stdin and Jati generates a 256-bit one"
        )
    if len(secret.encode()) > MAX_PASSWORD_BYTES:
        raise InvalidClientMetadata(f"the client secret is longer than {MAX_PASSWORD_BYTES} bytes")
    if not all("\x21" <= ch <= "\x7e" for ch in secret):
        raise InvalidClientMetadata("the client secret must be printable ASCII without spaces")
    if len(set(secret)) < 8:
        raise InvalidClientMetadata(
            "the client secret looks like a placeholder (too few distinct characters)"
        )
    return secret


def _b64url_bytes(value: object, label: str, size: int) -> bytes:
    if not isinstance(value, str) or not _B64URL.fullmatch(value):
        raise InvalidClientMetadata(f"{label} must be unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidClientMetadata(f"{label} must be unpadded base64url") from None
    if len(raw) != size or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != value:
        raise InvalidClientMetadata(f"{label} must encode exactly {size} bytes")
    return raw


def _validate_jwk(jwk: object, label: str) -> dict[str, Any]:
    if not isinstance(jwk, Mapping):
        raise InvalidClientMetadata(f"{label} is not a JSON object")
    private = sorted(PRIVATE_JWK_MEMBERS & set(jwk))
    if private:
        raise InvalidClientMetadata(
            f"{label} holds private key material ({', '.join(private)}): register public keys "
            "only, and treat that private key as exposed"
        )
    kty = jwk.get("kty")
    if not isinstance(kty, str) or kty not in _JWK_TYPES:
        raise InvalidClientMetadata(
            f"{label}: kty {_show(str(kty), 20)} is not accepted; use OKP (Ed25519) or EC (P-256)"
        )
    unknown = sorted(set(jwk) - set(_JWK_MEMBERS))
    if unknown:
        raise InvalidClientMetadata(
            f"{label} has unsupported members ({', '.join(unknown)}); "
            f"allowed: {', '.join(_JWK_MEMBERS)}"
        )
    crv, algs, coordinates = _JWK_TYPES[kty]
    if jwk.get("crv") != crv:
        raise InvalidClientMetadata(f"{label}: kty {kty} needs crv {crv}")
    raw = [_b64url_bytes(jwk.get(name), f"{label} member {name!r}", 32) for name in coordinates]
    try:
        if kty == "OKP":
            Ed25519PublicKey.from_public_bytes(raw[0])
        else:
            ec.EllipticCurvePublicNumbers(
                int.from_bytes(raw[0], "big"), int.from_bytes(raw[1], "big"), ec.SECP256R1()
            ).public_key()
    except ValueError:
        raise InvalidClientMetadata(f"{label} is not a valid {crv} public key") from None
    alg = jwk.get("alg")
    if alg is not None and alg not in algs:
        raise InvalidClientMetadata(
            f"{label}: alg {_show(str(alg), 20)} does not fit a {crv} key; "
            f"use {' or '.join(sorted(algs))}"
        )
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise InvalidClientMetadata(f"{label}: use must be 'sig' (client assertions are signed)")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (
        not isinstance(key_ops, list) or not set(key_ops) <= {"verify"} or not key_ops
    ):
        raise InvalidClientMetadata(f"{label}: key_ops may only be ['verify']")
    public = {name: jwk[name] for name in ("kty", "crv", *coordinates)}
    kid = jwk.get("kid")
    if kid is None:
        kid = jwk_thumbprint(public)
    elif not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise InvalidClientMetadata(f"{label}: kid must be 1-128 printable ASCII characters")
    normalized = {name: jwk[name] for name in _JWK_MEMBERS if name in jwk}
    normalized["kid"] = kid
    return normalized


def validate_jwks(document: object) -> dict[str, Any]:
    """A client's JWK Set (RFC 7517 §5) for ``private_key_jwt`` (RFC 7523 §2.2).

    Every key must be public (no ``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``, ``oth``, ``k``),
    Ed25519 (``OKP``) or P-256 (``EC``) with a valid point, at most ``MAX_JWKS_KEYS`` of them,
    without duplicates. A key without ``kid`` gets its RFC 7638 thumbprint. Returns the set
    with only the members Jati uses.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise InvalidClientMetadata('the JWKS must be a JWK Set: {"keys": [...]} (RFC 7517 §5)')
    keys: list[Any] = document["keys"]
    if not keys:
        raise InvalidClientMetadata("the JWKS holds no key")
    if len(keys) > MAX_JWKS_KEYS:
        raise InvalidClientMetadata(f"the JWKS holds {len(keys)} keys; at most {MAX_JWKS_KEYS}")
    normalized: list[dict[str, Any]] = []
    kids: set[str] = set()
    thumbprints: set[str] = set()
    for number, jwk in enumerate(keys, start=1):
        key = _validate_jwk(jwk, f"JWKS key {number}")
        thumbprint = jwk_thumbprint(key)
        if thumbprint in thumbprints:
            raise InvalidClientMetadata(f"JWKS key {number} repeats an earlier key")
        if key["kid"] in kids:
            raise InvalidClientMetadata(f"JWKS key {number}: kid {key['kid']!r} is used twice")
        thumbprints.add(thumbprint)
        kids.add(key["kid"])
        normalized.append(key)
    return {"keys": normalized}


def _no_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise InvalidClientMetadata("the JWKS repeats a member name in one object")
    return dict(pairs)


def load_jwks(raw: bytes | str) -> dict[str, Any]:
    """Parse and validate a JWKS document (a file's content): size limit, strict JSON."""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_JWKS_BYTES:
        raise InvalidClientMetadata(f"the JWKS file is larger than {MAX_JWKS_BYTES} bytes")
    try:
        document = json.loads(data, object_pairs_hook=_no_duplicate_members)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise InvalidClientMetadata(f"the JWKS file is not valid JSON{where}") from None
    return validate_jwks(document)


def _check_purposes(purposes: Iterable[Purpose | str]) -> tuple[Purpose, ...]:
    parsed = tuple(p if isinstance(p, Purpose) else parse_purpose(p) for p in purposes)
    if len(parsed) > MAX_PURPOSES:
        raise InvalidClientMetadata(f"at most {MAX_PURPOSES} purposes")
    seen: set[str] = set()
    for purpose in parsed:
        if purpose.code in seen:
            raise InvalidClientMetadata(f"purpose {_show(purpose.code)} is listed twice")
        seen.add(purpose.code)
    return tuple(sorted(parsed, key=lambda p: p.code))


def _check_redirect_uris(redirect_uris: Iterable[str]) -> tuple[str, ...]:
    uris: list[str] = []
    for uri in redirect_uris:
        checked = validate_redirect_uri(uri)
        if checked not in uris:
            uris.append(checked)
    if len(uris) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUri(f"at most {MAX_REDIRECT_URIS} redirect URIs")
    return tuple(uris)


def _check_auditor_app(
    scopes: tuple[str, ...], uris: tuple[str, ...], sector_identifier: str | None
) -> None:
    if set(scopes) - AUDITOR_SCOPES:
        raise InvalidClientMetadata(
            "a client_credentials app acts for no citizen: its only scope is audit:read"
        )
    if uris:
        raise InvalidRedirectUri(
            "a client_credentials app has no redirect URIs (it does not sign citizens in)"
        )
    if sector_identifier is not None:
        raise InvalidClientMetadata(
            "a client_credentials app has no sector identifier (it receives no sub)"
        )


def _check_code_flow_app(
    scopes: tuple[str, ...], uris: tuple[str, ...], sector_identifier: str | None
) -> str:
    """Scopes and redirect URIs of an authorization code app; returns its sector."""
    if "openid" not in scopes:
        raise InvalidClientMetadata(
            "an authorization code app must include the openid scope (OpenID Connect)"
        )
    auditor = sorted(set(scopes) & AUDITOR_SCOPES)
    if auditor:
        raise InvalidClientMetadata(
            f"scope {auditor[0]} is only for auditor apps (--grant-type client_credentials)"
        )
    if not uris:
        raise InvalidRedirectUri("an authorization code app needs at least one --redirect-uri")
    if sector_identifier is not None:
        return validate_sector_identifier(sector_identifier)
    hosts = sorted({(urlsplit(u).hostname or "").lower() for u in uris})
    if len(hosts) != 1:
        raise InvalidClientMetadata(
            f"the redirect URIs are on {len(hosts)} hosts ({', '.join(hosts)}): give "
            "--sector HOST, the sector whose apps share a pairwise sub (OIDC Core §8.1)"
        )
    return validate_sector_identifier(hosts[0])


def _allowed_claims(scopes: tuple[str, ...], claims: str | Iterable[str] | None) -> tuple[str, ...]:
    derived = claims_for_scopes(scopes)
    if claims is None:
        return tuple(sorted(derived))
    allowed = parse_claims(claims)
    if not allowed:
        raise InvalidClientMetadata("--claims names no claim")
    for claim in allowed:
        if claim not in derived:
            available = " ".join(sorted(derived)) or "none"
            raise InvalidClientMetadata(
                f"claim {_show(claim)} is not requested by the scopes ({' '.join(scopes)}); "
                f"they allow: {available}"
            )
    return allowed


def new_relying_app(
    *,
    client_id: str,
    created_at: datetime,
    name: str,
    scope: str | Iterable[str],
    redirect_uris: Sequence[str] = (),
    grant_type: GrantType | str = GrantType.AUTHORIZATION_CODE,
    sector_identifier: str | None = None,
    jwks: Mapping[str, Any] | None = None,
    purposes: Iterable[Purpose | str] = (),
    claims: str | Iterable[str] | None = None,
    id_token_signed_response_alg: str | None = None,
    token_endpoint_auth_method: TokenEndpointAuthMethod | str | None = None,
) -> RelyingApp:
    """Validate registration metadata into a :class:`RelyingApp` (pure; nothing stored).

    ``token_endpoint_auth_method`` None means the one the material implies: ``jwks`` ->
    ``private_key_jwt``, otherwise ``client_secret_basic`` (RFC 7591 §2's default).

    Raises:
        InvalidClientMetadata: the first problem found, as one line an operator can act on
            (:class:`~identity.errors.InvalidRedirectUri` for a redirect URI).
    """
    grant = _one_of(GrantType, grant_type, "grant type")
    app_name = validate_client_name(name)
    scopes = parse_scopes(scope)
    checked_purposes = _check_purposes(purposes)
    uris = _check_redirect_uris(redirect_uris)
    sector: str | None = None
    if grant is GrantType.CLIENT_CREDENTIALS:
        _check_auditor_app(scopes, uris, sector_identifier)
    else:
        sector = _check_code_flow_app(scopes, uris, sector_identifier)
    if "nik" in scopes and not checked_purposes:
        raise InvalidClientMetadata(
            "the nik scope needs at least one --purpose CODE:BASIS naming its legal basis "
            "(UU PDP Art. 20(2)); the NIK is confidential"
        )
    allowed = _allowed_claims(scopes, claims)
    _check_id_token_alg(id_token_signed_response_alg, grant)
    method = _auth_method(token_endpoint_auth_method, has_jwks=jwks is not None)
    checked_jwks = validate_jwks(jwks) if jwks is not None else None
    return RelyingApp(
        client_id=client_id,
        name=app_name,
        redirect_uris=uris,
        scopes=scopes,
        allowed_claims=allowed,
        sector_identifier=sector,
        purposes=checked_purposes,
        token_endpoint_auth_method=method,
        grant_types=(grant,),
        jwks=checked_jwks,
        created_at=created_at,
        id_token_signed_response_alg=id_token_signed_response_alg,
    )


def _auth_method(
    requested: TokenEndpointAuthMethod | str | None, *, has_jwks: bool
) -> TokenEndpointAuthMethod:
    """RFC 7591 §2 ``token_endpoint_auth_method``, checked against the material registered:
    a JWK Set is ``private_key_jwt`` and nothing else; a secret method takes no JWK Set."""
    if requested is None:
        if has_jwks:
            return TokenEndpointAuthMethod.PRIVATE_KEY_JWT
        return TokenEndpointAuthMethod.CLIENT_SECRET_BASIC
    method = _one_of(TokenEndpointAuthMethod, requested, "token_endpoint_auth_method", 40)
    if method is TokenEndpointAuthMethod.PRIVATE_KEY_JWT and not has_jwks:
        raise InvalidClientMetadata(
            "token_endpoint_auth_method private_key_jwt needs the app's public keys: "
            "give --jwks-file"
        )
    if method.uses_secret and has_jwks:
        raise InvalidClientMetadata(
            "a JWKS (--jwks-file) means private_key_jwt, which contradicts "
            f"token_endpoint_auth_method {method.value}"
        )
    return method


def _check_id_token_alg(alg: str | None, grant: GrantType) -> None:
    """OIDC Dynamic Client Registration 1.0 §2 ``id_token_signed_response_alg``: one of
    Jati's ID token algorithms (never ``none``), for an app that receives ID tokens."""
    if alg is None:
        return
    if alg not in ID_TOKEN_ALGORITHMS:
        raise InvalidClientMetadata(
            f"id_token_signed_response_alg {_show(str(alg), 20)} is not one of "
            f"{', '.join(ID_TOKEN_ALGORITHMS)}"
        )
    if grant is GrantType.CLIENT_CREDENTIALS:
        raise InvalidClientMetadata(
            "id_token_signed_response_alg is for code-flow apps: client_credentials apps "
            "receive no ID token"
        )


# ------------------------------------------------------------------ the service


class ClientStore(Protocol):
    """Where registered apps live (:class:`identity.storage.clients.SqlClientStore`)."""

    def add(self, app: RelyingApp, *, secret_hash: str | None) -> None: ...

    def get(self, client_id: str) -> RelyingApp | None: ...

    def get_with_secret_hash(self, client_id: str) -> tuple[RelyingApp, str | None] | None: ...

    def list(self) -> builtins.list[RelyingApp]: ...

    def replace_secret_hash(self, client_id: str, secret_hash: str) -> None: ...


@dataclass(frozen=True, slots=True)
class _SecretAttempt:
    """A secret check between its reservation and its outcome (the hash runs between)."""

    client_id: str
    method: TokenEndpointAuthMethod
    address: str | None
    keys: AttemptKeys | None
    now: datetime
    well_formed: bool
    app: RelyingApp | None
    stored_hash: str | None = field(repr=False)


class ClientRegistry:
    """Registers relying apps and authenticates them by secret.

    Args:
        store: where apps are kept.
        passwords: argon2id hashing for client secrets (the same profiles as passwords).
        clock: returns the current UTC time; read once per registration.
        verified_secrets: secrets verified a moment ago, answered from memory
            (:mod:`identity.oidc.client_secret_cache`; by default for
            :data:`~identity.oidc.client_secret_cache.SECRET_CACHE_TTL` seconds, ``ttl=0`` to
            verify every time).
        throttle: counts secret checks per client id and per address before their hash
            (:mod:`identity.oidc.client_throttle`); None only for operator tools and tests.
    """

    def __init__(
        self,
        *,
        store: ClientStore,
        passwords: PasswordService,
        clock: Callable[[], datetime],
        verified_secrets: VerifiedSecrets[RelyingApp] | None = None,
        throttle: ClientAuthThrottle | None = None,
    ) -> None:
        self.store = store
        self.passwords = passwords
        self.clock = clock
        self.verified_secrets: VerifiedSecrets[RelyingApp] = (
            verified_secrets if verified_secrets is not None else VerifiedSecrets()
        )
        self.throttle = throttle

    def register(
        self,
        *,
        name: str,
        scope: str | Iterable[str],
        redirect_uris: Sequence[str] = (),
        grant_type: GrantType | str = GrantType.AUTHORIZATION_CODE,
        sector_identifier: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        client_secret: str | None = None,
        purposes: Iterable[Purpose | str] = (),
        claims: str | Iterable[str] | None = None,
        id_token_signed_response_alg: str | None = None,
        token_endpoint_auth_method: TokenEndpointAuthMethod | str | None = None,
    ) -> Registration:
        """Validate and store a new app; nothing is stored when any check fails.

        Authentication (``token_endpoint_auth_method``, by default implied): ``jwks`` ->
        ``private_key_jwt``; otherwise ``client_secret_basic`` (or ``client_secret_post`` when
        asked for) with ``client_secret`` (operator-supplied, not echoed back) or, when None,
        a generated 256-bit secret returned once in :attr:`Registration.client_secret`.

        Raises:
            InvalidClientMetadata: see :func:`new_relying_app` and
                :func:`validate_client_secret`; also when ``client_secret`` is given with
                ``jwks`` or with ``private_key_jwt``.
        """
        if client_secret is not None and (
            jwks is not None
            or token_endpoint_auth_method == TokenEndpointAuthMethod.PRIVATE_KEY_JWT
        ):
            raise InvalidClientMetadata(
                "choose one authentication: a JWKS (private_key_jwt) or a client secret"
            )
        app = new_relying_app(
            client_id=generate_client_id(),
            created_at=self.clock(),
            name=name,
            scope=scope,
            redirect_uris=redirect_uris,
            grant_type=grant_type,
            sector_identifier=sector_identifier,
            jwks=jwks,
            purposes=purposes,
            claims=claims,
            id_token_signed_response_alg=id_token_signed_response_alg,
            token_endpoint_auth_method=token_endpoint_auth_method,
        )
        generated: str | None = None
        secret_hash: str | None = None
        if app.token_endpoint_auth_method.uses_secret:
            if client_secret is None:
                generated = client_secret = generate_client_secret()
            secret_hash = self.passwords.hash(validate_client_secret(client_secret))
        self.store.add(app, secret_hash=secret_hash)
        log.debug(
            "relying app registered: %s (%s, %s)",
            app.client_id,
            app.grant_types[0].value,
            app.token_endpoint_auth_method.value,
        )
        return Registration(app=app, client_secret=generated)

    def get(self, client_id: str) -> RelyingApp:
        """The app with ``client_id``.

        Raises:
            NotFound: no such app.
        """
        app = self.store.get(client_id) if _CLIENT_ID.fullmatch(client_id) else None
        if app is None:
            raise NotFound(f"no relying app with client_id {_show(client_id)}")
        return app

    def authenticate_secret(
        self,
        client_id: str,
        client_secret: str,
        *,
        address: str | None = None,
        method: TokenEndpointAuthMethod = TokenEndpointAuthMethod.CLIENT_SECRET_BASIC,
    ) -> RelyingApp:
        """RFC 6749 §2.3.1: the app whose secret this is, sent the way ``method`` says
        (``client_secret_basic``: the Authorization header; ``client_secret_post``: the form
        body).

        Unknown apps, apps registered for another method (``private_key_jwt``, or the other
        of the two secret methods: an app sends its secret only the way it registered,
        RFC 6749 §2.3) and wrong secrets all cost one database read and one argon2
        verification (against a dummy hash when there is no stored one) and all raise the
        same :class:`~identity.errors.InvalidClient`; the reason is logged, never the
        secret. A hash made with older parameters is replaced (rehash on success). A secret
        verified less than a minute ago (the cache's ``ttl``) by the same method is answered
        from memory (:mod:`identity.oidc.client_secret_cache`: an HMAC under a process-random
        key, compared in constant time; a secret rotated away in the database works at most
        that much longer). Any other attempt from ``address`` is first counted per client id
        and per address (:mod:`identity.oidc.client_throttle`); without an address (operator
        tools) it is not.

        Raises:
            InvalidClient: any reason, one answer.
            Throttled: the client id or the address is locked; nothing was hashed.

        Danger: argon2 takes tens of milliseconds; from async code use
        :meth:`authenticate_secret_async`.
        """
        cached = self._cached(client_id, client_secret, method)
        if cached is not None:
            return cached
        attempt = self._begin(client_id, method, address, self._keys(client_id, address))
        verification = self.passwords.verify(attempt.stored_hash, client_secret)
        return self._settle(attempt, client_secret, verification)

    async def authenticate_secret_async(
        self,
        client_id: str,
        client_secret: str,
        *,
        address: str,
        method: TokenEndpointAuthMethod = TokenEndpointAuthMethod.CLIENT_SECRET_BASIC,
    ) -> RelyingApp:
        """:meth:`authenticate_secret` off the event loop. A secret verified a moment ago is
        answered at once (an HMAC and a dictionary look-up: no database, no throttle); a
        client id or address this worker knows to be locked is refused at once too. Anything
        else reserves its attempt and reads the app in a worker thread, hashes on the bounded
        hashing pool, and records the outcome in a worker thread.

        Raises:
            InvalidClient; Throttled (no hash); Overloaded: the hashing pool is full (the
                attempt is not counted).
        """
        cached = self._cached(client_id, client_secret, method)
        if cached is not None:
            return cached
        keys = self._keys(client_id, address)
        if self.throttle is not None and keys is not None:
            self.throttle.check_remembered(keys, now=self.clock())
        attempt = await asyncio.to_thread(self._begin, client_id, method, address, keys)
        try:
            verification = await self.passwords.verify_async(attempt.stored_hash, client_secret)
        except Overloaded:
            if self.throttle is not None and attempt.keys is not None:
                await asyncio.to_thread(self.throttle.cancelled, attempt.keys, now=attempt.now)
            raise
        return await asyncio.to_thread(self._settle, attempt, client_secret, verification)

    def _cached(
        self, client_id: str, client_secret: str, method: TokenEndpointAuthMethod
    ) -> RelyingApp | None:
        """The app a moment ago verified with this secret, if it registered ``method`` (the
        other way of sending it takes the full, counted path, and fails there)."""
        if _CLIENT_ID.fullmatch(client_id) is None:
            return None
        app = self.verified_secrets.app_for(client_id, client_secret)
        if app is None or app.token_endpoint_auth_method is not method:
            return None
        return app

    def _keys(self, client_id: str, address: str | None) -> AttemptKeys | None:
        if self.throttle is None or address is None:
            return None
        return self.throttle.keys(client_id, address, now=self.clock())

    def _begin(
        self,
        client_id: str,
        method: TokenEndpointAuthMethod,
        address: str | None,
        keys: AttemptKeys | None,
    ) -> _SecretAttempt:
        """Reserve the attempt (raises Throttled before any hash), then read the app."""
        now = self.clock()
        if self.throttle is not None and keys is not None:
            self.throttle.reserve(keys, now=now)
        well_formed = _CLIENT_ID.fullmatch(client_id) is not None
        found = self.store.get_with_secret_hash(client_id) if well_formed else None
        app, stored_hash = found if found is not None else (None, None)
        return _SecretAttempt(client_id, method, address, keys, now, well_formed, app, stored_hash)

    def _settle(
        self, attempt: _SecretAttempt, client_secret: str, verification: Verification
    ) -> RelyingApp:
        """Count the outcome; on success store a rehash and remember the secret."""
        app, stored_hash = attempt.app, attempt.stored_hash
        counted = self.throttle is not None and attempt.keys is not None
        other_method = app is not None and app.token_endpoint_auth_method is not attempt.method
        if app is None or stored_hash is None or other_method or not verification.ok:
            if not attempt.well_formed:
                reason = "malformed client_id"
            elif app is None:
                reason = "unknown client_id"
            elif stored_hash is None or other_method:
                reason = (
                    f"{app.client_id} authenticates with {app.token_endpoint_auth_method},"
                    f" not {attempt.method}"
                )
            else:
                reason = f"wrong secret for {app.client_id}"
            log.info("client authentication failed: %s", reason)
            if counted:
                assert self.throttle is not None and attempt.keys is not None
                self.throttle.failed(attempt.keys, now=attempt.now)
            raise InvalidClient("invalid client credentials")
        if verification.new_hash is not None:
            self.store.replace_secret_hash(app.client_id, verification.new_hash)
        if counted:
            assert self.throttle is not None and attempt.keys is not None
            assert attempt.address is not None
            self.throttle.succeeded(
                attempt.client_id, attempt.address, attempt.keys, now=attempt.now
            )
        self.verified_secrets.remember(app.client_id, client_secret, app)
        return app

    def list(self) -> builtins.list[RelyingApp]:
        """Every registered app, oldest first (no secrets: apps never carry them)."""
        return self.store.list()
