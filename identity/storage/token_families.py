"""Token families and their rotating refresh tokens (RFC 6749 §6,
:mod:`identity.oidc.refresh_families`).

- ``identity_token_family``: what a code exchange created; every token of it refers to it.
- ``identity_refresh_token``: rotating refresh tokens by hash (SHA-256, never the value the
  app holds); ``used_at`` once rotated.

The refresh grant is the busiest write: its statements are compiled once per dialect
(:mod:`identity.storage.driver_statements`) and run on a plain connection
(:class:`SqlRefreshTransaction`), or, on PostgreSQL, as one statement alone
(:meth:`SqlRefreshStore.rotate_alone`), on the event loop too
(:meth:`SqlRefreshStore.rotate_on_loop`, :mod:`identity.storage.loop_connections`). Within
:class:`identity.storage.oidc.SqlOidcTransaction` a code exchange writes its family and its
first refresh token (:class:`TokenFamilyStatements`). Expired refresh tokens are purged by
the writes that add new ones, a batch at a time, and families left with none after
:data:`FAMILY_GRACE`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    ForeignKey,
    Index,
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
from sqlalchemy.orm import Mapped, mapped_column

from audit.storage.enqueue import enqueue_parameters, enqueue_statement, guarded_enqueue
from audit.storage.tables import UTCDateTime
from identity.oidc.codes import ReleasedPurpose
from identity.oidc.refresh_families import RefreshToken, Rotation, TokenFamily
from identity.storage.codes import purposes_json, purposes_of
from identity.storage.database import Database
from identity.storage.driver_statements import DriverStatement
from identity.storage.loop_connections import LoopConnections
from identity.storage.sql_store import PURGE_BATCH, SqlTransaction, from_row, rowcount, to_row
from identity.storage.tables import IdentityBase

#: A family with no refresh token left is kept this long for its access tokens' checks.
FAMILY_GRACE = timedelta(days=1)


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
        scopes=tuple(scopes.split()),
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
    token = RefreshToken(token_hash, family_id, client_id, created_at, expires_at, used_at)
    return token, _family_of_row((family_id, *family_columns))


def _family(row: IdentityTokenFamily) -> TokenFamily:
    return _family_of_row(
        (
            row.id, row.client_id, row.citizen_id, row.scopes, row.claims, row.purposes,
            row.auth_time, row.acr, row.amr, row.created_at, row.revoked_at,
        )
    )  # fmt: skip


# A family's lists never change and few distinct ones exist: parse each text once.
@lru_cache(maxsize=4096)
def _json_strings(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


@lru_cache(maxsize=4096)
def _cached_purposes(text: str) -> tuple[ReleasedPurpose, ...]:
    return purposes_of(text)


class RefreshStatements(ABC):
    """The refresh grant's statements (compiled once per dialect,
    :mod:`identity.storage.driver_statements`) on the transaction's connection; shared by
    :class:`identity.storage.oidc.SqlOidcTransaction` and the lighter
    :class:`SqlRefreshTransaction`."""

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
        purged = rowcount(
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
        return purged + rowcount(result)


class TokenFamilyStatements(SqlTransaction, RefreshStatements):
    """Token families' statements in a transaction over an ORM session, with the refresh
    grant's on the session's connection (:class:`identity.oidc.refresh_families.
    RefreshTransaction`)."""

    _held: Connection | None = None

    def _connection(self) -> Connection:
        if self._held is None:
            self._held = self.session.connection()
        return self._held

    def add_family(self, family: TokenFamily) -> None:
        row = to_row(
            IdentityTokenFamily,
            family,
            scopes=" ".join(family.scopes),
            claims=json.dumps(list(family.claims)),
            purposes=purposes_json(family.purposes),
            amr=json.dumps(list(family.amr)),
        )
        self.session.add(row)
        self.session.flush()  # before its refresh tokens (foreign key)

    def get_family(self, family_id: str) -> TokenFamily | None:
        row = self.session.get(IdentityTokenFamily, family_id)
        return _family(row) if row is not None else None

    def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        row = self.session.get(IdentityRefreshToken, token_hash)
        return from_row(RefreshToken, row) if row is not None else None

    def revoke_families_of(self, citizen_id: str, *, now: datetime) -> int:
        """Revoke every family of the citizen's not revoked yet (an erasure)."""
        result = self.session.execute(
            update(IdentityTokenFamily)
            .where(
                IdentityTokenFamily.citizen_id == citizen_id,
                IdentityTokenFamily.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return rowcount(result)


class SqlRefreshTransaction(RefreshStatements):
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


class SqlRefreshStore:
    """The refresh grant's side of :class:`identity.storage.oidc.SqlOidcStore`: its write
    transaction, its one-statement rotation and the family read outside any transaction."""

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
