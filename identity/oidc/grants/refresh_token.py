"""The refresh token grant at the token endpoint (RFC 6749 §6), framework-free.

The presented refresh token rotates: it is marked used and its successor stored, with the
TOKEN_ISSUED audit entries, all committed together (UU PDP Art. 31). When nothing is to
refuse, that is one conditional write (:meth:`RefreshTokenGrant._rotate_alone`: one statement
on PostgreSQL), or, when everything it needs is in this worker's memory, one statement on the
event loop (:meth:`RefreshTokenGrant.refresh_on_loop`); otherwise, or when that write changes
nothing, one write transaction tells the refusal apart (:meth:`RefreshTokenGrant._rotate`).
A reused refresh token revokes its family (RFC 9700 §4.14.2); so does a consent grant of the
family withdrawn or expired (UU PDP Art. 40), which refuses the refresh. ``scope`` may
narrow, never widen (§6). The answer carries a new access token and a new ID token (OIDC
Core §12.2), signed after the commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from audit.entry import AuditEntry
from consent.purposes import Purpose
from identity.errors import TokenError
from identity.oidc.clients import GrantType, RelyingApp
from identity.oidc.codes import hash_secret
from identity.oidc.issuance import Issuance, narrowed
from identity.oidc.refresh_families import (
    MAX_REFRESH_TOKEN_CHARS,
    KnownFamilies,
    Rotation,
    RotationTransaction,
    TokenFamily,
    family_named_by,
    new_refresh_token,
)
from identity.oidc.revocation import revoke_family
from identity.storage.housekeeping import purge_due

__all__ = ["RefreshStore", "RefreshTokenGrant"]

log = logging.getLogger(__name__)

_REFRESH_KINDS = ("token:access", "token:id", "token:refresh")
_MAX_TEMPLATES = 10_000


class RefreshStore(Protocol):
    """The OIDC store as the refresh grant uses it."""

    def write(self) -> Any: ...  # AbstractContextManager[RefreshTransaction]
    def refresh_write(self) -> AbstractContextManager[RotationTransaction]: ...

    def rotate_alone(self, rotation: Rotation) -> bool: ...
    def family(self, family_id: str) -> TokenFamily | None: ...
    @property
    def rotates_on_loop(self) -> bool: ...
    async def rotate_on_loop(self, rotation: Rotation) -> bool: ...


class _FamilyToRevoke(TokenError):
    """A refusal whose token family is revoked once the transaction has rolled back."""

    def __init__(self, family_id: str, error: str, description: str) -> None:
        super().__init__(error, description)
        self.family_id = family_id


@dataclass(eq=False, kw_only=True)
class RefreshTokenGrant:
    """``token(app, form)`` in a thread, ``refresh_on_loop(app, form)`` on the event loop
    (see the module text).

    Args:
        store: the OIDC store (families, refresh tokens, the rotation statements).
        issuance: issues the family's tokens and records the issuance; its consent records
            say whether the family's consent grants are still active (and hold the cached
            view of them the event loop reads).
        families: the token families this worker knows.
        clock: the current UTC time.
    """

    store: RefreshStore
    issuance: Issuance
    families: KnownFamilies
    clock: Callable[[], datetime]

    def __post_init__(self) -> None:
        # What the event loop's path reads, held here so that it costs no extra lookup.
        self.consent = self.issuance.consent
        self.tokens = self.issuance.tokens
        self.refresh_lifetime = self.issuance.refresh_lifetime
        self._respond = self.issuance.family_response
        self._refresh_templates: dict[
            tuple[str, tuple[str, ...]], tuple[Sequence[Purpose], list[AuditEntry]]
        ] = {}

    def token(self, app: RelyingApp, form: Mapping[str, str]) -> dict[str, Any]:
        """RFC 6749 §6. When the token names a family this worker knows (or reads) and
        nothing is to refuse, the rotation is one conditional write (:meth:`_rotate_alone`);
        otherwise, or when that write changes nothing, one write transaction
        (:meth:`_rotate`) decides and tells the refusal apart. A replay (RFC 9700 §4.14.2)
        or a withdrawn or expired consent grant (UU PDP Art. 40) revokes the family. The
        tokens are signed after the commit.

        Raises:
            TokenError: the RFC 6749 §5.2 error.
        """
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
                return self._respond(app, family, *rotated)
        try:
            with self.store.refresh_write() as tx:
                if purge_due():
                    tx.purge_refresh_tokens(now)
                family, scopes, new_value = self._rotate(tx, app, token_hash, requested_scope, now)
        except _FamilyToRevoke as refusal:
            revoke_family(self.store, refusal.family_id, now)
            raise TokenError(refusal.error, refusal.description) from None
        self.families.remember(family)
        return self._respond(app, family, scopes, new_value)

    async def refresh_on_loop(
        self, app: RelyingApp, form: Mapping[str, str]
    ) -> dict[str, Any] | None:
        """The refresh grant's common case on the event loop, with no thread hand-off:
        everything it needs to decide is in this worker's memory (the family, the consent
        view, the app's purposes) and the rotation is one statement
        (:meth:`RefreshStore.rotate_on_loop`, PostgreSQL). Returns None, having changed
        nothing, for anything else: another grant, a refusal to tell apart (the write
        changed nothing), a cache to fill; the token endpoint, in a thread, answers those
        exactly as before (:meth:`identity.oidc.token_endpoint.TokenService.token`). What is
        done in a thread once the token has rotated: the purge of expired tokens when one is
        due, and the signing should the signing key be due for its periodic re-read."""
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
        family = self.families.get(family_id) if family_id is not None else None
        if family is None or family.client_id != app.client_id or family.revoked_at is not None:
            return None
        try:
            scopes = narrowed(form.get("scope"), family.scopes)
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
            return await asyncio.to_thread(self._respond, app, family, scopes, new_value)
        return self._respond(app, family, scopes, new_value)

    def _named_family(self, value: str) -> TokenFamily | None:
        """The family a refresh token names (:func:`family_named_by`), from this worker's
        memory or the database; only a hint, which the rotation checks."""
        family_id = family_named_by(value)
        if family_id is None:
            return None
        family = self.families.get(family_id)
        if family is None:
            family = self.store.family(family_id)
            if family is not None:
                self.families.remember(family)
        return family

    def _rotate_alone(
        self,
        app: RelyingApp,
        family: TokenFamily,
        token_hash: str,
        requested_scope: str | None,
        now: datetime,
    ) -> tuple[tuple[str, ...], str] | None:
        """The rotation as one conditional write (:meth:`RefreshStore.rotate_alone`: one
        statement on PostgreSQL, one short transaction on SQLite; the token marked used, its
        successor stored and the audit entries queued, all or nothing: UU PDP Art. 31), when
        nothing known is to refuse. Returns the scopes granted and the new refresh token;
        None to leave the request to :meth:`_rotate`: a refusal known beforehand (scope,
        consent), or a write that changed nothing (a token unknown, used, expired or of
        a revoked family), so that a replay still revokes the family."""
        if family.revoked_at is not None:
            return None
        try:
            scopes = narrowed(requested_scope, family.scopes)
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
        scopes = narrowed(requested_scope, family.scopes)
        if not all(self.consent.is_grant_active(g) for g in family.grant_ids):
            log.info("refresh refused: a consent grant was withdrawn or expired")
            raise _FamilyToRevoke(family.id, "invalid_grant", "consent was withdrawn")
        if not tx.use_refresh_token(token_hash, now=now):  # unreachable: the row is locked
            raise TokenError("invalid_grant", "the refresh token is not valid")
        new_value, successor = self.issuance.new_refresh_token(family, now)
        tx.add_refresh_token(successor)
        self.issuance.record(
            tx.bind, self.issuance.entries(app, family, scopes, _REFRESH_KINDS, now), now
        )
        return family, scopes, new_value

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
            templates = self.issuance.entries(app, family, scopes, _REFRESH_KINDS, now, purposes)
            if len(self._refresh_templates) >= _MAX_TEMPLATES:
                self._refresh_templates.clear()
            self._refresh_templates[key] = (purposes, templates)
            return templates
        return [template.at(now) for template in cached[1]]
