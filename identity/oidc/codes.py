"""Authorization codes (RFC 6749 §4.1.2, §10.5; RFC 9700 §4.5), framework-free.

- A code is 256 random bits (base64url, 43 characters); only its SHA-256 is stored, so the
  database never holds a redeemable code.
- It lives 60 seconds (RFC 6749 §4.1.2 recommends at most 10 minutes; a browser
  redirect and a back-channel exchange take well under a second).
- It is bound to what the authorization decided: the client, the exact redirect URI, the
  PKCE challenge (RFC 7636 §4.4), the nonce, the citizen's session (``auth_time``, ``acr``,
  ``amr``), the scopes and claims, and the purposes the consent gate allowed with their
  grant ids.
- It is single-use: the first exchange marks it used in the same statement that checks it
  is unused (two concurrent exchanges cannot both win). A second use is an attack or a
  leak: per RFC 6749 §4.1.2 "the authorization server SHOULD revoke (when possible) all
  tokens previously issued based on that authorization code": the whole token family of
  the first exchange is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from audit.entry import LegalBasis

__all__ = [
    "CODE_LIFETIME",
    "AuthorizationCode",
    "CodeTransaction",
    "IssuedPurpose",
    "ReleasedPurpose",
    "grant_ids_of",
    "hash_secret",
    "new_code",
]

CODE_LIFETIME = timedelta(seconds=60)
MAX_CODE_CHARS = 128


def hash_secret(value: str) -> str:
    """Hex SHA-256 of a random, high-entropy secret (a code or a refresh token): what is
    stored and looked up. The lookup by hash is the comparison, so no timing of a string
    comparison of the secret itself can leak."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_code() -> tuple[str, str]:
    """A fresh code and its stored hash."""
    value = secrets.token_urlsafe(32)
    return value, hash_secret(value)


@dataclass(frozen=True, slots=True)
class ReleasedPurpose:
    """A purpose the consent gate allowed when the code was issued: its code, the legal
    basis it rests on (UU PDP Art. 20(2)) and, for consent, the grant id."""

    code: str
    legal_basis: LegalBasis
    grant_id: str | None = None


class IssuedPurpose(Protocol):
    """A purpose something issued serves (a :class:`ReleasedPurpose`, or a credential's
    purpose): its code, its legal basis and, for consent, the grant id."""

    @property
    def code(self) -> str: ...
    @property
    def legal_basis(self) -> LegalBasis: ...
    @property
    def grant_id(self) -> str | None: ...


def grant_ids_of(purposes: Iterable[IssuedPurpose]) -> tuple[str, ...]:
    """The consent grant ids of ``purposes`` (of those that rest on consent), in order."""
    return tuple(p.grant_id for p in purposes if p.grant_id is not None)


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    """An issued code, as stored (by hash). ``authorization_id``: the token family its
    exchange created (set by the first use)."""

    code_hash: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    citizen_id: str
    session_id: str
    auth_time: datetime
    acr: str
    amr: tuple[str, ...]
    scopes: tuple[str, ...]
    claims: tuple[str, ...]
    purposes: tuple[ReleasedPurpose, ...]
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    authorization_id: str | None = None

    @property
    def grant_ids(self) -> tuple[str, ...]:
        return grant_ids_of(self.purposes)


class CodeTransaction(Protocol):
    def add_code(self, code: AuthorizationCode) -> None: ...
    def get_code(self, code_hash: str) -> AuthorizationCode | None: ...
    def use_code(self, code_hash: str, *, now: datetime, authorization_id: str) -> bool:
        """Mark the code used by the family ``authorization_id`` if it was unused; False if
        it had been used already (nothing changes then)."""
        ...

    def purge_codes(self, now: datetime) -> int: ...
