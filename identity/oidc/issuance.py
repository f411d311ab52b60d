"""What the token endpoint's grants share: the tokens issued from a token family, the claims
released into them, the audit entries of an issuance, and the token response (RFC 6749 §5.1).

- :meth:`Issuance.access_token`: RFC 9068, carrying the family and the consent grant ids; a
  token for Jati's own endpoints (scope ``me`` or ``identity_credential``) has the issuer as
  ``aud`` and a sealed ``sub`` (RFC 9068 §2.2).
- :meth:`Issuance.id_token`: OIDC Core §2 (``iss``, pairwise ``sub``, ``aud``, ``exp``,
  ``iat``, ``auth_time``, ``nonce``, ``acr``, ``amr``, ``azp``): with the code's nonce and
  the released claims at the code exchange, without them at a refresh (§12.2).
- :meth:`Issuance.new_refresh_token`: a refresh token of the family, and what is stored of it
  (:mod:`identity.oidc.refresh_families`).
- :meth:`Issuance.entries`: the TOKEN_ISSUED audit entries (the app as actor, the citizen's
  pseudonym, one per purpose with its legal basis and consent grant), which
  :meth:`Issuance.record` appends in the transaction that records the tokens;
  :func:`issuance_entries` makes them for a code or a token response, and
  :func:`purpose_entries` for anything issued under purposes (a credential too).
- :meth:`Issuance.release_by_purpose`: the claims each purpose of the family releases, through
  the consent gate and the one audited read (:mod:`identity.oidc.claims_release`): what the ID
  token, userinfo (:mod:`identity.oidc.userinfo`) and the credential endpoint carry.
- :func:`narrowed`: RFC 6749 §6 and §3.3, a requested scope may only narrow what was granted.

Never reads the clock: every caller passes ``now``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from audit import AuditAppender, Pseudonymizer
from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, Outcome
from consent.errors import ConsentRequired
from consent.purposes import Purpose
from identity.errors import CitizenErased, CitizenNotFound, TokenError
from identity.oidc.authorization_request import fields_of
from identity.oidc.claims_release import CLAIM_FIELDS, ClaimRelease
from identity.oidc.clients import SCOPE_CLAIMS, RelyingApp, claims_for_scopes
from identity.oidc.codes import IssuedPurpose, ReleasedPurpose
from identity.oidc.refresh_families import (
    FAMILY_CLAIM,
    GRANTS_CLAIM,
    REFRESH_TOKEN_LIFETIME,
    RefreshToken,
    TokenFamily,
    new_refresh_token,
)
from identity.oidc.tokens import IssuedToken, TokenIssuer

__all__ = [
    "AUTHENTICATION_PURPOSE",
    "ClientLookup",
    "ConsentRecords",
    "Issuance",
    "epoch",
    "issuance_entries",
    "narrowed",
    "purpose_entries",
    "sector",
    "token_response",
]

log = logging.getLogger(__name__)

_CITIZEN_API_SCOPE = "me"
#: Scopes whose tokens are for Jati's own endpoints (``aud`` = the issuer, sealed ``sub``):
#: the citizen API and the credential endpoint (OID4VCI §8).
_JATI_AUDIENCE_SCOPES = frozenset({_CITIZEN_API_SCOPE, "identity_credential"})
#: Purpose and basis recorded for a login that releases no claim (as a citizen's own login).
AUTHENTICATION_PURPOSE = "authentication"


class ClientLookup(Protocol):
    def get(self, client_id: str) -> RelyingApp: ...


class ConsentRecords(Protocol):
    """What the token endpoint needs of :class:`consent.ledger.ConsentLedger`."""

    def purposes(self, app_id: str) -> list[Purpose]: ...
    def is_grant_active(self, grant_id: str) -> bool: ...
    def cached_purposes(self, app_id: str) -> list[Purpose] | None: ...
    def cached_grant_active(self, grant_id: str) -> bool | None: ...


@dataclass(eq=False, kw_only=True)
class Issuance:
    """Issues a token family's tokens, releases its claims and records the issuance (see the
    module text).

    Args:
        tokens: signs access and ID tokens.
        consent: the consent records (the app's purposes, whether a grant is active).
        claim_release: the consent gate, then the audited read.
        pseudonymizer: the citizen's audit pseudonym.
        audit: appends audit entries in the store's transaction.
        refresh_lifetime: how long each refresh token lives.
    """

    tokens: TokenIssuer
    consent: ConsentRecords
    claim_release: ClaimRelease
    pseudonymizer: Pseudonymizer
    audit: AuditAppender
    refresh_lifetime: timedelta = REFRESH_TOKEN_LIFETIME

    def record(self, bind: Any, entries: Iterable[AuditEntry], now: datetime) -> None:
        """Append ``entries`` in the transaction ``bind`` belongs to: the issuance and its
        record commit together (UU PDP Art. 31)."""
        for entry in entries:
            self.audit.append(bind, entry, queued_at=now)

    def new_refresh_token(self, family: TokenFamily, now: datetime) -> tuple[str, RefreshToken]:
        """A new refresh token of ``family``: its value, and what is stored of it."""
        value, token_hash = new_refresh_token(family.id)
        return value, RefreshToken(
            token_hash=token_hash,
            family_id=family.id,
            client_id=family.client_id,
            created_at=now,
            expires_at=now + self.refresh_lifetime,
        )

    def entries(
        self,
        app: RelyingApp,
        family: TokenFamily,
        scopes: Sequence[str],
        kinds: Sequence[str],
        now: datetime,
        purposes: Sequence[Purpose] | None = None,
    ) -> list[AuditEntry]:
        """The TOKEN_ISSUED entries of tokens of ``kinds`` issued from ``family``: one per
        purpose of the family the app still declares, with the claims the scopes cover."""
        if purposes is None:
            purposes = self.consent.purposes(app.client_id)
        by_code = {p.code: p for p in purposes}
        claims = set(claims_for_scopes(s for s in scopes if s in SCOPE_CLAIMS))
        return issuance_entries(
            client_id=app.client_id,
            subject=self.pseudonymizer.pseudonym(family.citizen_id),
            purposes=family.purposes,
            claims_by_purpose={
                p.code: _covered(family.claims, by_code[p.code], claims)
                for p in family.purposes
                if p.code in by_code
            },
            tokens=kinds,
            now=now,
        )

    def access_token(
        self, app: RelyingApp, family: TokenFamily, scopes: Sequence[str]
    ) -> IssuedToken:
        extra: dict[str, Any] = {FAMILY_CLAIM: family.id}
        if family.grant_ids:
            extra[GRANTS_CLAIM] = list(family.grant_ids)
        auth_time = epoch(family.auth_time)
        if _JATI_AUDIENCE_SCOPES.intersection(scopes):  # a token for Jati's own API
            return self.tokens.citizen_api_token(
                client_id=app.client_id,
                subject_id=family.citizen_id,
                scope=scopes,
                auth_time=auth_time,
                extra=extra,
            )
        return self.tokens.access_token(
            client_id=app.client_id,
            scope=scopes,
            subject_id=family.citizen_id,
            sector_identifier=sector(app),
            auth_time=auth_time,
            acr=family.acr,
            extra=extra,
        )

    def id_token(
        self,
        app: RelyingApp,
        family: TokenFamily,
        *,
        nonce: str | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> IssuedToken:
        """The family's ID token (OIDC Core §2): with the code's nonce and the released
        claims at the exchange, without them at a refresh (§12.2)."""
        return self.tokens.id_token(
            client_id=app.client_id,
            subject_id=family.citizen_id,
            sector_identifier=sector(app),
            auth_time=epoch(family.auth_time),
            acr=family.acr,
            amr=family.amr,
            nonce=nonce,
            claims=claims,
            allowed_claims=app.allowed_claims,
            alg=app.id_token_signed_response_alg,  # OIDC Registration §2; None: the service's
        )

    def family_response(
        self,
        app: RelyingApp,
        family: TokenFamily,
        scopes: tuple[str, ...],
        refresh_token: str,
        *,
        nonce: str | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The token response of a code exchange or a refresh: an access token for
        ``scopes``, ``refresh_token``, and an ID token (:meth:`id_token`)."""
        access = self.access_token(app, family, scopes)
        id_token = self.id_token(app, family, nonce=nonce, claims=claims)
        return token_response(access, scopes, refresh_token, id_token.token)

    def release(
        self, app: RelyingApp, family: TokenFamily, claims: Sequence[str], *, strict: bool
    ) -> dict[str, str]:
        """The claims released under the family's purposes, merged (see
        :meth:`release_by_purpose`)."""
        released: dict[str, str] = {}
        for _purpose, values in self.release_by_purpose(app, family, claims, strict=strict):
            released.update(values)
        return released

    def release_by_purpose(
        self, app: RelyingApp, family: TokenFamily, claims: Sequence[str], *, strict: bool
    ) -> list[tuple[ReleasedPurpose, dict[str, str]]]:
        """The claims released under each of the family's purposes, each purpose's claims
        through the consent gate and the audited read; a claim is released once, under the
        first purpose covering it. ``strict``: a refusal fails the whole request
        (``invalid_grant``); otherwise that purpose's claims are left out."""
        if not claims:
            return []
        by_code = {p.code: p for p in self.consent.purposes(app.client_id)}
        released: list[tuple[ReleasedPurpose, dict[str, str]]] = []
        seen: set[str] = set()
        for allowed in family.purposes:
            purpose = by_code.get(allowed.code)
            if purpose is None:
                continue
            wanted = [c for c in _covered(claims, purpose, claims) if c not in seen]
            if not wanted:
                continue
            try:
                values = self.claim_release.release(
                    citizen_id=family.citizen_id,
                    app_id=app.client_id,
                    purpose=allowed.code,
                    claims=wanted,
                    allowed_claims=app.allowed_claims,
                )
            except (ConsentRequired, CitizenErased, CitizenNotFound) as exc:
                log.info("claims of purpose %s not released: %s", allowed.code, type(exc).__name__)
                if strict:
                    raise TokenError(
                        "invalid_grant", "the claims can no longer be released"
                    ) from None
                continue
            if values:
                seen.update(values)
                released.append((allowed, values))
        return released


def purpose_entries(
    action: Action,
    *,
    client_id: str,
    subject: str | None,
    issued: Iterable[tuple[IssuedPurpose | None, Sequence[str]]],
    now: datetime,
) -> list[AuditEntry]:
    """The audit entries of one issuance (UU PDP Art. 31), one per purpose it serves, each
    with the data items issued under it: the app as actor, the citizen's pseudonym
    (``subject``), the purpose's legal basis and consent grant; a None purpose: an issuance
    that serves none (no purpose, no basis)."""
    actor = Actor(ActorKind.RELYING_APP, client_id)
    return [
        AuditEntry(
            time=now,
            actor=actor,
            action=action,
            outcome=Outcome.SUCCESS,
            subject=subject,
            data_items=tuple(items),
            purpose=None if purpose is None else purpose.code,
            legal_basis=None if purpose is None else purpose.legal_basis,
            consent_id=None if purpose is None else purpose.grant_id,
        )
        for purpose, items in issued
    ]


def issuance_entries(
    *,
    client_id: str,
    subject: str | None,
    purposes: Sequence[ReleasedPurpose],
    claims_by_purpose: Mapping[str, Sequence[str]],
    tokens: Sequence[str],
    now: datetime,
) -> list[AuditEntry]:
    """The audit entries of one issuance (a code, or a token response): the app as actor,
    the citizen's pseudonym, one entry per purpose the issuance serves with its legal basis
    and consent grant (UU PDP Art. 31); the data items name what was issued
    (``token:<kind>``) and the fields the purpose's claims cover. An issuance serving no
    purpose (a login that releases no claim) is one entry for purpose ``authentication``."""
    issued: list[tuple[IssuedPurpose | None, Sequence[str]]]
    if purposes:
        issued = [(p, (*tokens, *fields_of(claims_by_purpose.get(p.code, ())))) for p in purposes]
    elif subject is not None:  # a citizen's login: the public task of authenticating them
        issued = [(ReleasedPurpose(AUTHENTICATION_PURPOSE, LegalBasis.PUBLIC_TASK), tokens)]
    else:  # no citizen (client credentials): no purpose of anyone's data
        issued = [(None, tokens)]
    return purpose_entries(
        Action.TOKEN_ISSUED, client_id=client_id, subject=subject, issued=issued, now=now
    )


def narrowed(requested: str | None, granted: Sequence[str]) -> tuple[str, ...]:
    """RFC 6749 §6 and §3.3: a requested scope may only narrow what was granted."""
    if requested is None:
        return tuple(granted)
    scopes = tuple(sorted({s for s in requested.split(" ") if s}))
    if not scopes or not set(scopes) <= set(granted):
        raise TokenError("invalid_scope", "the scope exceeds what was granted")
    if "openid" in granted and "openid" not in scopes:
        raise TokenError("invalid_scope", "the openid scope cannot be dropped")
    return scopes


def token_response(
    access: IssuedToken, scopes: Sequence[str], refresh: str | None, id_token: str | None
) -> dict[str, Any]:
    """The successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3)."""
    body: dict[str, Any] = {
        "access_token": access.token,
        "token_type": "Bearer",
        "expires_in": access.expires_at - access.issued_at,
        "scope": " ".join(scopes),
    }
    if refresh is not None:
        body["refresh_token"] = refresh
    if id_token is not None:
        body["id_token"] = id_token
    return body


def sector(app: RelyingApp) -> str:
    """The app's sector identifier (its pairwise ``sub``, OIDC Core §8.1).

    Raises:
        TokenError: ``unauthorized_client`` for an app that receives no citizen tokens.
    """
    if app.sector_identifier is None:
        raise TokenError("unauthorized_client", "this client receives no citizen tokens")
    return app.sector_identifier


def epoch(value: datetime) -> int:
    return int(value.timestamp())


def _covered(claims: Sequence[str], purpose: Purpose, within: Collection[str]) -> tuple[str, ...]:
    return tuple(c for c in claims if c in within and CLAIM_FIELDS.get(c) in purpose.item_names)
