"""The population import's core (:mod:`identity.citizens.population_import`) over memory
stores: validation as at registration, idempotence on the NIK, conflicts, one audit entry per
citizen, codes written before each commit and taken back when it rolls back, stopping."""

from __future__ import annotations

import io
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.field_crypto import FieldCipher
from identity.citizens.population_import import PopulationImport
from identity.citizens.records import NewCitizen, PersonalData
from identity.citizens.register_export import ImportRow, read_rows
from identity.errors import DuplicateNik, InvalidImportFile
from identity.login.access_codes import code_hash
from identity.login.activation import ActivationRecord

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
OPERATOR = Actor(kind=ActorKind.SYSTEM, id="jati-cli")
CIPHER = FieldCipher(bytes(range(32)))


def nik_of(n: int) -> str:
    return f"3171{n // 9999 % 99 + 1:02d}170890{n % 9999 + 1:04d}"


def row(n: int, line: int | None = None, **changes: str) -> ImportRow:
    values = {"nik": nik_of(n), "name": f"Warga {n}", "birthdate": "1990-08-17"} | changes
    return ImportRow(line if line is not None else n + 2, **values)


@dataclass
class MemoryImport:
    """The tables (citizens, codes, entries) and the sinks, with switches to fail."""

    citizens: dict[bytes, NewCitizen] = field(default_factory=dict)
    codes: dict[str, ActivationRecord] = field(default_factory=dict)
    entries: list[AuditEntry] = field(default_factory=list)
    issued: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    fail_with: list[BaseException] = field(default_factory=list)
    taken_meanwhile: list[NewCitizen] = field(default_factory=list)
    interrupt_after_commit: bool = False
    _pending: tuple[list[NewCitizen], list[ActivationRecord], list[AuditEntry]] | None = None
    _mark: int = 0

    # ImportTransaction / ImportStore
    @property
    def bind(self) -> MemoryImport:
        return self

    def registered(self, nik_indexes: Collection[bytes]) -> dict[bytes, str]:
        return {i: self.citizens[i].id for i in nik_indexes if i in self.citizens}

    def add_all(self, citizens: Sequence[NewCitizen], codes: Sequence[ActivationRecord]) -> None:
        if self.taken_meanwhile:  # another writer registers one of these NIKs first
            self.citizens[citizens[0].nik_index] = self.taken_meanwhile.pop()
            raise DuplicateNik()
        assert self._pending is not None
        self._pending[0].extend(citizens)
        self._pending[1].extend(codes)

    @contextmanager
    def write(self) -> Iterator[MemoryImport]:
        self._pending = ([], [], [])
        yield self
        if self.fail_with:
            raise self.fail_with.pop()
        self.citizens.update({c.nik_index: c for c in self._pending[0]})
        self.codes.update({r.citizen_id: r for r in self._pending[1]})
        self.entries.extend(self._pending[2])
        if self.interrupt_after_commit:  # Ctrl-C as the commit returns
            self.interrupt_after_commit = False
            raise KeyboardInterrupt

    @contextmanager
    def read(self) -> Iterator[MemoryImport]:
        yield self

    # AuditBatch
    def append_many(self, bind: Any, entries: Sequence[AuditEntry], *, queued_at: Any) -> None:
        assert bind is self and self._pending is not None
        self._pending[2].extend(entries)

    # CodeSink and rejects
    def write_codes(self, issued: Sequence[tuple[str, str]]) -> None:
        self._mark = len(self.issued)
        self.issued.extend(issued)

    def undo(self) -> None:
        del self.issued[self._mark :]

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append((line, reason))


class CodeSink:
    def __init__(self, memory: MemoryImport) -> None:
        self.write, self.undo = memory.write_codes, memory.undo


class Reader:
    """The audited access path: what a registered citizen's name and birth date are."""

    def __init__(self, memory: MemoryImport) -> None:
        self.memory, self.reads = memory, 0

    def read_personal_data(
        self, citizen_id: str, fields: Iterable[str], *, actor: Actor, purpose: str,
        legal_basis: LegalBasis,
    ) -> PersonalData:  # fmt: skip
        self.reads += 1
        assert purpose == "population-import-check" and actor == OPERATOR
        found = next(c for c in self.memory.citizens.values() if c.id == citizen_id)
        return PersonalData(citizen_id, {n: _opened(found, n) for n in fields})


def _opened(citizen: NewCitizen, name: str) -> str:
    key = CIPHER.unwrap_data_key(citizen.id, citizen.wrapped_key)
    return CIPHER.open(key, citizen.id, name, citizen.sealed[name])


def importer(memory: MemoryImport, *, batch_size: int = 4) -> PopulationImport:
    return PopulationImport(
        store=memory, cipher=CIPHER, audit=memory, pseudonymizer=SubjectPseudonymizer(b"p" * 32),
        clock=lambda: NOW, lifetime=timedelta(days=30), reader=Reader(memory),
        batch_size=batch_size,
    )  # fmt: skip


def run(memory: MemoryImport, rows: Iterable[ImportRow], **options: Any) -> Any:
    return importer(memory).run(
        rows, actor=OPERATOR, codes=CodeSink(memory), reject=memory.reject, **options
    )


def test_imports_sealed_citizens_with_codes_and_one_entry_each() -> None:
    memory = MemoryImport()
    bad = [row(90, name=" "), row(91, birthdate="1990-08-18"), row(92, birthdate="17-08-1990")]
    summary = run(memory, [row(n) for n in range(9)] + bad)
    assert (summary.imported, summary.rejected, summary.skipped, summary.conflicts) == (9, 3, 0, 0)
    assert memory.rejected == [
        (92, "name: cannot be empty"),
        (93, "invalid NIK: the birth date does not match the one in the NIK"),
        (94, "birthdate: use a real date as YYYY-MM-DD"),
    ]
    assert [nik for nik, _ in memory.issued] == [nik_of(n) for n in range(9)]
    for nik, code in memory.issued:
        citizen = memory.citizens[CIPHER.nik_index(nik)]
        assert _opened(citizen, "nik") == nik and citizen.password_hash is None
        record = memory.codes[citizen.id]
        assert record.code_hash == code_hash(code) and record.expires_at == NOW + timedelta(30)
    assert len(memory.entries) == 9
    entry = memory.entries[0]
    assert entry.action is Action.CREATE and entry.actor == OPERATOR
    assert entry.purpose == "citizen-registration" and entry.legal_basis is LegalBasis.PUBLIC_TASK
    assert set(entry.data_items) == {"nik", "name", "birthdate", "activation_code"}
    assert summary.last_line == 94 and not summary.interrupted


def test_running_again_skips_and_a_repeated_nik_is_compared_in_memory() -> None:
    memory = MemoryImport()
    run(memory, [row(n) for n in range(5)])
    repeated = [row(7), row(7, line=20), row(8), row(8, line=21, name="Lain")]
    summary = run(memory, repeated + [row(n) for n in range(5)])  # one batch of 4 first
    assert (summary.imported, summary.skipped, summary.conflicts) == (2, 6, 1)
    assert memory.rejected == [
        (21, "conflict: the NIK is on an earlier line with a different name or birth date")
    ]


def test_check_conflicts_reads_registered_citizens_through_the_access_path() -> None:
    memory = MemoryImport()
    run(memory, [row(0), row(1)])
    population = importer(memory)
    summary = population.run(
        [row(0), row(1, name="Nama Lain")], actor=OPERATOR, codes=CodeSink(memory),
        reject=memory.reject, check_conflicts=True,
    )  # fmt: skip
    assert (summary.skipped, summary.conflicts) == (1, 1)
    assert population.reader is not None and population.reader.reads == 2  # type: ignore[attr-defined]
    assert (
        memory.rejected[0][0] == 3 and "registered with a different name" in memory.rejected[0][1]
    )


def test_a_rolled_back_batch_takes_its_codes_back_and_stops_the_run() -> None:
    memory = MemoryImport(fail_with=[KeyboardInterrupt()])
    summary = run(memory, [row(n) for n in range(6)])
    assert summary.interrupted and summary.imported == 0 and summary.last_line == 0
    assert memory.issued == [] and memory.citizens == {} and memory.entries == []
    summary = run(memory, [row(n) for n in range(6)])
    assert summary.imported == 6 and len(memory.issued) == 6


def test_an_interrupt_after_the_commit_keeps_the_batchs_codes() -> None:
    memory = MemoryImport(interrupt_after_commit=True)
    summary = run(memory, [row(n) for n in range(6)])
    assert summary.interrupted and summary.imported == 4  # the first batch is in
    assert len(memory.issued) == 4 and len(memory.citizens) == 4
    assert {nik for nik, _code in memory.issued} == {
        row(n).nik for n in range(4)
    }  # every registered citizen has their code
    summary = run(memory, [row(n) for n in range(6)])
    assert (summary.skipped, summary.imported) == (4, 2) and len(memory.issued) == 6


def test_stop_is_asked_after_each_batch() -> None:
    memory = MemoryImport()
    summary = run(memory, [row(n) for n in range(10)], stop=lambda: True)
    assert summary.interrupted and summary.imported == 4 and summary.last_line == 5
    summary = run(memory, [row(n) for n in range(10)])
    assert (summary.imported, summary.skipped) == (6, 4)


def test_a_nik_registered_meanwhile_is_retried_as_skipped() -> None:
    memory = MemoryImport()
    run(memory, [row(50)])
    other = memory.citizens.pop(CIPHER.nik_index(nik_of(50)))
    memory.taken_meanwhile.append(other)
    memory.issued.clear()
    summary = run(memory, [row(50), row(51)])
    assert (summary.imported, summary.skipped) == (1, 1)
    assert [nik for nik, _ in memory.issued] == [nik_of(51)]


def test_the_header_is_checked_and_short_rows_are_rejected_by_line() -> None:
    with pytest.raises(InvalidImportFile, match="header nik,name,birthdate"):
        read_rows(io.StringIO("nik,nama,tanggal\n"))
    with pytest.raises(InvalidImportFile):
        read_rows(io.StringIO("nik,name,birthdate,email,email\n"))
    rows = list(
        read_rows(io.StringIO('NIK, name ,birthdate,address\n\n1,"Siti\nRahayu",c,\n2,x\n'))
    )
    assert [(r.line, r.address, r.unreadable) for r in rows] == [
        (3, None, ""),
        (5, None, "expected 4 columns, found 2"),
    ]
    assert rows[0].name == "Siti\nRahayu" and "Siti" not in repr(rows[0])


def test_a_row_the_csv_module_cannot_read_is_rejected_alone_without_its_value() -> None:
    secret = "3171011708900001" + "x" * 200_000  # over the csv module's field limit
    text = f'nik,name,birthdate\n"{secret}",Siti,1990-08-17\n3171011708900002,Budi,1990-08-17\n'
    rows = list(read_rows(io.StringIO(text)))
    assert (
        rows[0].unreadable.startswith("not a CSV row: ") and secret[:16] not in rows[0].unreadable
    )
    assert (rows[-1].nik, rows[-1].unreadable) == ("3171011708900002", "")
