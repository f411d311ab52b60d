"""The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6), userinfo (OIDC Core §5.3) and token
revocation (RFC 7009), framework-free. The caller has already authenticated the client
(:mod:`identity.oidc.client_auth`).

**authorization_code** (RFC 6749 §4.1.3, RFC 7636 §4.6): the code must exist, belong to the
authenticated client, be unexpired and unused, come with the same ``redirect_uri`` as the
authorization request and a ``code_verifier`` matching its S256 challenge (constant-time).
Its consent grants must still be active. The first exchange creates a token family
(:mod:`identity.oidc.refresh_families`) and answers an access token (RFC 9068, carrying the
family and the consent grant ids), an ID token (OIDC Core §2: ``iss``, pairwise ``sub``,
``aud``, ``exp``, ``iat``, ``auth_time``, ``nonce``, ``acr``, ``amr``, ``azp``, and the
claims the consent gate allows, read through the one audited path) and a refresh token. A
second exchange of a code revokes the family the first one created (RFC 6749 §4.1.2).

**refresh_token** (RFC 6749 §6): rotates, its successor and its audit entries committed
together (one conditional write when nothing is to refuse: one statement on PostgreSQL);
a reused refresh token revokes its family (RFC 9700 §4.14.2); refused once a consent grant
of the family is withdrawn or expired (which also revokes the family). ``scope`` may
narrow, never widen (§6).

**client_credentials** (RFC 6749 §4.4): auditor apps only; an access token for Jati's own
API (``aud`` = the issuer, ``sub`` = the client id, RFC 9068 §2.2).

Errors are exactly RFC 6749 §5.2's codes (:class:`identity.errors.TokenError`); a refused
request changes nothing, except that a detected replay revokes what it must. Every token
response appends TOKEN_ISSUED audit entries (app as actor, the citizen's pseudonym, one per
purpose with its legal basis and consent grant) in the transaction that records the tokens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, Protocol

from audit import AuditAppender, Pseudonymizer
from audit.entry import AuditEntry
from consent.errors import ConsentRequired
from consent.purposes import Purpose
from identity.citizens.service import CitizenErased, CitizenNotFound
from identity.errors import InsufficientScope, NotFound, TokenError, Unauthorized
from identity.oidc.authorize import issuance_entries
from identity.oidc.claims_release import CLAIM_FIELDS
from identity.oidc.client_auth import unverified_claims
from identity.oidc.clients import SCOPE_CLAIMS, GrantType, RelyingApp, claims_for_scopes
from identity.oidc.codes import (
    MAX_CODE_CHARS,
    AuthorizationCode,
    CodeTransaction,
    ReleasedPurpose,
    hash_secret,
)
from identity.oidc.pkce import verify_s256
from identity.oidc.refresh_families import (
    FAMILY_CLAIM,
    GRANTS_CLAIM,
    MAX_REFRESH_TOKEN_CHARS,
    REFRESH_TOKEN_LIFETIME,
    KnownFamilies,
    RefreshToken,
    RefreshTransaction,
    RevocationTransaction,
    Rotation,
    RotationTransaction,
    TokenFamily,
    family_named_by,
    new_family_id,
    new_refresh_token,
)
from identity.oidc.tokens import IssuedToken, TokenIssuer
from identity.relying_party import InvalidToken, Reason, TokenVerifier
from identity.relying_party.key_cache import JwksLoader
from identity.storage.housekeeping import purge_due

__all__ = [
    "CODE_REUSE_DETECTION",
    "MAX_TOKEN_CHARS",
    "AccessTokenVerifiers",
    "TokenService",
    "single_values",
]

log = logging.getLogger(__name__)

MAX_TOKEN_CHARS = 8192
#: Used codes are kept this long after they expire, so that a late replay still revokes
#: the family of the first exchange (RFC 6749 §4.1.2).
CODE_REUSE_DETECTION = timedelta(hours=1)
_CITIZEN_API_SCOPE = "me"
#: Scopes whose tokens are for Jati's own endpoints (``aud`` = the issuer, sealed ``sub``):
#: the citizen API and the credential endpoint (OID4VCI §8).
_JATI_AUDIENCE_SCOPES = frozenset({_CITIZEN_API_SCOPE, "identity_credential"})
_REFRESH_KINDS = ("token:access", "token:id", "token:refresh")
_MAX_TEMPLATES = 10_000


#: The parameters of the token, revocation and introspection endpoints (RFC 6749 §4.1.3,
#: §6, §2.3.1, RFC 7523 §2.2, RFC 7009 §2.1, RFC 7662 §2.1): the only names an error repeats.
_KNOWN_PARAMETERS = frozenset({
    "grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope",
    "client_id", "client_secret", "client_assertion", "client_assertion_type", "token",
    "token_type_hint", "resource",
})  # fmt: skip


def single_values(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Request parameters as a dict; RFC 6749 §3.1/§3.2: none may appear twice. A repeated
    name the client made up is not repeated back (it could be a NIK or an email address)."""
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            shown = f"parameter {name}" if name in _KNOWN_PARAMETERS else "a parameter"
            raise TokenError("invalid_request", f"{shown} is repeated")
        values[name] = value
    return values


# ------------------------------------------------------------------ collaborators


class TokenTransaction(CodeTransaction, RefreshTransaction, RevocationTransaction, Protocol):
    bind: Any


class TokenStore(Protocol):
    def write(self) -> Any: ...  # AbstractContextManager[TokenTransaction]
    def read(self) -> Any: ...
    def refresh_write(self) -> AbstractContextManager[RotationTransaction]: ...

    def rotate_alone(self, rotation: Rotation) -> bool: ...
    def family(self, family_id: str) -> TokenFamily | None: ...
    @property
    def rotates_on_loop(self) -> bool: ...
    async def rotate_on_loop(self, rotation: Rotation) -> bool: ...


class ClientLookup(Protocol):
    def get(self, client_id: str) -> RelyingApp: ...


class ConsentRecords(Protocol):
    """What the token endpoint needs of :class:`consent.ledger.ConsentLedger`."""

    def purposes(self, app_id: str) -> list[Purpose]: ...
    def is_grant_active(self, grant_id: str) -> bool: ...
    def cached_purposes(self, app_id: str) -> list[Purpose] | None: ...
    def cached_grant_active(self, grant_id: str) -> bool | None: ...


class Releaser(Protocol):
    """:class:`identity.oidc.claims_release.ClaimRelease`: the consent gate, then the audited
    read."""

    def release(
        self,
        *,
        citizen_id: str,
        app_id: str,
        purpose: str,
        claims: Collection[str],
        allowed_claims: Collection[str],
        request_id: str | None = None,
    ) -> dict[str, str]: ...


class AccessTokenVerifiers:
    """Verifies Jati's own access tokens for the endpoints that take them back (userinfo,
    revocation, introspection): the audience is the token's client (or the issuer, for
    tokens of Jati's own API), with the keys read from the key store."""

    def __init__(self, *, issuer: str, jwks_loader: JwksLoader) -> None:
        self.issuer = issuer
        self._loader = jwks_loader
        self._verifiers: dict[str, TokenVerifier] = {}

    def for_audience(self, audience: str) -> TokenVerifier:
        verifier = self._verifiers.get(audience)
        if verifier is None:
            if len(self._verifiers) > 10_000:
                self._verifiers.clear()
            verifier = TokenVerifier(
                issuer=self.issuer,
                audience=audience,
                jwks_loader=self._loader,
                min_refresh_interval=5.0,
            )
            self._verifiers[audience] = verifier
        return verifier

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid access token of Jati's (RFC 9068 checks).

        Raises:
            InvalidToken: with the reason.
        """
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken(Reason.TOO_LARGE, "over the size limit")
        unverified = unverified_claims(token)  # only to pick the audience to check
        aud, client_id = unverified.get("aud"), unverified.get("client_id")
        audience = self.issuer if aud == self.issuer else client_id
        if type(audience) is not str or not audience:
            raise InvalidToken(Reason.MISSING_CLAIM, "client_id is required")
        claims = self.for_audience(audience).verify_access_token(token)
        if audience != self.issuer and claims.get("client_id") != audience:
            raise InvalidToken(Reason.WRONG_AUDIENCE, "aud is not the token's client")
        return claims


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


# ------------------------------------------------------------------ the service


class TokenService:
    """Issues, refreshes, describes and revokes tokens (``app.state.token_service``).

    Args:
        store: the OIDC store (codes, families, refresh tokens, revocations).
        tokens: signs access and ID tokens.
        clients: the client registry.
        consent: the consent ledger (purposes, whether a grant is active).
        release: the claim release (consent gate + audited read).
        audit: appends audit entries in the store's transaction.
        pseudonymizer: the citizen's audit pseudonym.
        verifiers: verifies access tokens presented back to Jati.
        clock: the current UTC time.
        refresh_lifetime: how long each refresh token lives.
    """

    def __init__(
        self,
        *,
        store: TokenStore,
        tokens: TokenIssuer,
        clients: ClientLookup,
        consent: ConsentRecords,
        release: Releaser,
        audit: AuditAppender,
        pseudonymizer: Pseudonymizer,
        verifiers: AccessTokenVerifiers,
        clock: Callable[[], datetime],
        refresh_lifetime: timedelta = REFRESH_TOKEN_LIFETIME,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.clients = clients
        self.consent = consent
        self.releaser = release
        self.audit = audit
        self.pseudonymizer = pseudonymizer
        self.verifiers = verifiers
        self.clock = clock
        self.refresh_lifetime = refresh_lifetime
        self._families = KnownFamilies()
        self._refresh_templates: dict[
            tuple[str, tuple[str, ...]], tuple[Sequence[Purpose], list[AuditEntry]]
        ] = {}

    # -- the token endpoint ---------------------------------------------------------------

    def token(self, app: RelyingApp, form: Mapping[str, str]) -> dict[str, Any]:
        """The token response (RFC 6749 §5.1) for an authenticated client.

        Raises:
            TokenError: the RFC 6749 §5.2 error.
        """
        grant_type = form.get("grant_type")
        if not grant_type:
            raise TokenError("invalid_request", "grant_type is required")
        if grant_type in ("authorization_code", "refresh_token"):
            if GrantType.AUTHORIZATION_CODE not in app.grant_types:
                raise TokenError("unauthorized_client", f"this client cannot use {grant_type}")
            if grant_type == "authorization_code":
                return self._exchange_code(app, form)
            return self._refresh(app, form)
        if grant_type == "client_credentials":
            if GrantType.CLIENT_CREDENTIALS not in app.grant_types:
                raise TokenError("unauthorized_client", "this client cannot use client_credentials")
            return self._client_credentials(app, form)
        raise TokenError(
            "unsupported_grant_type", "use authorization_code, refresh_token or client_credentials"
        )

    def _exchange_code(self, app: RelyingApp, form: Mapping[str, str]) -> dict[str, Any]:
        now = self.clock()
        code_hash, code = self._redeemable_code(app, form, now)
        family = TokenFamily(
            id=new_family_id(),
            client_id=app.client_id,
            citizen_id=code.citizen_id,
            scopes=code.scopes,
            claims=code.claims,
            purposes=code.purposes,
            auth_time=code.auth_time,
            acr=code.acr,
            amr=code.amr,
            created_at=now,
        )
        refresh_value, refresh = self._new_refresh(family, now)
        entries = self._entries(
            app, family, family.scopes, ("token:access", "token:id", "token:refresh"), now
        )
        with self.store.write() as tx:
            if purge_due():
                tx.purge_codes(now - CODE_REUSE_DETECTION)
                tx.purge_refresh_tokens(now)
            first_use = tx.use_code(code_hash, now=now, authorization_id=family.id)
            if first_use:
                tx.add_family(family)
                tx.add_refresh_token(refresh)
                for entry in entries:
                    self.audit.append(tx.bind, entry, queued_at=now)
        if not first_use:  # a concurrent exchange won the race
            self._code_replayed(code_hash, now)
        self._families.remember(family)
        try:
            released = self._release(app, family, family.claims, strict=True)
        except TokenError:
            self._revoke_family(family.id, now)
            raise
        access = self._access_token(app, family, family.scopes)
        id_token = self._id_token(app, family, nonce=code.nonce, claims=released)
        return _response(access, family.scopes, refresh_value, id_token.token)

    def _redeemable_code(
        self, app: RelyingApp, form: Mapping[str, str], now: datetime
    ) -> tuple[str, AuthorizationCode]:
        """RFC 6749 §4.1.3 and RFC 7636 §4.6: the code's hash and the code, if this request
        may redeem it (a used code revokes what its first exchange issued)."""
        code_value = form.get("code")
        redirect_uri = form.get("redirect_uri")
        verifier = form.get("code_verifier")
        for name, value in (("code", code_value), ("redirect_uri", redirect_uri)):
            if not value:
                raise TokenError("invalid_request", f"{name} is required")
        if not verifier:
            raise TokenError("invalid_request", "code_verifier is required (PKCE)")
        assert code_value is not None
        if len(code_value) > MAX_CODE_CHARS:
            raise TokenError("invalid_grant", "the code is not valid")
        code_hash = hash_secret(code_value)
        with self.store.read() as tx:
            code: AuthorizationCode | None = tx.get_code(code_hash)
        if code is None or code.client_id != app.client_id:
            log.info("code refused: unknown, or issued to another client")
            raise TokenError("invalid_grant", "the code is not valid")
        if code.used_at is not None:
            self._code_replayed(code_hash, now)
        if now >= code.expires_at:
            log.info("code refused: expired")
            raise TokenError("invalid_grant", "the code has expired")
        if redirect_uri != code.redirect_uri:
            log.info("code refused: redirect_uri differs from the authorization request")
            raise TokenError("invalid_grant", "redirect_uri does not match")
        if not verify_s256(verifier, code.code_challenge):
            log.info("code refused: the PKCE code_verifier does not match")
            raise TokenError("invalid_grant", "code_verifier does not match the code_challenge")
        if not all(self.consent.is_grant_active(g) for g in code.grant_ids):
            log.info("code refused: a consent grant was withdrawn or expired")
            raise TokenError("invalid_grant", "consent was withdrawn")
        return code_hash, code

    def _code_replayed(self, code_hash: str, now: datetime) -> NoReturn:
        with self.store.write() as tx:
            code = tx.get_code(code_hash)
            if code is not None and code.authorization_id is not None:
                tx.revoke_family(code.authorization_id, now=now)
        log.warning("authorization code used twice: the tokens issued from it are revoked")
        raise TokenError("invalid_grant", "the code is not valid")

    def _refresh(self, app: RelyingApp, form: Mapping[str, str]) -> dict[str, Any]:
        """RFC 6749 §6. When the token names a family this worker knows (or reads) and
        nothing is to refuse, the rotation is one conditional write (:meth:`_rotate_alone`);
        otherwise, or when that write changes nothing, one write transaction
        (:meth:`_rotate`) decides and tells the refusal apart. A replay (RFC 9700 §4.14.2)
        or a withdrawn or expired consent grant (UU PDP Art. 40) revokes the family. The
        tokens are signed after the commit."""
        value = form.get("refresh_token")
        if not value:
            raise TokenError("invalid_request", "refresh_token is required")
        if len(value) > MAX_REFRESH_TOKEN_CHARS:
            raise TokenError("invalid_grant", "the refresh token is not valid")
        now = self.clock()
        token_hash = hash_secret(value)
        requested_scope = form.get("scope")
        family = self._named_family(value)
        if family is not None and family.client_id == app.client_id:
            rotated = self._rotate_alone(app, family, token_hash, requested_scope, now)
            if rotated is not None:
                return self._refreshed(app, family, *rotated)
        try:
            with self.store.refresh_write() as tx:
                if purge_due():
                    tx.purge_refresh_tokens(now)
                family, scopes, new_value = self._rotate(tx, app, token_hash, requested_scope, now)
        except _FamilyToRevoke as refusal:
            self._revoke_family(refusal.family_id, now)
            raise TokenError(refusal.error, refusal.description) from None
        self._families.remember(family)
        return self._refreshed(app, family, scopes, new_value)

    async def refresh_on_loop(
        self, app: RelyingApp, form: Mapping[str, str]
    ) -> dict[str, Any] | None:
        """The refresh grant's common case on the event loop, with no thread hand-off:
        everything it needs to decide is in this worker's memory (the family, the consent
        view, the app's purposes) and the rotation is one statement
        (:meth:`TokenStore.rotate_on_loop`, PostgreSQL). Returns None, having changed
        nothing, for anything else: another grant, a refusal to tell apart (the write
        changed nothing), a cache to fill; :meth:`token`, in a thread, answers those
        exactly as before. What is done in a thread once the token has rotated: the purge
        of expired tokens when one is due, and the signing should the signing key be due
        for its periodic re-read."""
        if (
            form.get("grant_type") != "refresh_token"
            or not self.store.rotates_on_loop
            or GrantType.AUTHORIZATION_CODE not in app.grant_types
        ):
            return None
        value = form.get("refresh_token")
        if not value or len(value) > MAX_REFRESH_TOKEN_CHARS:
            return None
        family_id = family_named_by(value)
        family = self._families.get(family_id) if family_id is not None else None
        if family is None or family.client_id != app.client_id or family.revoked_at is not None:
            return None
        try:
            scopes = self._narrowed(form.get("scope"), family.scopes)
        except TokenError:
            return None
        purposes = self.consent.cached_purposes(app.client_id)
        if purposes is None or not all(
            self.consent.cached_grant_active(g) is True for g in family.grant_ids
        ):
            return None
        now = self.clock()
        rotation, new_value = self._rotation(app, family, hash_secret(value), scopes, now, purposes)
        if not await self.store.rotate_on_loop(rotation):
            return None
        if purge_due():
            await asyncio.to_thread(self._purge_refresh_tokens, now)
        # A key read from the database, or an RSA signature, goes to a thread.
        if not self.tokens.signs_on_loop(app.id_token_signed_response_alg):
            return await asyncio.to_thread(self._refreshed, app, family, scopes, new_value)
        return self._refreshed(app, family, scopes, new_value)

    def _named_family(self, value: str) -> TokenFamily | None:
        """The family a refresh token names (:func:`family_named_by`), from this worker's
        memory or the database; only a hint, which the rotation checks."""
        family_id = family_named_by(value)
        if family_id is None:
            return None
        family = self._families.get(family_id)
        if family is None:
            family = self.store.family(family_id)
            if family is not None:
                self._families.remember(family)
        return family

    def _rotate_alone(
        self,
        app: RelyingApp,
        family: TokenFamily,
        token_hash: str,
        requested_scope: str | None,
        now: datetime,
    ) -> tuple[tuple[str, ...], str] | None:
        """The rotation as one conditional write (:meth:`TokenStore.rotate_alone`: one
        statement on PostgreSQL, one short transaction on SQLite; the token marked used, its
        successor stored and the audit entries queued, all or nothing: UU PDP Art. 31), when
        nothing known is to refuse. Returns the scopes granted and the new refresh token;
        None to leave the request to :meth:`_rotate`: a refusal known beforehand (scope,
        consent), or a write that changed nothing (a token unknown, used, expired or of
        a revoked family), so that a replay still revokes the family."""
        if family.revoked_at is not None:
            return None
        try:
            scopes = self._narrowed(requested_scope, family.scopes)
        except TokenError:
            return None
        if not all(self.consent.is_grant_active(g) for g in family.grant_ids):
            return None
        rotation, new_value = self._rotation(app, family, token_hash, scopes, now)
        if not self.store.rotate_alone(rotation):
            return None
        if purge_due():
            self._purge_refresh_tokens(now)
        return scopes, new_value

    def _purge_refresh_tokens(self, now: datetime) -> None:
        """Delete expired refresh tokens and the families left without any, once a
        rotation has committed: a failure here is logged, never the refresh's answer
        (the new token is stored; the next purge deletes what this one left)."""
        try:
            with self.store.write() as tx:
                tx.purge_refresh_tokens(now)
        except Exception as exc:
            log.warning("refresh token purge failed: %s", type(exc).__name__)

    def _rotation(
        self,
        app: RelyingApp,
        family: TokenFamily,
        token_hash: str,
        scopes: tuple[str, ...],
        now: datetime,
        purposes: list[Purpose] | None = None,
    ) -> tuple[Rotation, str]:
        """The conditional write of a rotation with nothing to refuse, and the new refresh
        token it stores the hash of."""
        new_value, new_hash = new_refresh_token(family.id)
        rotation = Rotation(
            token_hash=token_hash,
            family_id=family.id,
            client_id=app.client_id,
            successor_hash=new_hash,
            now=now,
            successor_expires_at=now + self.refresh_lifetime,
            audit_entries=self._refresh_entries(app, family, scopes, now, purposes),
        )
        return rotation, new_value

    def _rotate(
        self,
        tx: RotationTransaction,
        app: RelyingApp,
        token_hash: str,
        requested_scope: str | None,
        now: datetime,
    ) -> tuple[TokenFamily, tuple[str, ...], str]:
        """Inside the write transaction: lock the presented token and its family (a
        concurrent use of it waits for the commit, then finds it used), check everything,
        mark it used, store its successor, append the audit entries.

        Returns the family, the scopes granted and the new refresh token. Raises
        :class:`TokenError` for a refusal, which rolls the transaction back: nothing
        changes; :class:`_FamilyToRevoke` when the family must be revoked as well.
        """
        found = tx.lock_refresh_token(token_hash)
        if found is None or found[0].client_id != app.client_id:
            log.info("refresh refused: unknown token, or another client's")
            raise TokenError("invalid_grant", "the refresh token is not valid")
        stored, family = found
        if family.revoked_at is not None:
            log.info("refresh refused: the token family is revoked")
            raise TokenError("invalid_grant", "the refresh token is not valid")
        if stored.used_at is not None:  # used before: two parties hold it
            log.warning("refresh token used twice: its token family is revoked")
            raise _FamilyToRevoke(family.id, "invalid_grant", "the refresh token is not valid")
        if now >= stored.expires_at:
            raise TokenError("invalid_grant", "the refresh token has expired")
        scopes = self._narrowed(requested_scope, family.scopes)
        if not all(self.consent.is_grant_active(g) for g in family.grant_ids):
            log.info("refresh refused: a consent grant was withdrawn or expired")
            raise _FamilyToRevoke(family.id, "invalid_grant", "consent was withdrawn")
        if not tx.use_refresh_token(token_hash, now=now):  # unreachable: the row is locked
            raise TokenError("invalid_grant", "the refresh token is not valid")
        new_value, successor = self._new_refresh(family, now)
        tx.add_refresh_token(successor)
        for entry in self._entries(app, family, scopes, _REFRESH_KINDS, now):
            self.audit.append(tx.bind, entry, queued_at=now)
        return family, scopes, new_value

    def _refreshed(
        self, app: RelyingApp, family: TokenFamily, scopes: tuple[str, ...], new_value: str
    ) -> dict[str, Any]:
        """The token response of a refresh (OIDC Core §12.2: with a new ID token)."""
        access = self._access_token(app, family, scopes)
        return _response(access, scopes, new_value, self._id_token(app, family).token)

    def _id_token(
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
            sector_identifier=_sector(app),
            auth_time=_epoch(family.auth_time),
            acr=family.acr,
            amr=family.amr,
            nonce=nonce,
            claims=claims,
            allowed_claims=app.allowed_claims,
            alg=app.id_token_signed_response_alg,  # OIDC Registration §2; None: the service's
        )

    def _client_credentials(self, app: RelyingApp, form: Mapping[str, str]) -> dict[str, Any]:
        scopes = self._narrowed(form.get("scope"), app.scopes)
        now = self.clock()
        access = self.tokens.access_token(
            client_id=app.client_id, scope=scopes, audience=self.tokens.issuer
        )
        entries = issuance_entries(
            client_id=app.client_id,
            subject=None,
            purposes=(),
            claims_by_purpose={},
            tokens=("token:access",),
            now=now,
        )
        with self.store.write() as tx:
            for entry in entries:
                self.audit.append(tx.bind, entry, queued_at=now)
        return _response(access, scopes, None, None)

    @staticmethod
    def _narrowed(requested: str | None, granted: Sequence[str]) -> tuple[str, ...]:
        """RFC 6749 §6 and §3.3: a requested scope may only narrow what was granted."""
        if requested is None:
            return tuple(granted)
        scopes = tuple(sorted({s for s in requested.split(" ") if s}))
        if not scopes or not set(scopes) <= set(granted):
            raise TokenError("invalid_scope", "the scope exceeds what was granted")
        if "openid" in granted and "openid" not in scopes:
            raise TokenError("invalid_scope", "the openid scope cannot be dropped")
        return scopes

    # -- userinfo -------------------------------------------------------------------------

    def userinfo(self, token: str) -> dict[str, Any]:
        """OIDC Core §5.3.2: ``sub`` and the consented claims the token's scopes ask for.

        Raises:
            Unauthorized: the token is not valid, revoked, or its consent withdrawn.
            InsufficientScope: the token lacks the ``openid`` scope.
        """
        claims, family = self._active_access_token(token)
        scopes = str(claims.get("scope", "")).split()
        if "openid" not in scopes:
            raise InsufficientScope("openid")
        try:
            app = self.clients.get(family.client_id)
        except NotFound:
            raise Unauthorized("the access token is not valid") from None
        asked = claims_for_scopes(s for s in scopes if s in SCOPE_CLAIMS)
        wanted = tuple(c for c in family.claims if c in asked)
        released = self._release(app, family, wanted, strict=False)
        return {"sub": self.tokens.subject(family.citizen_id, _sector(app)), **released}

    def active_access_token(self, token: str) -> tuple[dict[str, Any], TokenFamily]:
        """The claims and token family of an access token that is valid, not revoked, and
        whose consent grants are all still active (for userinfo and the credential endpoint).

        Raises:
            Unauthorized: otherwise (the precise reason goes to the log).
        """
        return self._active_access_token(token)

    def _active_access_token(self, token: str) -> tuple[dict[str, Any], TokenFamily]:
        try:
            claims = self.verifiers.verify(token)
        except InvalidToken as exc:
            log.info("access token refused: %s", exc.reason.value)
            raise Unauthorized("the access token is not valid") from None
        family_id = claims.get(FAMILY_CLAIM)
        if type(family_id) is not str:
            log.info("access token refused: not issued through the code flow")
            raise Unauthorized("the access token is not valid")
        with self.store.read() as tx:
            family: TokenFamily | None = tx.get_family(family_id)
            revoked = tx.is_access_token_revoked(str(claims["jti"]))
        if family is None or family.revoked_at is not None or revoked:
            log.info("access token refused: revoked")
            raise Unauthorized("the access token is not valid")
        if family.client_id != claims.get("client_id"):
            log.info("access token refused: client differs from its family")
            raise Unauthorized("the access token is not valid")
        if not all(self.consent.is_grant_active(g) for g in family.grant_ids):
            log.info("access token refused: consent withdrawn or expired")
            raise Unauthorized("the access token is not valid")
        return claims, family

    # -- what introspection and revocation need --------------------------------------------

    def access_token_active(self, claims: Mapping[str, Any]) -> bool:
        """For introspection (RFC 7662): a verified access token is inactive once revoked,
        or once its token family is revoked (RFC 7009 §2.1)."""
        jti = claims.get("jti")
        family_id = claims.get(FAMILY_CLAIM)
        with self.store.read() as tx:
            if isinstance(jti, str) and tx.is_access_token_revoked(jti):
                return False
            if family_id is not None:
                family = tx.get_family(family_id) if isinstance(family_id, str) else None
                if family is None or family.revoked_at is not None:
                    return False
        return True

    def refresh_token_info(self, token: str, client_id: str) -> dict[str, Any] | None:
        """RFC 7662 §2.2 for a refresh token of ``client_id``: None when inactive (unknown,
        another client's, used, expired, revoked, or its consent withdrawn)."""
        if not token or len(token) > MAX_REFRESH_TOKEN_CHARS:
            return None
        now = self.clock()
        with self.store.read() as tx:
            stored: RefreshToken | None = tx.get_refresh_token(hash_secret(token))
            family: TokenFamily | None = tx.get_family(stored.family_id) if stored else None
        if (
            stored is None
            or family is None
            or stored.client_id != client_id
            or stored.used_at is not None
            or now >= stored.expires_at
            or family.revoked_at is not None
            or not all(self.consent.is_grant_active(g) for g in family.grant_ids)
        ):
            return None
        try:
            app = self.clients.get(client_id)
        except NotFound:
            return None
        return {
            "active": True,
            "scope": " ".join(family.scopes),
            "client_id": client_id,
            "sub": self.tokens.subject(family.citizen_id, _sector(app)),
            "iss": self.tokens.issuer,
            "exp": _epoch(stored.expires_at),
            "iat": _epoch(stored.created_at),
        }

    def revoke(self, app: RelyingApp, token: str, hint: str | None = None) -> None:
        """RFC 7009 §2.1: revoke a refresh token (and its whole family, with the access
        tokens issued from it) or an access token (its ``jti`` kept until it expires).

        Unknown tokens, invalid ones and other clients' tokens change nothing (§2.2: the
        answer is 200 either way, so a client learns nothing about other tokens).
        """
        if not token or len(token) > MAX_TOKEN_CHARS:
            return
        jwt_shaped = token.count(".") == 2
        order = ["access_token", "refresh_token"] if jwt_shaped else ["refresh_token"]
        if hint in order:  # §2.1: the hint only says where to look first
            order.sort(key=lambda kind: kind != hint)
        now = self.clock()
        for kind in order:
            done = (
                self._revoke_refresh(app, token, now)
                if kind == "refresh_token"
                else self._revoke_access(app, token)
            )
            if done:
                return

    def _revoke_refresh(self, app: RelyingApp, token: str, now: datetime) -> bool:
        if len(token) > MAX_REFRESH_TOKEN_CHARS:
            return False
        with self.store.read() as tx:
            stored: RefreshToken | None = tx.get_refresh_token(hash_secret(token))
        if stored is None or stored.client_id != app.client_id:
            return False
        self._revoke_family(stored.family_id, now)
        log.info("refresh token revoked with its token family")
        return True

    def _revoke_access(self, app: RelyingApp, token: str) -> bool:
        try:
            claims = self.verifiers.verify(token)
        except InvalidToken:
            return False
        if claims.get("client_id") != app.client_id:
            return False
        expires_at = datetime.fromtimestamp(float(claims["exp"]), UTC)
        with self.store.write() as tx:
            tx.revoke_access_token(
                str(claims["jti"]), client_id=app.client_id, expires_at=expires_at
            )
        log.info("access token revoked")
        return True

    # -- internals ------------------------------------------------------------------------

    def _revoke_family(self, family_id: str, now: datetime) -> None:
        with self.store.write() as tx:
            tx.revoke_family(family_id, now=now)

    def _new_refresh(self, family: TokenFamily, now: datetime) -> tuple[str, RefreshToken]:
        value, token_hash = new_refresh_token(family.id)
        return value, RefreshToken(
            token_hash=token_hash,
            family_id=family.id,
            client_id=family.client_id,
            created_at=now,
            expires_at=now + self.refresh_lifetime,
        )

    def _refresh_entries(
        self,
        app: RelyingApp,
        family: TokenFamily,
        scopes: tuple[str, ...],
        now: datetime,
        purposes: list[Purpose] | None = None,
    ) -> list[AuditEntry]:
        """A refresh's audit entries: the family's entries for these scopes, made and
        checked once per worker while the app's purposes stay the same (the purposes list
        the consent records answer is the same object until a purpose or notice changes;
        the cache holds it, so that identity comparison is sound), then stamped ``now``."""
        if purposes is None:
            purposes = self.consent.purposes(app.client_id)
        key = (family.id, scopes)
        cached = self._refresh_templates.get(key)
        if cached is None or cached[0] is not purposes:
            templates = self._entries(app, family, scopes, _REFRESH_KINDS, now, purposes)
            if len(self._refresh_templates) >= _MAX_TEMPLATES:
                self._refresh_templates.clear()
            self._refresh_templates[key] = (purposes, templates)
            return templates
        return [template.at(now) for template in cached[1]]

    def _entries(
        self,
        app: RelyingApp,
        family: TokenFamily,
        scopes: Sequence[str],
        kinds: Sequence[str],
        now: datetime,
        purposes: Sequence[Purpose] | None = None,
    ) -> list[AuditEntry]:
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

    def _access_token(
        self, app: RelyingApp, family: TokenFamily, scopes: Sequence[str]
    ) -> IssuedToken:
        extra: dict[str, Any] = {FAMILY_CLAIM: family.id}
        if family.grant_ids:
            extra[GRANTS_CLAIM] = list(family.grant_ids)
        auth_time = _epoch(family.auth_time)
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
            sector_identifier=_sector(app),
            auth_time=auth_time,
            acr=family.acr,
            extra=extra,
        )

    def _release(
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
                values = self.releaser.release(
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


class _FamilyToRevoke(TokenError):
    """A refusal whose token family is revoked once the transaction has rolled back."""

    def __init__(self, family_id: str, error: str, description: str) -> None:
        super().__init__(error, description)
        self.family_id = family_id


def _covered(claims: Sequence[str], purpose: Purpose, within: Collection[str]) -> tuple[str, ...]:
    return tuple(c for c in claims if c in within and CLAIM_FIELDS.get(c) in purpose.item_names)


def _sector(app: RelyingApp) -> str:
    if app.sector_identifier is None:
        raise TokenError("unauthorized_client", "this client receives no citizen tokens")
    return app.sector_identifier


def _response(
    access: IssuedToken, scopes: Sequence[str], refresh: str | None, id_token: str | None
) -> dict[str, Any]:
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
