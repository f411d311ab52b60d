"""The population import's batch statements (:mod:`identity.citizens.population_import`) on
the citizens', activation codes' and audit queue's tables (SQLite and PostgreSQL).

A batch is a handful of statements, whatever its size: one ``SELECT ... WHERE nik_index IN``
for the NIKs already registered, then one bulk insert into each of ``identity_citizen``,
``identity_citizen_key``, ``identity_activation`` and ``audit_queue``
(:func:`audit.storage.bulk.bulk_insert`: ``COPY`` on PostgreSQL, one ``executemany`` on
SQLite), in one transaction. The rows are the ones :meth:`SqlCitizenTransaction.add
<identity.storage.citizens.SqlCitizenTransaction.add>`,
:meth:`SqlActivationTransaction.replace
<identity.storage.activation.SqlActivationTransaction.replace>` and
:meth:`SqlAuditStore.append <audit.storage.store.SqlAuditStore.append>` write one at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError

from audit.storage.bulk import bulk_insert
from identity.citizens.fields import PERSONAL_FIELDS
from identity.citizens.records import NewCitizen
from identity.errors import DuplicateNik
from identity.login.activation import ActivationRecord
from identity.storage.activation import IdentityActivation
from identity.storage.citizens import IdentityCitizen, IdentityCitizenKey
from identity.storage.database import Database
from identity.storage.sql_store import SqlStore, SqlTransaction

_citizen = cast(Table, IdentityCitizen.__table__)
_key = cast(Table, IdentityCitizenKey.__table__)
_activation = cast(Table, IdentityActivation.__table__)
_SEALED = tuple(f"sealed_{name}" for name in PERSONAL_FIELDS)
_CITIZEN_COLUMNS = ("id", "nik_index", *_SEALED, "password_hash", "created_at")
_KEY_COLUMNS = ("citizen_id", "wrapped_key", "created_at")
_ACTIVATION_COLUMNS = ("citizen_id", "code_hash", "created_at", "expires_at")


class SqlImportTransaction(SqlTransaction):
    """:class:`identity.citizens.population_import.ImportTransaction` over one session."""

    def registered(self, nik_indexes: Collection[bytes]) -> dict[bytes, str]:
        if not nik_indexes:
            return {}
        found = self.session.execute(
            select(IdentityCitizen.nik_index, IdentityCitizen.id).where(
                IdentityCitizen.nik_index.in_(list(nik_indexes))
            )
        )
        return {bytes(index): citizen_id for index, citizen_id in found if index is not None}

    def add_all(self, citizens: Sequence[NewCitizen], codes: Sequence[ActivationRecord]) -> None:
        if not citizens:
            return
        conn = self.session.connection()
        rows = [
            (c.id, c.nik_index, *[c.sealed.get(name) for name in PERSONAL_FIELDS],
             c.password_hash, c.created_at)
            for c in citizens
        ]  # fmt: skip
        try:
            bulk_insert(conn, _citizen, _CITIZEN_COLUMNS, rows)
        except IntegrityError as exc:
            # Registered by another writer meanwhile; the parameters are not repeated.
            if "nik_index" in str(exc.orig):
                raise DuplicateNik() from None
            raise
        bulk_insert(
            conn, _key, _KEY_COLUMNS, [(c.id, c.wrapped_key, c.created_at) for c in citizens]
        )
        bulk_insert(
            conn,
            _activation,
            _ACTIVATION_COLUMNS,
            [(r.citizen_id, r.code_hash, r.created_at, r.expires_at) for r in codes],
        )


class SqlImportStore(SqlStore[SqlImportTransaction]):
    """:class:`identity.citizens.population_import.ImportStore` on Jati's database."""

    def __init__(self, *, database: Database) -> None:
        super().__init__(database=database, transaction=SqlImportTransaction)
