"""Relying apps: the OAuth 2.0 clients that use Jati, as the other cores see them
(framework-free).

An operator registers each app (RFC 6749 §2, "Client Registration"; ``jati client add``);
apps never register themselves. Every app is a *confidential* client (RFC 6749 §2.1) and gets
a random, opaque, URL-safe ``client_id`` (§2.2). Its metadata carries the names of RFC 7591
§2 (``client_name``, ``redirect_uris``, ``grant_types``, ``response_types``, ``scope``,
``token_endpoint_auth_method``, ``jwks``) and of OIDC Dynamic Client Registration 1.0 §2
(``id_token_signed_response_alg``), plus what Jati adds for UU PDP: the claims the app may
receive and its purposes, each with its legal basis (UU PDP Art. 20(2)).

This module holds the model: :class:`RelyingApp` and its values, the scopes Jati knows and
the claims each requests (OIDC Core §5.4). The rest of the relying apps' logic:

- :mod:`identity.oidc.client_metadata`: RFC 7591 §2 metadata checked into a
  :class:`RelyingApp` (redirect URIs, scopes, claims, sector, purposes, grant type,
  authentication method, ID token algorithm); :mod:`identity.oidc.client_jwks` for the
  JWK Set of a ``private_key_jwt`` app.
- :mod:`identity.oidc.client_registry`: :class:`~identity.oidc.client_registry.ClientRegistry`,
  which registers apps and authenticates them by secret (RFC 6749 §2.3.1).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from audit.entry import LegalBasis
from consent.purposes import Purpose as ProcessingPurpose
from identity.oidc.claims_release import CLAIM_FIELDS

__all__ = [
    "AUDITOR_SCOPES",
    "KNOWN_SCOPES",
    "SCOPE_CLAIMS",
    "GrantType",
    "Purpose",
    "RelyingApp",
    "TokenEndpointAuthMethod",
    "claims_for_scopes",
    "claims_without_purpose",
    "quoted",
]

# ------------------------------------------------------------------ scopes and claims

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
    "me": frozenset(),  # the citizen API (docs/consent-and-rights.md), no claims of its own
    # the SD-JWT VC identity credential (identity.credentials.issuer); the NIK needs ``nik`` too
    "identity_credential": frozenset({"name", "birthdate", "address"}),
    "audit:read": frozenset(),  # auditors (client credentials), no citizen
}
KNOWN_SCOPES: tuple[str, ...] = tuple(SCOPE_CLAIMS)
#: Scopes only client-credentials apps may hold, and the only ones they may hold.
AUDITOR_SCOPES = frozenset({"audit:read"})


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
    ``disabled_at`` is when an operator disabled the app (None while it is in service).
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
    disabled_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Not disabled by an operator: a disabled app is unknown to every protocol path."""
        return self.disabled_at is None

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


# ------------------------------------------------------------------ claims, error lines


def quoted(value: str, limit: int = 80) -> str:
    """A value quoted for an error line: operator input, cut short, on one line."""
    text = value if len(value) <= limit else value[: limit - 3] + "..."
    return repr(text)


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
