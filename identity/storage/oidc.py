"""OpenID Connect provider tables and :class:`SqlOidcStore` (SQLite and PostgreSQL).

Every secret is stored as a SHA-256 hash, never as the value the browser or the app holds:

- ``identity_session``: citizens' login sessions, by hash of the cookie value
  (:mod:`identity.login.sessions`).
- ``identity_authorization_request``: authorization requests answered to a signed-in
  citizen, until they expire, so that a sealed request yields one code
  (:mod:`identity.oidc.authorize`: a pending request is never stored, it travels sealed);
  without its ``state``, ``nonce`` and ``login_hint``.
- ``identity_authorization_code``: codes by hash, 60 seconds, single use
  (:mod:`identity.oidc.codes`).
- ``identity_token_family``: what a code exchange created; ``identity_refresh_token``:
  rotating refresh tokens by hash (:mod:`identity.oidc.refresh_families`).
- ``identity_revoked_token``: revoked access tokens' ``jti`` until they expire (RFC 7009).
- ``identity_client_assertion``: hashes of the ``jti`` of client assertions seen, until
  they expire (RFC 7523 §3 item 7: single use).

Expired rows are purged by the writes that add new ones, a batch at a time. An erasure
ends the citizen's codes, token families and sessions in its own transaction
(:class:`CitizenTokenErasure`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.entry import LegalBasis
from audit.storage.store import enqueue_parameters, enqueue_statement, guarded_enqueue
from audit.storage.tables import UTCDateTime
from identity.login.sessions import Session as LoginSession
from identity.oidc.authorize import StoredRequest
from identity.oidc.codes import AuthorizationCode, ReleasedPurpose
from identity.oidc.refresh_families import RefreshToken, Rotation, TokenFamily
from identity.storage.database import Database
from identity.storage.driver_statements import DriverStatement
from identity.storage.loop_connections import LoopConnections
from identity.storage.tables import IdentityBase

log = logging.getLogger(__name__)

PURGE_BATCH = 500
#: A family with no refresh token left is kept this long for its access tokens' checks.
FAMILY_GRACE = timedelta(days=1)


class IdentitySession(IdentityBase):
    """A citizen's login session; ``id`` is the SHA-256 of the cookie value."""

    __tablename__ = "identity_session"
    __table_args__ = (Index(None, "citizen_id"), Index(None, "expires_at"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    citizen_id: Mapped[str] = mapped_column(String(32))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    amr: Mapped[str] = mapped_column(Text)  # JSON array (RFC 8176 values)
    acr: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityAuthorizationRequest(IdentityBase):
    """An authorization request (OIDC Core §3.1.2.1) answered to a signed-in citizen, kept
    until it expires so that it is answered once; ``state``, ``nonce`` and ``login_hint``
    stay empty (the columns date from when pending requests were stored)."""

    __tablename__ = "identity_authorization_request"
    __table_args__ = (Index(None, "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated
    claims: Mapped[str] = mapped_column(Text)  # JSON array
    purposes: Mapped[str] = mapped_column(Text)  # JSON array of purpose codes
    state: Mapped[str | None] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(String(32))  # space-separated
    max_age: Mapped[int | None] = mapped_column(Integer)
    login_hint: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed
    ui_locales: Mapped[str] = mapped_column(Text)  # space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityAuthorizationCode(IdentityBase):
    """An authorization code by hash, with everything it is bound to."""

    __tablename__ = "identity_authorization_code"
    __table_args__ = (Index(None, "expires_at"),)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str | None] = mapped_column(Text)
    citizen_id: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[str] = mapped_column(String(64))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    acr: Mapped[str] = mapped_column(String(64))
    amr: Mapped[str] = mapped_column(Text)  # JSON array
    scopes: Mapped[str] = mapped_column(Text)  # space-separated
    claims: Mapped[str] = mapped_column(Text)  # JSON array
    purposes: Mapped[str] = mapped_column(Text)  # JSON [{"code", "basis", "grant"}]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    family_id: Mapped[str | None] = mapped_column(String(32))


class IdentityTokenFamily(IdentityBase):
    """What one code exchange created; every token of it refers to it."""

    __tablename__ = "identity_token_family"
    __table_args__ = (Index(None, "citizen_id"), Index(None, "created_at"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    citizen_id: Mapped[str] = mapped_column(String(32))
    scopes: Mapped[str] = mapped_column(Text)
    claims: Mapped[str] = mapped_column(Text)
    purposes: Mapped[str] = mapped_column(Text)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    acr: Mapped[str] = mapped_column(String(64))
    amr: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityRefreshToken(IdentityBase):
    """A refresh token by hash; ``used_at`` once rotated."""

    __tablename__ = "identity_refresh_token"
    __table_args__ = (Index(None, "family_id"), Index(None, "expires_at"))

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(32), ForeignKey("identity_token_family.id"))
    client_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityRevokedToken(IdentityBase):
    """A revoked access token's ``jti``, kept until the token would have expired."""

    __tablename__ = "identity_revoked_token"
    __table_args__ = (Index(None, "expires_at"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityClientAssertion(IdentityBase):
    """A client assertion's ``jti`` (as SHA-256) seen from a client, until it expires."""

    __tablename__ = "identity_client_assertion"
    __table_args__ = (Index(None, "expires_at"),)

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ------------------------------------------------------------------ conversions


def _purposes_json(purposes: Sequence[ReleasedPurpose]) -> str:
    return json.dumps(
        [{"code": p.code, "basis": p.legal_basis.value, "grant": p.grant_id} for p in purposes]
    )


def _purposes(text: str) -> tuple[ReleasedPurpose, ...]:
    return tuple(
        ReleasedPurpose(item["code"], LegalBasis(item["basis"]), item["grant"])
        for item in json.loads(text)
    )


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _code(row: IdentityAuthorizationCode) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=row.code_hash,
        client_id=row.client_id,
        redirect_uri=row.redirect_uri,
        code_challenge=row.code_challenge,
        nonce=row.nonce,
        citizen_id=row.citizen_id,
        session_id=row.session_id,
        auth_time=row.auth_time,
        acr=row.acr,
        amr=tuple(json.loads(row.amr)),
        scopes=_words(row.scopes),
        claims=tuple(json.loads(row.claims)),
        purposes=_purposes(row.purposes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        authorization_id=row.family_id,
    )


def _family(row: IdentityTokenFamily) -> TokenFamily:
    return _family_of_row(
        (
            row.id, row.client_id, row.citizen_id, row.scopes, row.claims, row.purposes,
            row.auth_time, row.acr, row.amr, row.created_at, row.revoked_at,
        )
    )  # fmt: skip


_refresh_table = cast(Table, IdentityRefreshToken.__table__)
_family_table = cast(Table, IdentityTokenFamily.__table__)
_token = _refresh_table.c
_family_columns = _family_table.c
_FAMILY_RETURNED = (
    _family_columns.client_id.label("family_client_id"),
    _family_columns.citizen_id,
    _family_columns.scopes,
    _family_columns.claims,
    _family_columns.purposes,
    _family_columns.auth_time,
    _family_columns.acr,
    _family_columns.amr,
    _family_columns.created_at.label("family_created_at"),
    _family_columns.revoked_at,
)
#: The presented token and its family, both rows locked (FOR UPDATE; SQLite omits it).
_LOCK_REFRESH = DriverStatement(
    select(
        _token.family_id,
        _token.client_id,
        _token.created_at,
        _token.expires_at,
        _token.used_at,
        *_FAMILY_RETURNED,
    )
    .join_from(
        IdentityRefreshToken.__table__,
        IdentityTokenFamily.__table__,
        _token.family_id == _family_columns.id,
    )
    .where(_token.token_hash == bindparam("token_hash"))
    .with_for_update()
)
_use_if_valid = (
    update(_refresh_table)
    .where(
        _token.token_hash == bindparam("token_hash"),
        _token.used_at.is_(None),
        # Not ``=``: a generic plan may then look the token up by its family's index
        # and filter the family's every token (its whole chain of used ones) on each
        # refresh; ``IS NOT DISTINCT FROM`` (equal here: both sides are never null) is
        # no index condition, so the lookup is by the primary key.
        _token.family_id.is_not_distinct_from(bindparam("family_id")),
        _token.client_id == bindparam("client_id"),
        _token.expires_at > bindparam("now", type_=UTCDateTime()),
        ~exists().where(
            _family_columns.id == bindparam("family_id"), _family_columns.revoked_at.is_not(None)
        ),
    )
    .values(used_at=bindparam("now", type_=UTCDateTime()))
)
_rotated = _use_if_valid.returning(_token.family_id, _token.client_id).cte("rotated")
#: SQLite's counterpart of :func:`_rotate_alone`'s first step, in a ``BEGIN IMMEDIATE``
#: transaction (the database's write lock held until the commit).
_USE_IF_VALID = DriverStatement(_use_if_valid)


@lru_cache(maxsize=16)
def _enqueue(entries: int) -> DriverStatement:
    return DriverStatement(enqueue_statement(entries))


@lru_cache(maxsize=16)
def _rotate_alone(entries: int) -> DriverStatement:
    """PostgreSQL's whole refresh grant in one statement, run alone (autocommit): mark the
    token used if it is unused, unexpired, the client's and of the family named, and the
    family is not revoked; store its successor; queue the ``entries`` audit entries; all or
    nothing. A concurrent use of the token waits for the row lock, then matches nothing.
    Returns how many tokens it rotated (1 or 0)."""
    successor = (
        insert(_refresh_table)
        .from_select(
            ["token_hash", "family_id", "client_id", "created_at", "expires_at"],
            select(
                bindparam("successor_hash", type_=_token.token_hash.type),
                _rotated.c.family_id,
                _rotated.c.client_id,
                bindparam("now", type_=UTCDateTime()),
                bindparam("successor_expires_at", type_=UTCDateTime()),
            ),
        )
        .cte("successor")
    )
    return DriverStatement(
        select(func.count())
        .select_from(_rotated)
        .add_cte(successor)
        .add_cte(guarded_enqueue(_rotated, entries))
    )


_FAMILY = DriverStatement(
    select(_family_columns.id, *_FAMILY_RETURNED).where(
        _family_columns.id == bindparam("family_id")
    )
)
_USE_REFRESH = DriverStatement(
    update(_refresh_table)
    .where(_token.token_hash == bindparam("token_hash"), _token.used_at.is_(None))
    .values(used_at=bindparam("now", type_=UTCDateTime()))
)
_ADD_REFRESH = DriverStatement(
    insert(_refresh_table).values({c.name: bindparam(c.name, type_=c.type) for c in _token})
)
_REVOKE_FAMILY = DriverStatement(
    update(_family_table)
    .where(_family_columns.id == bindparam("family_id"), _family_columns.revoked_at.is_(None))
    .values(revoked_at=bindparam("now", type_=UTCDateTime()))
)


def _family_of_row(row: tuple[Any, ...]) -> TokenFamily:
    """A family's id and :data:`_FAMILY_RETURNED` (a row of :data:`_FAMILY`) as a family."""
    (
        family_id, client_id, citizen_id, scopes, claims, purposes, auth_time, acr, amr,
        created_at, revoked_at,
    ) = row  # fmt: skip
    return TokenFamily(
        id=family_id,
        client_id=client_id,
        citizen_id=citizen_id,
        scopes=_words(scopes),
        claims=_json_strings(claims),
        purposes=_cached_purposes(purposes),
        auth_time=auth_time,
        acr=acr,
        amr=_json_strings(amr),
        created_at=created_at,
        revoked_at=revoked_at,
    )


def _token_and_family(token_hash: str, row: tuple[Any, ...]) -> tuple[RefreshToken, TokenFamily]:
    """A row of :data:`_LOCK_REFRESH` as domain values."""
    family_id, client_id, created_at, expires_at, used_at, *family_columns = row
    token = RefreshToken(
        token_hash=token_hash,
        family_id=family_id,
        client_id=client_id,
        created_at=created_at,
        expires_at=expires_at,
        used_at=used_at,
    )
    return token, _family_of_row((family_id, *family_columns))


# A family's lists never change and few distinct ones exist: parse each text once.
@lru_cache(maxsize=4096)
def _json_strings(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


@lru_cache(maxsize=4096)
def _cached_purposes(text: str) -> tuple[ReleasedPurpose, ...]:
    return _purposes(text)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class _RefreshStatements(ABC):
    """The refresh grant's statements (compiled once per dialect,
    :mod:`identity.storage.driver_statements`) on the transaction's connection; shared by
    :class:`SqlOidcTransaction` and the lighter :class:`SqlRefreshTransaction`."""

    @abstractmethod
    def _connection(self) -> Connection:
        """The connection of the transaction the statements run in."""

    def lock_refresh_token(self, token_hash: str) -> tuple[RefreshToken, TokenFamily] | None:
        """The token and its family in one statement, both rows locked until the transaction
        ends (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the
        database's write lock, and the dialect leaves the clause out)."""
        row = _LOCK_REFRESH.first(self._connection(), {"token_hash": token_hash})
        return _token_and_family(token_hash, row) if row is not None else None

    def use_refresh_token(self, token_hash: str, *, now: datetime) -> bool:
        return _USE_REFRESH.execute(self._connection(), {"token_hash": token_hash, "now": now}) == 1

    def revoke_family(self, family_id: str, *, now: datetime) -> None:
        _REVOKE_FAMILY.execute(self._connection(), {"family_id": family_id, "now": now})

    def add_refresh_token(self, token: RefreshToken) -> None:
        """Written at once (its family must be flushed already: :meth:`add_family` does)."""
        _ADD_REFRESH.execute(
            self._connection(),
            {
                "token_hash": token.token_hash,
                "family_id": token.family_id,
                "client_id": token.client_id,
                "created_at": token.created_at,
                "expires_at": token.expires_at,
                "used_at": token.used_at,
            },
        )

    def purge_refresh_tokens(self, now: datetime) -> int:
        connection = self._connection()
        stale = select(_token.token_hash).where(_token.expires_at <= now).limit(PURGE_BATCH)
        purged = _rowcount(
            connection.execute(delete(_refresh_table).where(_token.token_hash.in_(stale)))
        )
        orphans = (
            select(_family_columns.id)
            .where(
                _family_columns.created_at <= now - FAMILY_GRACE,
                ~exists().where(_token.family_id == _family_columns.id),
            )
            .limit(PURGE_BATCH)
        )
        result = connection.execute(delete(_family_table).where(_family_columns.id.in_(orphans)))
        return purged + _rowcount(result)


class SqlOidcTransaction(_RefreshStatements):
    """One transaction over the OIDC tables; ``bind`` is what the audit appender writes
    through, so an issuance and its audit entry commit together."""

    def __init__(self, session: Session, dialect: str) -> None:
        self.session = session
        self.dialect = dialect
        self._held: Connection | None = None

    @property
    def bind(self) -> Session:
        return self.session

    def _connection(self) -> Connection:
        if self._held is None:
            self._held = self.session.connection()
        return self._held

    def _purge(self, table: Any, column: Any, now: datetime) -> int:
        stale = select(column).where(table.expires_at <= now).limit(PURGE_BATCH)
        key = table.__mapper__.primary_key
        if len(key) == 1:
            result = self.session.execute(delete(table).where(key[0].in_(stale)))
        else:  # composite key: delete by the expiry itself
            result = self.session.execute(delete(table).where(table.expires_at <= now))
        return _rowcount(result)

    def _insert_new(self, table: Any, values: dict[str, Any], keys: list[str]) -> bool:
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        # RETURNING says whether the row went in (psycopg reports no rowcount for it)
        returning = statement.returning(*(getattr(table, key) for key in keys))
        return self.session.execute(returning).first() is not None

    # -- sessions -------------------------------------------------------------------------

    def add_session(self, session: LoginSession, *, created_at: datetime) -> None:
        self.session.add(
            IdentitySession(
                id=session.id,
                citizen_id=session.citizen_id,
                auth_time=session.auth_time,
                amr=json.dumps(list(session.amr)),
                acr=session.acr,
                created_at=created_at,
                expires_at=session.expires_at,
                last_seen=created_at,
            )
        )

    def get_session(self, session_id: str) -> tuple[LoginSession, datetime] | None:
        row = self.session.get(IdentitySession, session_id)
        if row is None:
            return None
        found = LoginSession(
            id=row.id,
            citizen_id=row.citizen_id,
            auth_time=row.auth_time,
            amr=tuple(json.loads(row.amr)),
            acr=row.acr,
            expires_at=row.expires_at,
        )
        return found, row.last_seen

    def touch_session(self, session_id: str, now: datetime) -> None:
        self.session.execute(
            update(IdentitySession).where(IdentitySession.id == session_id).values(last_seen=now)
        )

    def delete_session(self, session_id: str) -> None:
        self.session.execute(delete(IdentitySession).where(IdentitySession.id == session_id))

    def delete_sessions_of(self, citizen_id: str) -> int:
        result = self.session.execute(
            delete(IdentitySession).where(IdentitySession.citizen_id == citizen_id)
        )
        return _rowcount(result)

    def purge_sessions(self, now: datetime) -> int:
        return self._purge(IdentitySession, IdentitySession.id, now)

    # -- answered requests ----------------------------------------------------------------

    def mark_answered(self, request: StoredRequest) -> bool:
        # The app's state and nonce and the login hint (possibly a NIK) are never written.
        return self._insert_new(
            IdentityAuthorizationRequest,
            {
                "id": request.id,
                "client_id": request.client_id,
                "redirect_uri": request.redirect_uri,
                "scopes": " ".join(request.scopes),
                "claims": json.dumps(list(request.claims)),
                "purposes": json.dumps(list(request.purpose_codes)),
                "code_challenge": request.code_challenge,
                "prompt": " ".join(request.prompt),
                "max_age": request.max_age,
                "ui_locales": " ".join(request.ui_locales),
                "created_at": request.created_at,
                "expires_at": request.expires_at,
            },
            ["id"],
        )

    def is_answered(self, request_id: str) -> bool:
        found = self.session.execute(
            select(IdentityAuthorizationRequest.id).where(
                IdentityAuthorizationRequest.id == request_id
            )
        )
        return found.first() is not None

    def purge_requests(self, now: datetime) -> int:
        return self._purge(IdentityAuthorizationRequest, IdentityAuthorizationRequest.id, now)

    # -- codes ----------------------------------------------------------------------------

    def add_code(self, code: AuthorizationCode) -> None:
        self.session.add(
            IdentityAuthorizationCode(
                code_hash=code.code_hash,
                client_id=code.client_id,
                redirect_uri=code.redirect_uri,
                code_challenge=code.code_challenge,
                nonce=code.nonce,
                citizen_id=code.citizen_id,
                session_id=code.session_id,
                auth_time=code.auth_time,
                acr=code.acr,
                amr=json.dumps(list(code.amr)),
                scopes=" ".join(code.scopes),
                claims=json.dumps(list(code.claims)),
                purposes=_purposes_json(code.purposes),
                created_at=code.created_at,
                expires_at=code.expires_at,
                used_at=code.used_at,
                family_id=code.authorization_id,
            )
        )

    def get_code(self, code_hash: str) -> AuthorizationCode | None:
        row = self.session.get(IdentityAuthorizationCode, code_hash)
        return _code(row) if row is not None else None

    def use_code(self, code_hash: str, *, now: datetime, authorization_id: str) -> bool:
        result = self.session.execute(
            update(IdentityAuthorizationCode)
            .where(
                IdentityAuthorizationCode.code_hash == code_hash,
                IdentityAuthorizationCode.used_at.is_(None),
            )
            .values(used_at=now, family_id=authorization_id)
        )
        return _rowcount(result) == 1

    def purge_codes(self, now: datetime) -> int:
        return self._purge(IdentityAuthorizationCode, IdentityAuthorizationCode.code_hash, now)

    # -- token families and refresh tokens ------------------------------------------------

    def add_family(self, family: TokenFamily) -> None:
        self.session.add(
            IdentityTokenFamily(
                id=family.id,
                client_id=family.client_id,
                citizen_id=family.citizen_id,
                scopes=" ".join(family.scopes),
                claims=json.dumps(list(family.claims)),
                purposes=_purposes_json(family.purposes),
                auth_time=family.auth_time,
                acr=family.acr,
                amr=json.dumps(list(family.amr)),
                created_at=family.created_at,
                revoked_at=family.revoked_at,
            )
        )
        self.session.flush()  # before its refresh tokens (foreign key)

    def get_family(self, family_id: str) -> TokenFamily | None:
        row = self.session.get(IdentityTokenFamily, family_id)
        return _family(row) if row is not None else None

    def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        row = self.session.get(IdentityRefreshToken, token_hash)
        if row is None:
            return None
        return RefreshToken(
            token_hash=row.token_hash,
            family_id=row.family_id,
            client_id=row.client_id,
            created_at=row.created_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
        )

    # -- revocations and assertion replay -------------------------------------------------

    def revoke_access_token(self, jti: str, *, client_id: str, expires_at: datetime) -> None:
        self._insert_new(
            IdentityRevokedToken,
            {"jti": jti, "client_id": client_id, "expires_at": expires_at},
            ["jti"],
        )

    def is_access_token_revoked(self, jti: str) -> bool:
        return self.session.get(IdentityRevokedToken, jti) is not None

    def remember_assertion(self, client_id: str, jti: str, *, expires_at: datetime) -> bool:
        jti_hash = hashlib.sha256(jti.encode("utf-8")).hexdigest()
        return self._insert_new(
            IdentityClientAssertion,
            {"client_id": client_id, "jti_hash": jti_hash, "expires_at": expires_at},
            ["client_id", "jti_hash"],
        )

    def purge_revocations(self, now: datetime) -> int:
        revoked = self._purge(IdentityRevokedToken, IdentityRevokedToken.jti, now)
        return revoked + self._purge(IdentityClientAssertion, IdentityClientAssertion.jti_hash, now)


class SqlRefreshTransaction(_RefreshStatements):
    """The refresh grant's write transaction on a plain connection (no ORM session to set
    up, flush and close on the busiest endpoint); ``bind`` takes the audit entries."""

    def __init__(self, connection: Connection) -> None:
        self._held = connection

    @property
    def bind(self) -> Connection:
        return self._held

    def _connection(self) -> Connection:
        return self._held


def _rotation_values(rotation: Rotation) -> dict[str, Any]:
    return {
        "token_hash": rotation.token_hash,
        "family_id": rotation.family_id,
        "client_id": rotation.client_id,
        "successor_hash": rotation.successor_hash,
        "now": rotation.now,
        "successor_expires_at": rotation.successor_expires_at,
        **enqueue_parameters(rotation.audit_entries, queued_at=rotation.now),
    }


class SqlOidcStore:
    """The OIDC provider's store: sessions, pending requests, codes, token families,
    refresh tokens, revocations and assertion ``jti``\\ s (one class, one transaction
    type, so that a code exchange writes its family, its refresh token and its audit
    entries in one transaction)."""

    def __init__(self, *, database: Database) -> None:
        self.database = database
        # BEGIN IMMEDIATE on SQLite, like Database.write() (identity.storage.database)
        self._refresh_engine = database.engine.execution_options(
            jati_sqlite_begin="BEGIN IMMEDIATE"
        )
        self._alone = database.engine if database.dialect == "postgresql" else None
        self._on_loop = LoopConnections(database.engine) if self._alone is not None else None

    @property
    def rotates_on_loop(self) -> bool:
        """Whether :meth:`rotate_on_loop` is available (PostgreSQL)."""
        return self._on_loop is not None

    async def close_loop_connections(self) -> None:
        if self._on_loop is not None:
            await self._on_loop.close()

    @contextmanager
    def write(self) -> Iterator[SqlOidcTransaction]:
        with self.database.write() as session:
            yield SqlOidcTransaction(session, self.database.dialect)

    @contextmanager
    def refresh_write(self) -> Iterator[SqlRefreshTransaction]:
        """A write transaction for the refresh grant (RFC 6749 §6): only its statements, on
        a connection of the same pool; commits on success, rolls back on error."""
        with self._refresh_engine.begin() as connection:
            yield SqlRefreshTransaction(connection)

    def rotate_alone(self, rotation: Rotation) -> bool:
        """The refresh grant's rotation when the caller has nothing to refuse
        (:class:`Rotation`). True if it rotated; False if nothing changed
        (:meth:`refresh_write` tells why).

        PostgreSQL: one statement committed on its own (:func:`_rotate_alone`). SQLite: the
        conditional update, the successor and the entries in one ``BEGIN IMMEDIATE``
        transaction, with no read before them."""
        values = _rotation_values(rotation)
        if self._alone is not None:
            row = _rotate_alone(len(rotation.audit_entries)).first_alone(self._alone, values)
            return row is not None and row[0] == 1
        with self._refresh_engine.begin() as connection:  # BEGIN IMMEDIATE
            tx = SqlRefreshTransaction(connection)
            if _USE_IF_VALID.execute(connection, values) != 1:
                return False
            tx.add_refresh_token(
                RefreshToken(
                    token_hash=rotation.successor_hash,
                    family_id=rotation.family_id,
                    client_id=rotation.client_id,
                    created_at=rotation.now,
                    expires_at=rotation.successor_expires_at,
                )
            )
            _enqueue(len(rotation.audit_entries)).execute(connection, values)
        return True

    async def rotate_on_loop(self, rotation: Rotation) -> bool:
        """:meth:`rotate_alone`'s one statement on the event loop (PostgreSQL only,
        :attr:`rotates_on_loop`; :mod:`identity.storage.loop_connections`)."""
        if self._on_loop is None:
            raise RuntimeError("the rotation runs on the event loop on PostgreSQL only")
        values = _rotation_values(rotation)
        row = await _rotate_alone(len(rotation.audit_entries)).first_on_loop(self._on_loop, values)
        return row is not None and row[0] == 1

    def family(self, family_id: str) -> TokenFamily | None:
        """A token family by id, read outside any transaction."""
        if self._alone is not None:
            row = _FAMILY.first_alone(self._alone, {"family_id": family_id})
        else:
            with self.database.engine.connect() as connection:
                row = _FAMILY.first(connection, {"family_id": family_id})
        return _family_of_row(row) if row is not None else None

    @contextmanager
    def read(self) -> Iterator[SqlOidcTransaction]:
        with self.database.read() as session:
            yield SqlOidcTransaction(session, self.database.dialect)


class CitizenTokenErasure:
    """:class:`identity.citizens.service.ErasureStep`: ends, in the erasure's own transaction, what
    the OpenID Connect provider issued to the citizen (UU PDP Art. 43-44), so that nothing
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
    (:data:`identity.oidc.token_endpoint.CODE_REUSE_DETECTION`), once per erasure.
    """

    def end_for_erased(self, bind: Session, citizen_id: str, *, now: datetime) -> None:
        codes = _rowcount(
            bind.execute(
                delete(IdentityAuthorizationCode).where(
                    IdentityAuthorizationCode.citizen_id == citizen_id
                )
            )
        )
        families = _rowcount(
            bind.execute(
                update(IdentityTokenFamily)
                .where(
                    IdentityTokenFamily.citizen_id == citizen_id,
                    IdentityTokenFamily.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
        )
        sessions = _rowcount(
            bind.execute(delete(IdentitySession).where(IdentitySession.citizen_id == citizen_id))
        )
        log.info(
            "erasure ended %d token families, %d codes and %d sessions", families, codes, sessions
        )
