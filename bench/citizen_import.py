"""Population import rate (issue 18, part 6): ``jati citizen import``'s path, from the CSV
file to the committed batches and the 0600 codes file, in citizens per second, against a
plain batched insert of the same rows (target >= 0.3 on SQLite and on PostgreSQL).

The import reads a CSV of N synthetic citizens (``nik,name,birthdate,email,phone,address``,
default 100,000; ``--quick`` 10,000; ``JATI_BENCH_IMPORT_ROWS`` to choose) with
:func:`~identity.citizens.population_import.read_rows` and runs
:class:`~identity.citizens.population_import.PopulationImport` as the command builds it
(validation, sealing, blind index, activation code, audit entry; batches of 500, one
transaction each; codes fsynced to their file before each commit).

**The baseline** is the same CSV file read with :mod:`csv` and its rows inserted as they are
(the six columns as plain ``TEXT``, no key, no index, no constraint) into one table,
``bench_plain_register``, in the same database, in the same run: batches of 500 rows, one
SQLAlchemy ``executemany`` ``INSERT`` each, one transaction (commit) per batch, the rows
passed as dicts. That is what loading the register's export with no registration at all
costs: no validation, no encryption, one row per citizen instead of four (citizen, wrapped
key, activation code, audit entry) with their unique indexes.

A second line, for information (no target), is the old comparison: the import against
writing the rows it wrote (read back from its four tables: ``identity_citizen``,
``identity_citizen_key``, ``identity_activation``, ``audit_queue``) into four tables of the
same columns, keys and unique columns, 500 citizens per transaction, through the import's own
bulk path (:func:`audit.storage.bulk.bulk_insert`: ``executemany`` on SQLite, ``COPY`` on
PostgreSQL): the cost of the import's own work over the cost of storing its result. SQLite
always; PostgreSQL too when ``JATI_BENCH_DATABASE_URL`` is set.
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Column, MetaData, Table, Text, func, insert, select

from audit.entry import Actor, ActorKind
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.bulk import bulk_insert
from audit.storage.store import SqlAuditStore
from audit.storage.tables import AuditQueue
from bench.audit_fixtures import PG_URL, bench_database
from bench.common import Figure
from identity.citizens.field_crypto import FieldCipher
from identity.citizens.population_import import PopulationImport
from identity.citizens.register_export import read_rows
from identity.service.cli.citizen_import import CodesFile
from identity.storage.activation import IdentityActivation
from identity.storage.citizens import IdentityCitizen, IdentityCitizenKey
from identity.storage.database import Database
from identity.storage.population_import import SqlImportStore

BATCH = 500
_QUEUE_COPY = "bench_plain_audit_queue"
COLUMNS = ("nik", "name", "birthdate", "email", "phone", "address")
_TABLES = [
    cast(Table, t.__table__)
    for t in (IdentityCitizen, IdentityCitizenKey, IdentityActivation, AuditQueue)
]


def run(*, quick: bool = False) -> list[Figure]:
    rows = int(os.environ.get("JATI_BENCH_IMPORT_ROWS") or (10_000 if quick else 100_000))
    figures: list[Figure] = []
    for kind in ["sqlite", *(["postgresql"] if PG_URL else [])]:
        figures.extend(import_rate(kind, rows))
    if not PG_URL:
        print("   (PostgreSQL figures: set JATI_BENCH_DATABASE_URL=postgresql+psycopg://...)")
    return figures


def synthetic_rows(count: int) -> Iterator[list[str]]:
    """Distinct valid citizens: NIK ``31 RR DD 170890 SSSS`` (DKI Jakarta, born 1990-08-17)."""
    for n in range(count):
        serial, district, regency = n % 9999 + 1, n // 9999 % 99 + 1, n // 980_901 % 99 + 1
        yield [
            f"31{regency:02d}{district:02d}170890{serial:04d}",
            f"Warga Bench {n}",
            "1990-08-17",
            f"warga{n}@example.id",
            f"+62 812-{n:08d}",
            f"Jl. Merdeka No. {n}, Gambir, Jakarta Pusat",
        ]


def import_rate(kind: str, count: int) -> list[Figure]:
    with (
        tempfile.TemporaryDirectory(prefix="jati-bench-import-") as tmp,
        bench_database(kind) as db,
    ):
        source = Path(tmp) / "register.csv"
        with source.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            writer.writerows(synthetic_rows(count))
        plain = _plain_insert(db, source, count)
        seconds = _import(db, source, Path(tmp) / "codes.csv")
        tables = [_copy(db, table) for table in _TABLES]
        written = [_read_back(db, table) for table in _TABLES]
        assert all(len(rows) == count for rows in written), "one row per citizen per table"
        four_tables = _store_result(db, tables, written, count)
    rate, baseline = count / seconds, count / plain
    return [
        Figure(
            f"[{kind}] citizen import, {count:,} rows / plain batched insert of the same rows",
            rate,
            baseline,
            "rows/s",
            target=0.3,
            note=f"{rate:,.0f} citizens/s against {baseline:,.0f} rows/s: the CSV's six "
            "columns as TEXT into one table, 500 rows an executemany and a commit",
        ),
        Figure(
            f"[{kind}] for information: citizen import / its own 4 rows a citizen "
            "(citizen, key, code, audit entry) stored through the same bulk path",
            rate,
            count / four_tables,
            "rows/s",
            note="no target",
        ),
    ]


def _import(db: Database, source: Path, codes_path: Path) -> float:
    population = PopulationImport(
        store=SqlImportStore(database=db),
        cipher=FieldCipher(bytes(range(32))),
        audit=SqlAuditStore(engine=db.engine),
        pseudonymizer=SubjectPseudonymizer(b"p" * 32),
        clock=lambda: datetime.now(UTC),
        batch_size=BATCH,
    )
    rejected: list[tuple[int, str]] = []
    codes = CodesFile(codes_path)
    began = time.perf_counter()
    with source.open(encoding="utf-8-sig", newline="") as text:
        summary = population.run(
            read_rows(text),
            actor=Actor(kind=ActorKind.SYSTEM, id="bench"),
            codes=codes,
            reject=lambda line, reason: rejected.append((line, reason)),
        )
    seconds = time.perf_counter() - began
    codes.close()
    assert not rejected and summary.imported == summary.rows, (rejected[:3], summary)
    return seconds


def _plain_insert(db: Database, source: Path, count: int) -> float:
    """Seconds to load ``source``'s rows into a plain table of its six TEXT columns,
    ``BATCH`` rows an ``executemany`` and a transaction (see the module docstring)."""
    table = Table("bench_plain_register", MetaData(), *(Column(name, Text) for name in COLUMNS))
    table.create(db.engine)
    began = time.perf_counter()
    with source.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        next(reader)
        while batch := list(islice(reader, BATCH)):
            with db.write() as session:
                rows = [dict(zip(COLUMNS, cells, strict=True)) for cells in batch]
                session.connection().execute(insert(table), rows)
    seconds = time.perf_counter() - began
    with db.read() as session:
        stored = session.execute(select(func.count()).select_from(table)).scalar_one()
    assert stored == count, (stored, count)
    return seconds


def _copy(db: Database, table: Table) -> Table:
    """An empty table of ``table``'s columns and types, its primary key and unique columns
    (no foreign key: the baseline writes into nothing else)."""
    columns = [
        Column(c.name, c.type, primary_key=c.primary_key, unique=bool(c.unique))
        for c in table.columns
    ]
    plain = Table(f"bench_plain_{table.name}", MetaData(), *columns)
    plain.create(db.engine)
    return plain


def _read_back(db: Database, table: Table) -> list[dict[str, Any]]:
    with db.read() as session:
        return [dict(row._mapping) for row in session.execute(select(table))]


def _store_result(
    db: Database, tables: list[Table], rows: list[list[dict[str, Any]]], count: int
) -> float:
    """Seconds to insert ``rows[i]`` into ``tables[i]`` through :func:`bulk_insert`,
    ``BATCH`` citizens a transaction."""
    # every column read back, but the queue's generated id
    columns = [
        [name for name in table_rows[0] if (table.name, name) != (_QUEUE_COPY, "id")]
        for table, table_rows in zip(tables, rows, strict=True)
    ]
    values = [
        [[row[name] for name in names] for row in table_rows]
        for names, table_rows in zip(columns, rows, strict=True)
    ]
    began = time.perf_counter()
    for start in range(0, count, BATCH):
        with db.write() as session:
            conn = session.connection()
            for table, names, table_values in zip(tables, columns, values, strict=True):
                bulk_insert(conn, table, names, table_values[start : start + BATCH])
    return time.perf_counter() - began
