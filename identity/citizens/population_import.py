"""Population-scale import (issue 18, part 6): citizens registered in bulk from a population
register's export, each with an activation code for a mailing system. Framework-free.

``jati citizen import FILE.csv --codes-out FILE`` (:mod:`identity.service.cli.citizen_import`)
reads the CSV with :func:`~identity.citizens.register_export.read_rows` and hands the rows to
:meth:`PopulationImport.run`, which registers them in batches, one transaction per batch:
rows are validated exactly as :meth:`CitizenService.register
<identity.citizens.service.CitizenService.register>` validates them
(:func:`identity.citizens.fields.validated_registration`: the NIK's structure, and the birth
date the NIK encodes), then sealed as it seals them (AES-256-GCM per field under a new data
key, wrapped under the master key; the NIK's keyed blind index), and written with one bulk
insert per table (:mod:`identity.storage.population_import`).

Choices:

- **Idempotent on the NIK.** A row whose NIK is registered already (a live citizen holds its
  blind index) is *skipped*: nothing is decrypted, written or audited, so re-running an
  interrupted import, or the same file, registers only what is missing. A NIK repeated in the
  file is compared with its earlier row when both are in one batch (in memory: nothing
  decrypted); a different name or birth date is a *conflict*. Comparing with a citizen
  registered earlier means decrypting their data, which only the one audited access path
  does (:meth:`CitizenService.read_personal_data`, UU PDP Art. 31): it is done only when
  asked (``check_conflicts``, ``--check-conflicts``), as a read of ``name`` and ``birthdate``
  with purpose :data:`CONFLICT_CHECK_PURPOSE`, visible in that citizen's log. Otherwise a
  registered NIK counts as skipped. Only the name and the birth date are compared (exactly,
  once normalised as at registration): email, phone and address are the citizen's to keep up
  to date, and a register update of them is no conflict.
- **One audit entry per citizen**: the registration's own (``create`` by the operator,
  purpose ``citizen-registration``, basis public task), whose data items name the fields
  registered and ``activation_code``: the citizen's log says both in one entry, where
  :meth:`AccountAccess.register <identity.citizens.account_access.AccountAccess.register>`
  writes two (registration, then the code's ``account-security`` entry). Entries are queued
  in the batch's transaction with one bulk insert (:class:`AuditBatch`,
  :meth:`SqlAuditStore.append_many <audit.storage.store.SqlAuditStore.append_many>`); the
  sequencer integrates them later like any other queued entry.
- **Activation codes** are drawn and hashed as :class:`identity.login.activation.Activations`
  does, with the same function (:func:`identity.login.activation.new_activation`: 80 bits,
  only the SHA-256 stored, expiring after ``lifetime``). The codes of a batch go to the
  :class:`CodeSink` (the 0600 ``--codes-out`` file) *before* the batch commits, durably; a
  batch that rolls back takes its codes back out (:meth:`CodeSink.undo`). So a committed
  citizen's code is always in the file; only a crash between the two leaves codes of
  citizens not registered, which the next run registers with new codes.
- **Interruptible**: ``stop()`` is asked after each batch; a :class:`KeyboardInterrupt`
  inside one rolls that batch back. Either way :meth:`~PopulationImport.run` returns the
  counts so far with ``interrupted`` set, and running again resumes (the rows done are
  skipped).
- **Rejects** carry the row's line and the reason, which names the field and the rule, never
  a value (the errors of :mod:`identity.citizens.fields` and :mod:`identity.citizens.nik`).
- **Two threads.** A helper thread reads, validates, looks up (a read transaction) and
  seals the next batch while the calling thread writes the one before: the database's work
  (SQLite's steps and fsync, PostgreSQL's ``COPY`` and commit) runs without the GIL, so the
  two overlap. Only the calling thread writes, reports rejects, counts and reads through the
  audited access path, in the file's order. A NIK in two consecutive batches is looked up
  for the second before the first commits; its insert then fails on the blind index's
  unique constraint and the batch is looked up again and written without it (as for a NIK
  registered meanwhile by someone else).
- Memory is bounded by two batches; nothing here logs a NIK, a value or a code.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from audit.entry import Action, Actor, AuditEntry, LegalBasis
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.field_crypto import KEY_BYTES, FieldCipher
from identity.citizens.fields import parse_birthdate, validated_registration
from identity.citizens.nik import today_in_indonesia
from identity.citizens.records import Clock, NewCitizen, PersonalData, citizen_entry
from identity.citizens.register_export import ImportRow
from identity.citizens.register_export import batches as register_batches
from identity.citizens.service import REGISTRATION_PURPOSE, new_citizen_id, sealed_citizen
from identity.errors import DuplicateNik, InvalidImportFile, InvalidInput
from identity.login.activation import (
    ACTIVATION_ITEM,
    DEFAULT_ACTIVATION_LIFETIME,
    ActivationRecord,
    new_activation,
)

__all__ = [
    "CONFLICT_CHECK_PURPOSE",
    "ImportSummary",
    "PopulationImport",
]

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
#: The purpose of the audited read that ``check_conflicts`` makes of a registered citizen.
CONFLICT_CHECK_PURPOSE = "population-import-check"
_COMPARED = ("name", "birthdate")
_CONFLICT = "conflict: the NIK is registered with a different name or birth date"
_REPEATED = "conflict: the NIK is on an earlier line with a different name or birth date"


@dataclass(slots=True)
class ImportSummary:
    """What a run did, so far."""

    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    conflicts: int = 0
    #: The last line of the last batch done (committed, or with nothing to write).
    last_line: int = 0
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def rows(self) -> int:
        return self.imported + self.skipped + self.rejected + self.conflicts

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "conflicts": self.conflicts,
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
        }


# ------------------------------------------------------------------ what the import is given


class ImportTransaction(Protocol):
    """One transaction over the citizens' and activation codes' tables
    (:class:`identity.storage.population_import.SqlImportTransaction`)."""

    @property
    def bind(self) -> Any:
        """Where the audit entries are queued, so that they commit with the batch."""
        ...

    def registered(self, nik_indexes: Collection[bytes]) -> dict[bytes, str]:
        """The live citizens holding any of these blind indexes: index -> citizen id."""
        ...

    def add_all(self, citizens: Sequence[NewCitizen], codes: Sequence[ActivationRecord]) -> None:
        """Insert the citizens (rows and wrapped keys) and their codes' records.

        Raises:
            DuplicateNik: a blind index is taken (registered meanwhile); nothing is kept.
        """
        ...


class ImportStore(Protocol):
    def write(self) -> AbstractContextManager[ImportTransaction]: ...

    def read(self) -> AbstractContextManager[ImportTransaction]: ...


class AuditBatch(Protocol):
    """Queues many entries in the caller's transaction, at once
    (:meth:`audit.storage.store.SqlAuditStore.append_many`)."""

    def append_many(self, bind: Any, entries: Sequence[AuditEntry], *, queued_at: Any) -> None: ...


class PersonalDataReader(Protocol):
    """The audited access path (:meth:`CitizenService.read_personal_data`)."""

    def read_personal_data(
        self, citizen_id: str, fields: Iterable[str], *, actor: Actor, purpose: str,
        legal_basis: LegalBasis,
    ) -> PersonalData: ...  # fmt: skip


class CodeSink(Protocol):
    """Where the activation codes go (``nik,activation_code`` rows)."""

    def write(self, issued: Sequence[tuple[str, str]]) -> None:
        """Keep one batch's (NIK, code) pairs durably before the batch commits."""
        ...

    def undo(self) -> None:
        """Take the last :meth:`write` back out: its batch rolled back."""
        ...


Reject = Callable[[int, str], None]


@dataclass(frozen=True, slots=True)
class _Run:
    """What one :meth:`PopulationImport.run` is given, and its counts."""

    summary: ImportSummary
    actor: Actor
    codes: CodeSink
    reject: Reject
    check_conflicts: bool


@dataclass(frozen=True, slots=True)
class _Candidate:
    row: ImportRow
    values: Mapping[str, str] = field(repr=False)
    nik_index: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class _Sealed:
    """One citizen ready to write: its rows, its entry and its (NIK, code) pair."""

    candidate: _Candidate
    citizen: NewCitizen
    record: ActivationRecord
    entry: AuditEntry
    issued: tuple[str, str] = field(repr=False)


@dataclass(frozen=True, slots=True)
class _Lookup:
    """Candidates looked up in the register: those to write, and the registered ones with
    their citizen's id."""

    fresh: list[_Candidate]
    registered: list[tuple[_Candidate, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A batch read, checked and sealed, not yet written."""

    last_line: int
    full: bool  # as many rows as a batch holds (more may follow)
    rejects: list[tuple[int, str]]
    repeated: list[int]  # lines of a NIK repeated in the batch with other values
    skipped: int
    lookup: _Lookup
    sealed: list[_Sealed]


@dataclass(frozen=True, kw_only=True, slots=True)
class PopulationImport:
    """Registers the rows of a population register in batches (see the module docstring).

    Attributes:
        store: the citizens' and codes' tables, with batch statements.
        cipher: seals the fields and computes the NIK's blind index.
        audit: queues a batch's entries at once.
        pseudonymizer: the citizen's pseudonym in entries.
        clock: the time of each batch (registration, code issue and expiry).
        lifetime: how long the activation codes stay valid (``JATI_ACTIVATION_LIFETIME``).
        reader: the audited access path, for ``check_conflicts``.
        batch_size: rows per transaction (at least one).
    """

    store: ImportStore
    cipher: FieldCipher
    audit: AuditBatch
    pseudonymizer: SubjectPseudonymizer
    clock: Clock
    lifetime: timedelta = DEFAULT_ACTIVATION_LIFETIME
    reader: PersonalDataReader | None = None
    batch_size: int = DEFAULT_BATCH_SIZE

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("a batch holds at least one row")

    def run(
        self,
        rows: Iterable[ImportRow],
        *,
        actor: Actor,
        codes: CodeSink,
        reject: Reject,
        check_conflicts: bool = False,
        stop: Callable[[], bool] = lambda: False,
        progress: Callable[[ImportSummary], None] | None = None,
    ) -> ImportSummary:
        """Import ``rows``; the counts, with ``interrupted`` set if ``stop()`` answered true
        after a batch or a :class:`KeyboardInterrupt` rolled one back.

        Two threads: a helper reads, checks and seals the next batch (:meth:`_prepare`)
        while this one writes the batch before (:meth:`_apply`), whose statements and
        commit wait on the database without the GIL. Only this thread writes, reports
        rejects and counts, in the file's order; a :class:`KeyboardInterrupt` (delivered
        here) rolls back the batch being written, and the batch prepared ahead is dropped
        unwritten."""
        if check_conflicts and self.reader is None:
            raise ValueError("checking conflicts needs the audited access path (reader)")
        summary = ImportSummary()
        run = _Run(summary, actor, codes, reject, check_conflicts)
        batches = register_batches(rows, self.batch_size)
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="jati-import") as pool:
                ahead: Future[_Prepared | None] = pool.submit(self._prepare, batches, run)
                while (prepared := ahead.result()) is not None:
                    ahead = pool.submit(self._prepare, batches, run)
                    self._apply(prepared, run)
                    if progress is not None:
                        progress(summary)
                    if prepared.full and stop():
                        summary.interrupted = True
                        break
        except KeyboardInterrupt:
            summary.interrupted = True
        return summary

    # ------------------------------------------------------------ one batch

    def _prepare(self, batches: Iterator[list[ImportRow]], run: _Run) -> _Prepared | None:
        """The next batch read, validated, looked up and sealed (on the helper thread: it
        only reads the database, and counts nothing)."""
        rows = next(batches, None)
        if rows is None:
            return None
        today = today_in_indonesia(self.clock())
        candidates: dict[bytes, _Candidate] = {}
        rejects: list[tuple[int, str]] = []
        repeated: list[int] = []
        skipped = 0
        for row in rows:
            try:
                values = _validated(row, today)
            except InvalidInput as exc:
                rejects.append((row.line, str(exc)))
                continue
            index = self.cipher.nik_index(values["nik"])
            earlier = candidates.get(index)
            if earlier is None:
                candidates[index] = _Candidate(row, values, index)
            elif _differ(earlier.values, values):
                repeated.append(row.line)
            else:
                skipped += 1
        lookup = self._lookup(list(candidates.values()))
        sealed = self._seal(lookup.fresh, run.actor, self.clock())
        full = len(rows) == self.batch_size
        return _Prepared(rows[-1].line, full, rejects, repeated, skipped, lookup, sealed)

    def _apply(self, prepared: _Prepared, run: _Run) -> None:
        """Report a prepared batch's rejects and write its citizens (once more without those
        registered meanwhile by someone else)."""
        summary = run.summary
        for line, reason in prepared.rejects:
            run.reject(line, reason)
        for line in prepared.repeated:
            run.reject(line, _REPEATED)
        summary.rejected += len(prepared.rejects)
        summary.conflicts += len(prepared.repeated)
        summary.skipped += prepared.skipped
        lookup, sealed = prepared.lookup, prepared.sealed
        for attempt in range(2):
            self._count(lookup, run)
            if not sealed:
                break
            try:
                self._write(sealed, run)
            except DuplicateNik:
                if attempt:
                    raise
                lookup = self._lookup([s.candidate for s in sealed])
                fresh = {id(c) for c in lookup.fresh}
                sealed = [s for s in sealed if id(s.candidate) in fresh]
                continue
            summary.imported += len(sealed)
            break
        summary.last_line = prepared.last_line

    def _lookup(self, candidates: list[_Candidate]) -> _Lookup:
        """The candidates whose NIK is registered already, and the others."""
        if not candidates:
            return _Lookup(candidates)
        with self.store.read() as tx:
            registered = tx.registered([c.nik_index for c in candidates])
        if not registered:
            return _Lookup(candidates)
        lookup = _Lookup([])
        for candidate in candidates:
            citizen_id = registered.get(candidate.nik_index)
            if citizen_id is None:
                lookup.fresh.append(candidate)
            else:
                lookup.registered.append((candidate, citizen_id))
        return lookup

    def _count(self, lookup: _Lookup, run: _Run) -> None:
        """The registered candidates counted as skipped, or (``check_conflicts``) compared
        through the audited access path (on this thread: only for a batch being written)."""
        for candidate, citizen_id in lookup.registered:
            if run.check_conflicts and self._conflicts(citizen_id, candidate.values, run.actor):
                run.reject(candidate.row.line, _CONFLICT)
                run.summary.conflicts += 1
            else:
                run.summary.skipped += 1

    def _write(self, sealed: Sequence[_Sealed], run: _Run) -> None:
        """Keep the batch's codes, then write it in one transaction; a batch that did not
        commit takes its codes back out. A Ctrl-C can land after the commit itself, before
        the statement returns: the batch is then looked up, and if it is in, its codes stay
        (and count); if that cannot be told, they stay too (the next run gives a citizen
        that is not registered a new code, on a later line)."""
        codes = run.codes
        codes.write([s.issued for s in sealed])
        try:
            with self.store.write() as tx:
                tx.add_all([s.citizen for s in sealed], [s.record for s in sealed])
                self.audit.append_many(
                    tx.bind, [s.entry for s in sealed], queued_at=sealed[0].citizen.created_at
                )
        except KeyboardInterrupt:
            committed = self._committed(sealed[0].citizen)
            if committed is False:
                codes.undo()
            elif committed:
                run.summary.imported += len(sealed)
            raise
        except BaseException:
            codes.undo()
            raise

    def _committed(self, first: NewCitizen) -> bool | None:
        """Whether the batch whose first citizen is ``first`` is stored (None: unknown)."""
        try:
            with self.store.read() as tx:
                return tx.registered([first.nik_index]).get(first.nik_index) == first.id
        except Exception:
            log.warning("an interrupted batch could not be looked up; its codes are kept")
            return None

    def _seal(self, fresh: Sequence[_Candidate], actor: Actor, now: datetime) -> list[_Sealed]:
        """The citizens sealed as :meth:`CitizenService.register` seals them (AES-256-GCM per
        field under a new data key, the key wrapped), their codes' records (as
        :meth:`Activations.issue` makes them) and their entries. The batch's data keys come
        from one draw of :mod:`secrets`, cut in 32-byte keys."""
        keys = secrets.token_bytes(KEY_BYTES * len(fresh))
        sealed = []
        for n, candidate in enumerate(fresh):
            values, citizen_id = candidate.values, new_citizen_id()
            data_key = keys[n * KEY_BYTES : (n + 1) * KEY_BYTES]
            citizen = sealed_citizen(
                self.cipher, citizen_id, values, data_key=data_key, now=now,
                nik_index=candidate.nik_index,
            )  # fmt: skip
            record, code = new_activation(citizen_id, now, self.lifetime)
            entry = citizen_entry(
                self.pseudonymizer, citizen_id, now, actor=actor, action=Action.CREATE,
                items=(*values, ACTIVATION_ITEM), purpose=REGISTRATION_PURPOSE,
                legal_basis=LegalBasis.PUBLIC_TASK,
            )  # fmt: skip
            sealed.append(_Sealed(candidate, citizen, record, entry, (values["nik"], code)))
        return sealed

    def _conflicts(self, citizen_id: str, values: Mapping[str, str], actor: Actor) -> bool:
        assert self.reader is not None
        stored = self.reader.read_personal_data(
            citizen_id, _COMPARED, actor=actor, purpose=CONFLICT_CHECK_PURPOSE,
            legal_basis=LegalBasis.PUBLIC_TASK,
        )  # fmt: skip
        return any(stored[name] != values[name] for name in _COMPARED)


def _validated(row: ImportRow, today: date) -> dict[str, str]:
    """The row's fields to seal, as :meth:`CitizenService.register` checks them."""
    if row.unreadable:
        raise InvalidImportFile(row.unreadable)
    return validated_registration(
        nik=row.nik, name=row.name, birthdate=parse_birthdate(row.birthdate.strip()),
        email=row.email, phone=row.phone, address=row.address, today=today,
    )  # fmt: skip


def _differ(one: Mapping[str, str], other: Mapping[str, str]) -> bool:
    return any(one[name] != other[name] for name in _COMPARED)
