"""Relying-app metadata (RFC 7591 §2, OIDC Dynamic Client Registration 1.0 §2) checked
into a :class:`~identity.oidc.clients.RelyingApp` (framework-free, pure: nothing stored).

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
  consent ledger lists its data item (``jati purpose add``);
  :func:`identity.oidc.clients.claims_without_purpose` names the claims still uncovered.
- **Authentication** (``token_endpoint_auth_method``): a JWK Set
  (:mod:`identity.oidc.client_jwks`) means ``private_key_jwt``; otherwise
  ``client_secret_basic`` (RFC 7591 §2's default) or ``client_secret_post``, with a secret
  (:func:`validate_client_secret` for one the operator supplies).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

from audit.entry import LegalBasis
from identity.citizens.passwords import MAX_PASSWORD_BYTES
from identity.errors import InvalidClientMetadata, InvalidRedirectUri
from identity.keys.jws_algorithms import ID_TOKEN_ALGORITHMS
from identity.oidc.client_jwks import validate_jwks
from identity.oidc.clients import (
    AUDITOR_SCOPES,
    KNOWN_SCOPES,
    SCOPE_CLAIMS,
    GrantType,
    Purpose,
    RelyingApp,
    TokenEndpointAuthMethod,
    claims_for_scopes,
    quoted,
)

__all__ = [
    "LOOPBACK_HOSTS",
    "new_relying_app",
    "parse_claims",
    "parse_purpose",
    "parse_scopes",
    "replacement_redirect_uris",
    "validate_client_name",
    "validate_client_secret",
    "validate_redirect_uri",
    "validate_sector_identifier",
]

#: RFC 8252 §7.3 (loopback IP literals) and §8.3 (``localhost``, tolerated for development).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

MAX_NAME_LENGTH = 120
MAX_REDIRECT_URIS = 20
MAX_REDIRECT_URI_LENGTH = 2000
MAX_PURPOSES = 32
MIN_SECRET_LENGTH = 32  # an operator-supplied secret; generated ones are 43 characters

#: The same shape as an audit entry's purpose code (``audit.entry``), where it is recorded.
_PURPOSE_CODE = re.compile(r"[a-z0-9][a-z0-9._:-]{0,63}")
_LEGAL_BASIS_NAMES = {basis.name.lower(): basis for basis in LegalBasis}
_HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*")


_Choice = TypeVar("_Choice", bound=StrEnum)


def _one_of(choices: type[_Choice], value: str, name: str, limit: int = 80) -> _Choice:
    """``value`` as a member of ``choices``; otherwise the operator's line naming them."""
    try:
        return choices(value)
    except ValueError:
        listed = ", ".join(choice.value for choice in choices)
        raise InvalidClientMetadata(
            f"{name} {quoted(str(value), limit)} is not one of {listed}"
        ) from None


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
    shown = quoted(uri)
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
                f"unknown scope {quoted(token)}; known scopes: {' '.join(KNOWN_SCOPES)}"
            )
    return tuple(tokens)


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
        raise InvalidClientMetadata(f"purpose {quoted(text)} must be CODE:BASIS, e.g. social-aid:e")
    if not _PURPOSE_CODE.fullmatch(code):
        raise InvalidClientMetadata(
            f"purpose code {quoted(code)} must be 1-64 characters of a-z 0-9 . _ : - "
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
                f"purpose {quoted(code)}: legal basis {quoted(basis_text)} is not one of "
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
                f"sector identifier {quoted(value)}: give a host, or an https URL"
            )
        text = parts.hostname
    host = text.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not _valid_host(host):
        raise InvalidClientMetadata(
            f"sector identifier {quoted(value)} is not a host name (e.g. dinsos.example.go.id)"
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


def _check_purposes(purposes: Iterable[Purpose | str]) -> tuple[Purpose, ...]:
    parsed = tuple(p if isinstance(p, Purpose) else parse_purpose(p) for p in purposes)
    if len(parsed) > MAX_PURPOSES:
        raise InvalidClientMetadata(f"at most {MAX_PURPOSES} purposes")
    seen: set[str] = set()
    for purpose in parsed:
        if purpose.code in seen:
            raise InvalidClientMetadata(f"purpose {quoted(purpose.code)} is listed twice")
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


def replacement_redirect_uris(app: RelyingApp, redirect_uris: Iterable[str]) -> tuple[str, ...]:
    """The redirect URIs that may replace ``app``'s, under the rules of registration (RFC 7591
    §2, exact https URIs, RFC 9700 §4.1.3): at least one for an authorization code app, none
    for a client-credentials app. The app's sector, and with it the pairwise ``sub`` of every
    citizen at the app (OIDC Core §8.1), stays as registered.

    Raises:
        InvalidRedirectUri: the first URI refused, or a list the app cannot take.
    """
    if GrantType.CLIENT_CREDENTIALS in app.grant_types:
        raise InvalidRedirectUri(
            "a client_credentials app has no redirect URIs (it does not sign citizens in)"
        )
    uris = _check_redirect_uris(redirect_uris)
    if not uris:
        raise InvalidRedirectUri("an authorization code app needs at least one redirect URI")
    return uris


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
                f"claim {quoted(claim)} is not requested by the scopes ({' '.join(scopes)}); "
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
    return RelyingApp(
        client_id=client_id,
        name=app_name,
        redirect_uris=uris,
        scopes=scopes,
        grant_types=(grant,),
        allowed_claims=allowed,
        sector_identifier=sector,
        purposes=checked_purposes,
        token_endpoint_auth_method=method,
        jwks=validate_jwks(jwks) if jwks is not None else None,  # the last check
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
            f"id_token_signed_response_alg {quoted(str(alg), 20)} is not one of "
            f"{', '.join(ID_TOKEN_ALGORITHMS)}"
        )
    if grant is GrantType.CLIENT_CREDENTIALS:
        raise InvalidClientMetadata(
            "id_token_signed_response_alg is for code-flow apps: client_credentials apps "
            "receive no ID token"
        )
