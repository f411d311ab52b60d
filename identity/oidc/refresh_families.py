"""Token families and rotating refresh tokens (RFC 6749 §6, §10.4; RFC 9700 §4.14.2).

A **token family** is what one authorization code exchange creates: the citizen, the app,
the scopes and claims, the purposes with their consent grants, the authentication
(``auth_time``, ``acr``, ``amr``). Every token issued from it refers to it: refresh tokens
by a column, access tokens by the ``token_family`` claim. Revoking the family (a reused
code, a reused refresh token, a revocation request) makes all of them inactive at once:
refresh tokens are refused, and introspection and userinfo treat the family's access
tokens as inactive.

**Refresh tokens** are opaque to apps: ``<family id>.<256 random bits>``, stored only as
SHA-256 hashes of the whole value, bound to the client. Each use rotates: the presented
token is marked used if it is unused, unexpired, the client's and of its family, and the
family is not revoked; its successor is stored and the issuance's audit entries queued, all
committed together (one statement on PostgreSQL, whose UPDATE holds the row lock; one
``BEGIN IMMEDIATE`` transaction on SQLite). When that write matches nothing, a transaction
that locks the token tells the refusal apart. A concurrent use of the same token waits for
the commit and then finds the token used. Presenting a used token again means two
parties hold it (RFC 9700 §4.14.2: "the authorization server cannot determine which party
submitted the invalid refresh token"): the whole family is revoked. A refresh token also
stops working the moment a consent grant it was issued under is withdrawn or expires
(UU PDP Art. 40): the grant ids travel with the family.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from identity.oidc.codes import ReleasedPurpose, grant_ids_of, hash_secret

if TYPE_CHECKING:
    from collections.abc import Sequence

    from audit.entry import AuditEntry

__all__ = [
    "FAMILY_CLAIM",
    "GRANTS_CLAIM",
    "REFRESH_TOKEN_LIFETIME",
    "KnownFamilies",
    "RefreshToken",
    "RefreshTransaction",
    "RevocationTransaction",
    "RotationTransaction",
    "TokenFamily",
    "family_named_by",
    "new_family_id",
    "new_refresh_token",
]

#: The access-token claim naming the token family (a random id, nothing about the citizen).
FAMILY_CLAIM = "token_family"
#: The access-token claim listing the consent grants the token was issued under.
GRANTS_CLAIM = "consent_grants"
REFRESH_TOKEN_LIFETIME = timedelta(days=14)
MAX_REFRESH_TOKEN_CHARS = 128
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def new_family_id() -> str:
    """128 random bits, base64url: a family id (a valid audit identifier too)."""
    return secrets.token_urlsafe(16)


def new_refresh_token(family_id: str) -> tuple[str, str]:
    """A fresh refresh token of the family ``family_id``, and its stored hash.

    The value is ``<family id>.<256 random bits>``, base64url: the family id (already in
    every access token of the family, :data:`FAMILY_CLAIM`) lets the token endpoint know the
    family before it reads the database (:func:`family_named_by`); the random part is the
    secret. Only the hash of the whole value is stored."""
    value = f"{family_id}.{secrets.token_urlsafe(32)}"
    return value, hash_secret(value)


def family_named_by(value: str) -> str | None:
    """The family id a refresh token names (:func:`new_refresh_token`), or None for a
    value of another form (tokens issued before the id was part of them). Only a hint:
    the token is valid only if its hash is stored, for that family."""
    family_id, dot, secret = value.partition(".")
    if not dot or not 16 <= len(family_id) <= 32 or len(secret) < 43:
        return None
    return family_id if _BASE64URL.fullmatch(family_id) else None


@dataclass(frozen=True, slots=True)
class TokenFamily:
    """Everything tokens of one authorization share. ``revoked_at``: when it was revoked."""

    id: str
    client_id: str
    citizen_id: str
    scopes: tuple[str, ...]
    claims: tuple[str, ...]
    purposes: tuple[ReleasedPurpose, ...]
    auth_time: datetime
    acr: str
    amr: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def grant_ids(self) -> tuple[str, ...]:
        return grant_ids_of(self.purposes)


@dataclass(frozen=True, slots=True)
class RefreshToken:
    token_hash: str
    family_id: str
    client_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class RefreshTransaction(Protocol):
    def add_family(self, family: TokenFamily) -> None: ...
    def get_family(self, family_id: str) -> TokenFamily | None: ...
    def revoke_family(self, family_id: str, *, now: datetime) -> None:
        """Revoke the family and every refresh token of it (idempotent)."""
        ...

    def add_refresh_token(self, token: RefreshToken) -> None: ...
    def get_refresh_token(self, token_hash: str) -> RefreshToken | None: ...
    def use_refresh_token(self, token_hash: str, *, now: datetime) -> bool:
        """Mark the token used if it was unused; False if it had been used already."""
        ...

    def purge_refresh_tokens(self, now: datetime) -> int: ...


class RotationTransaction(Protocol):
    """The refresh grant's one write transaction (RFC 6749 §6): ``bind`` takes the audit
    entries, so that the rotation and its record commit together."""

    @property
    def bind(self) -> Any: ...

    def lock_refresh_token(self, token_hash: str) -> tuple[RefreshToken, TokenFamily] | None:
        """The token and its family, locked until the transaction ends (a concurrent use of
        the same token waits, then finds it used); None for an unknown token."""
        ...

    def use_refresh_token(self, token_hash: str, *, now: datetime) -> bool: ...
    def add_refresh_token(self, token: RefreshToken) -> None: ...

    def purge_refresh_tokens(self, now: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class Rotation:
    """A refresh token's rotation when nothing is to refuse: the token presented (by its
    hash) is marked used if it is unused, unexpired, ``client_id``'s and of ``family_id``,
    and the family is not revoked; then ``successor_hash`` is stored and ``audit_entries``
    queued; all or nothing."""

    token_hash: str
    family_id: str
    client_id: str
    successor_hash: str
    now: datetime
    successor_expires_at: datetime
    audit_entries: Sequence[AuditEntry]


class KnownFamilies:
    """The token families one worker has met, by id, for the refresh grant's one-statement
    rotation: what a family holds never changes, except ``revoked_at``, which the rotation
    statement checks in the database (a revocation is seen at once, by every worker).
    Bounded: emptied when full."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._max_entries = max_entries
        self._families: dict[str, TokenFamily] = {}

    def get(self, family_id: str) -> TokenFamily | None:
        return self._families.get(family_id)

    def remember(self, family: TokenFamily) -> None:
        if len(self._families) >= self._max_entries:
            self._families.clear()
        self._families[family.id] = family


class RevocationTransaction(Protocol):
    def revoke_access_token(self, jti: str, *, client_id: str, expires_at: datetime) -> None:
        """Remember a revoked access token until it would have expired (idempotent)."""
        ...

    def is_access_token_revoked(self, jti: str) -> bool: ...
    def remember_assertion(self, client_id: str, jti: str, *, expires_at: datetime) -> bool:
        """Record a client assertion's ``jti``; False if it was seen already (a replay)."""
        ...

    def purge_revocations(self, now: datetime) -> int: ...
