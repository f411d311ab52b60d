"""The population import on a real database (:mod:`identity.storage.population_import`):
the bulk inserts (``COPY`` on PostgreSQL) in one transaction with the audit entries, a NIK
taken meanwhile refused as :class:`DuplicateNik` with nothing kept, and a NIK repeated in
the next batch (looked up before the batch before commits) skipped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from audit.entry import Actor, ActorKind
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from identity.citizens.field_crypto import FieldCipher
from identity.citizens.population_import import PopulationImport
from identity.citizens.records import NewCitizen
from identity.citizens.register_export import ImportRow
from identity.errors import DuplicateNik
from identity.login.activation import ActivationRecord
from identity.storage.activation import IdentityActivation
from identity.storage.citizens import IdentityCitizen, IdentityCitizenKey
from identity.storage.database import Database
from identity.storage.population_import import SqlImportStore
from tests.conftest import ManualClock

CIPHER = FieldCipher(bytes(range(32)))
OPERATOR = Actor(kind=ActorKind.SYSTEM, id="jati-cli")


class Codes:
    def __init__(self) -> None:
        self.issued: list[tuple[str, str]] = []
        self.undone = 0

    def write(self, issued: Sequence[tuple[str, str]]) -> None:
        self.mark = len(self.issued)
        self.issued.extend(issued)

    def undo(self) -> None:
        del self.issued[self.mark :]
        self.undone += 1


def row(n: int, line: int) -> ImportRow:
    nik = f"317101170890{n + 1:04d}"
    return ImportRow(line, nik, f"Warga {n}", "1990-08-17", email=f"w{n}@example.id")


def importer(database: Database, clock: ManualClock, batch_size: int) -> PopulationImport:
    return PopulationImport(
        store=SqlImportStore(database=database), cipher=CIPHER,
        audit=SqlAuditStore(engine=database.engine),
        pseudonymizer=SubjectPseudonymizer(b"p" * 32), clock=clock,
        lifetime=timedelta(days=14), batch_size=batch_size,
    )  # fmt: skip


def counts(database: Database) -> list[int]:
    tables = (IdentityCitizen, IdentityCitizenKey, IdentityActivation)
    with database.read() as session:
        return [session.execute(select(func.count()).select_from(t)).scalar_one() for t in tables]


def test_batches_write_sealed_citizens_codes_and_entries_and_skip_a_repeat(
    database: Database, audit_store: SqlAuditStore, clock: ManualClock
) -> None:
    rows = [row(0, 2), row(1, 3), row(1, 4), row(2, 5), row(3, 6)]  # NIK 1 in batches 1 and 2
    codes = Codes()
    summary = importer(database, clock, batch_size=2).run(
        rows, actor=OPERATOR, codes=codes, reject=lambda line, reason: None
    )
    assert (summary.imported, summary.skipped, summary.rejected) == (4, 1, 0)
    assert counts(database) == [4, 4, 4] and audit_store.queue_status().length == 4
    assert [nik for nik, _ in codes.issued] == [r.nik for r in rows if r.line != 4]
    assert codes.undone <= 1  # batch 2 written once more without NIK 1, if it raced batch 1
    with database.read() as session:
        stored = session.execute(select(IdentityCitizen)).scalars().all()
        keys = {k.citizen_id: k.wrapped_key for k in session.execute(
            select(IdentityCitizenKey)).scalars()}  # fmt: skip
    for citizen in stored:
        assert citizen.created_at == clock() and citizen.password_hash is None
        key = CIPHER.unwrap_data_key(citizen.id, keys[citizen.id])
        nik = CIPHER.open(key, citizen.id, "nik", citizen.sealed_nik or b"")
        assert citizen.nik_index == CIPHER.nik_index(nik)
        assert citizen.sealed_phone is None


def test_a_nik_taken_meanwhile_is_refused_and_nothing_is_kept(
    database: Database, audit_store: SqlAuditStore, clock: ManualClock
) -> None:
    importer(database, clock, batch_size=10).run(
        [row(0, 2)], actor=OPERATOR, codes=Codes(), reject=lambda line, reason: None
    )
    sealed = {"nik": b"n", "name": b"n", "birthdate": b"b"}
    fresh = NewCitizen("a" * 26, CIPHER.nik_index("3171011708900099"), b"k", sealed, None, clock())
    taken = replace(fresh, id="b" * 26, nik_index=CIPHER.nik_index(row(0, 2).nik))
    records = [
        ActivationRecord(c.id, c.id * 2 + "0" * 12, clock(), clock()) for c in (fresh, taken)
    ]
    with pytest.raises(DuplicateNik), SqlImportStore(database=database).write() as tx:
        tx.add_all([fresh, taken], records)
    assert counts(database) == [1, 1, 1] and audit_store.queue_status().length == 1
