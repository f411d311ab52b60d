"""The OpenID Connect provider's store, :class:`SqlOidcStore` (SQLite and PostgreSQL).

Its tables live with their statements, by concern; every secret is stored as a SHA-256
hash, never as the value the browser or the app holds:

- :mod:`identity.storage.sessions`: citizens' login sessions (``identity_session``).
- :mod:`identity.storage.codes`: authorization requests answered to a signed-in citizen
  (``identity_authorization_request``) and the codes they yield
  (``identity_authorization_code``).
- :mod:`identity.storage.token_families`: what a code exchange created
  (``identity_token_family``) and its rotating refresh tokens (``identity_refresh_token``),
  with the refresh grant's own transaction and one-statement rotation.
- :mod:`identity.storage.replay_caches`: revoked access tokens (``identity_revoked_token``)
  and client assertions seen (``identity_client_assertion``).

One transaction type, :class:`SqlOidcTransaction`, spans them all, so that a code exchange
writes its family, its refresh token and its audit entries in one transaction. An erasure
ends the citizen's codes, token families and sessions in its own transaction
(:class:`CitizenTokenErasure`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from identity.storage.codes import CodeStatements
from identity.storage.database import Database
from identity.storage.replay_caches import ReplayCacheStatements
from identity.storage.sessions import SessionStatements
from identity.storage.sql_store import SqlStore
from identity.storage.token_families import SqlRefreshStore, TokenFamilyStatements

log = logging.getLogger(__name__)


class SqlOidcTransaction(
    SessionStatements, CodeStatements, TokenFamilyStatements, ReplayCacheStatements
):
    """One transaction over the OIDC tables; ``bind`` is what the audit appender writes
    through, so an issuance and its audit entry commit together."""


class SqlOidcStore(SqlRefreshStore, SqlStore[SqlOidcTransaction]):
    """The OIDC provider's store: sessions, answered requests, codes, token families,
    refresh tokens, revocations and assertion ``jti``\\ s (one transaction type, so that a
    code exchange writes its family, its refresh token and its audit entries in one
    transaction), and the refresh grant's own paths (:class:`SqlRefreshStore`)."""

    def __init__(self, *, database: Database) -> None:
        SqlRefreshStore.__init__(self, database=database)
        SqlStore.__init__(self, database=database, transaction=SqlOidcTransaction)


class CitizenTokenErasure:
    """:class:`identity.citizens.erasure.ErasureStep`: ends, in the erasure's own transaction,
    what the OpenID Connect provider issued to the citizen (UU PDP Art. 43-44), so that nothing
    issued before the erasure is honoured after it:

    1. their authorization codes are deleted: an unredeemed one would create a new family,
       and a redeemed one is kept only to revoke its family on a replay, which step 2 does.
       First, because on PostgreSQL the DELETE waits for an exchange in progress (which
       holds the code's row), so that step 2 then sees the family that exchange committed;
       an exchange that comes after finds no code (``invalid_grant``);
    2. every token family of theirs is revoked: each rotation of a refresh token reads the
       family's revocation in its own statement (the one-statement and conditional-write
       fast paths too, whatever a worker remembers of the family), and userinfo,
       introspection, the credential endpoint and the citizen API refuse the family's
       access tokens;
    3. their login sessions are deleted, so that no session authorizes a new code.

    Codes have no index on ``citizen_id``: the DELETE reads the codes of the last hour
    (:data:`identity.oidc.grants.authorization_code.CODE_REUSE_DETECTION`), once per erasure.
    """

    def end_for_erased(self, bind: Session, citizen_id: str, *, now: datetime) -> None:
        tx = SqlOidcTransaction(bind)
        codes = tx.delete_codes_of(citizen_id)
        families = tx.revoke_families_of(citizen_id, now=now)
        sessions = tx.delete_sessions_of(citizen_id)
        log.info(
            "erasure ended %d token families, %d codes and %d sessions", families, codes, sessions
        )
