"""The data-subject request register on SQLite and PostgreSQL, with the real citizen service.

UU PDP Art. 14 (recorded requests with received-at and due-by), Art. 6/30 correction, Art.
7/32 access, Art. 8/43-45 erasure (crypto-shredding, the audit log still verifies), Art.
11/41 restriction (a flag every release path reads). The byte-level checks read the SQLite
file and its WAL, or every row of every table on PostgreSQL (tests/storage/test_citizens.py).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, decode_entry
from audit.log import AuditLog
from audit.pseudonym import SubjectPseudonymizer
from audit.records import EventFilter
from audit.storage.store import SqlAuditStore
from audit.storage.verification import verify_stored_log
from consent.errors import InvalidSubjectRequest
from consent.requests.records import RequestKind, RequestOutcome, RequestStatus, SubjectRequest
from consent.requests.service import RequestService
from consent.storage.requests import (
    SqlRequestStore,
    SqlRestrictionRecorder,
    build_request_service,
)
from consent.storage.tables import ConsentRequest
from identity.citizens.service import CitizenService
from identity.citizens.subject_requests import CitizenSubjectData
from identity.storage.database import Database
from tests.conftest import ManualClock
from tests.personal_data import seeded
from tests.storage.test_citizens import assert_absent, make_service, stored_secrets

OFFICIAL = Actor(kind=ActorKind.OFFICIAL, id="dukcapil-officer-7")
PASSWORD = "kata sandi yang rahasia"
SEED = {
    "nik": "3174054506850002",  # DKI Jakarta, a woman born 1985-06-05
    "name": "Dewi Lestari Kusumawati",
    "birthdate": date(1985, 6, 5),
    "email": "dewi.kusumawati@contoh.go.id",
    "phone": "+62 813-9876-5432",
    "address": "Jl. Kebon Sirih No. 44, Menteng",
}
OTHER_NIK = seeded("3174051203800001")[0]  # a man born 1980-03-12
NEW_EMAIL, NEW_ADDRESS = seeded("dewi.baru@contoh.go.id", "Jl. Cikini Raya No. 73, Menteng")
PLAINTEXTS = [
    *seeded(*(str(v) for v in SEED.values())),
    "1985-06-05",
    PASSWORD,
    NEW_EMAIL,
    NEW_ADDRESS,
]


@pytest.fixture
def citizens(
    database: Database, clock: ManualClock, pseudonymizer: SubjectPseudonymizer
) -> CitizenService:
    return make_service(database, clock, pseudonymizer)


def make_requests(
    database: Database,
    citizens: CitizenService,
    audit_log: AuditLog,
    clock: ManualClock,
    **overrides: Any,
) -> RequestService:
    """The request service on ``database`` for ``citizens`` (and their pseudonymizer), its
    processing record read from ``audit_log``; ``overrides`` replace its parts."""
    service = build_request_service(
        database=database,
        audit=SqlAuditStore(engine=database.engine),
        pseudonymizer=citizens.pseudonymizer,
        events=audit_log,
        subject_data=CitizenSubjectData(citizens=citizens),
        clock=clock,
    )
    for name, value in overrides.items():
        setattr(service, name, value)
    return service


@pytest.fixture
def requests(
    database: Database, citizens: CitizenService, audit_log: AuditLog, clock: ManualClock
) -> RequestService:
    return make_requests(database, citizens, audit_log, clock)


def register(citizens: CitizenService) -> str:
    return citizens.register(**SEED, password=PASSWORD, actor=OFFICIAL)  # type: ignore[arg-type]


def rows(database: Database) -> list[dict[str, Any]]:
    with database.read() as session:
        result = session.execute(text("SELECT * FROM consent_request ORDER BY received_at"))
        return [dict(row._mapping) for row in result]


def queued(database: Database) -> list[AuditEntry]:
    with database.read() as session:
        found = session.execute(text("SELECT entry FROM audit_queue ORDER BY id")).scalars()
        return [decode_entry(bytes(row)) for row in found]


# ---------------------------------------------------------------- the store


def _request(subject: str, n: int, at: datetime, **changes: Any) -> SubjectRequest:
    values: dict[str, Any] = {
        "id": f"{n:0>26}".replace("0", "a"),
        "subject_id": subject,
        "kind": RequestKind.ACCESS,
        "status": RequestStatus.RECEIVED,
        "received_at": at,
        "due_by": at + timedelta(hours=72),
    }
    values.update(changes)
    return SubjectRequest(**values)


def test_the_store_keeps_requests_and_finds_the_overdue_ones(
    database: Database, clock: ManualClock
) -> None:
    store = SqlRequestStore(database=database)
    t0 = clock.now
    early = _request("subject-a", 1, t0)
    later = _request("subject-a", 2, t0 + timedelta(hours=1), kind=RequestKind.CORRECTION)
    erasure = _request("subject-b", 3, t0, kind=RequestKind.ERASURE, due_by=None)
    done = _request(
        "subject-b",
        4,
        t0,
        status=RequestStatus.COMPLETED,
        completed_at=t0,
        outcome=RequestOutcome("exported"),
    )
    with store.write() as tx:
        for request in (early, later, erasure, done):
            tx.add(request)
    with store.read() as tx:
        assert tx.get(early.id) == early
        assert tx.get("missing") is None
        assert [r.id for r in tx.of_subject("subject-a")] == [later.id, early.id]
        assert tx.overdue(t0 + timedelta(hours=72)) == []
        assert [r.id for r in tx.overdue(t0 + timedelta(hours=100))] == [early.id, later.id]
        assert tx.counts(t0 + timedelta(hours=72, minutes=30)) == {  # for the console's chart
            ("access", "overdue"): 1,  # due at 72 h
            ("access", "completed"): 1,
            ("correction", "received"): 1,  # due at 73 h
            ("erasure", "received"): 1,  # never due
        }
        assert [r.id for r in tx.listing(status=RequestStatus.COMPLETED, limit=10)] == [done.id]
        assert len(tx.listing(status=None, limit=2)) == 2
    finished = replace(
        early,
        status=RequestStatus.REFUSED,
        completed_at=t0 + timedelta(hours=1),
        outcome=RequestOutcome("refused", reason="subject_erased"),
    )
    with store.write() as tx:
        tx.update(finished)
    with store.read() as tx:
        assert tx.get(early.id) == finished


@pytest.mark.parametrize(
    "statement",
    [
        # a received request has no completion time, a completed one has one
        "UPDATE consent_request SET completed_at = received_at",
        "UPDATE consent_request SET status = 'completed'",
        # only erasure goes without a statutory deadline
        "UPDATE consent_request SET due_by = NULL",
        "UPDATE consent_request SET kind = 'deletion'",
        "UPDATE consent_request SET status = 'late'",
    ],
)
def test_the_database_holds_the_registers_invariants(
    database: Database, clock: ManualClock, statement: str
) -> None:
    store = SqlRequestStore(database=database)
    with store.write() as tx:
        tx.add(_request("subject-a", 1, clock.now))
    with pytest.raises(IntegrityError), database.write() as session:
        session.execute(text(statement))


def test_a_restriction_is_kept_once_and_joins_the_callers_transaction(
    database: Database, clock: ManualClock
) -> None:
    recorder = SqlRestrictionRecorder(database=database)
    other_worker = SqlRestrictionRecorder(database=database)
    assert not recorder.is_restricted("subject-a")
    first = clock.now
    recorder.restrict("subject-a", at=first, request_id="r1")
    recorder.restrict("subject-a", at=first + timedelta(hours=1))
    assert other_worker.is_restricted("subject-a")  # read from the database every time
    assert other_worker.restricted_at("subject-a") == first
    assert not other_worker.is_restricted("subject-b")

    with pytest.raises(RuntimeError), database.write() as session:
        recorder.restrict("subject-b", at=first, bind=session)
        raise RuntimeError("the register's transaction fails")
    assert not recorder.is_restricted("subject-b")


# ---------------------------------------------------------------- each kind, end to end


def test_a_correction_is_sealed_at_once_and_the_register_keeps_names(
    requests: RequestService,
    citizens: CitizenService,
    database: Database,
    pseudonymizer: SubjectPseudonymizer,
) -> None:
    citizen_id = register(citizens)
    request = requests.submit(
        citizen_id, "correction", changes={"email": NEW_EMAIL, "address": NEW_ADDRESS}
    )
    assert request.status is RequestStatus.COMPLETED
    (row,) = rows(database)
    assert json.loads(row["fields"]) == ["email", "address"]
    assert row["status"] == "completed"
    data = citizens.read_personal_data(
        citizen_id,
        ["email", "address", "name"],
        actor=OFFICIAL,
        purpose="population-record-check",
        legal_basis=LegalBasis.PUBLIC_TASK,
    )
    assert (data["email"], data["address"], data["name"]) == (NEW_EMAIL, NEW_ADDRESS, SEED["name"])
    correction = [e for e in queued(database) if e.action is Action.UPDATE and e.request_id]
    assert [e.purpose for e in correction] == ["data-subject-correction"] * 2
    assert {e.subject for e in correction} == {pseudonymizer.pseudonym(citizen_id)}
    assert_absent(database, PLAINTEXTS)


def test_a_refused_correction_writes_nothing(
    requests: RequestService, citizens: CitizenService, database: Database
) -> None:
    citizen_id = register(citizens)
    before = queued(database)
    with pytest.raises(InvalidSubjectRequest):
        requests.submit(citizen_id, "correction", changes={"email": "bukan alamat"})
    assert rows(database) == []
    assert queued(database) == before


def test_erasure_over_the_register_leaves_no_personal_data_and_the_log_verifies(
    requests: RequestService,
    citizens: CitizenService,
    database: Database,
    audit_log: AuditLog,
    audit_store: SqlAuditStore,
    clock: ManualClock,
) -> None:
    citizen_id = register(citizens)
    requests.submit(citizen_id, "correction", changes={"email": NEW_EMAIL})
    clock.advance(1)
    requests.submit(citizen_id, "restriction")
    clock.advance(1)
    requests.export(citizen_id)
    audit_log.sequence(checkpoint=True)
    secrets = stored_secrets(database, citizen_id)
    clock.advance(60)

    request = requests.submit(citizen_id, "erasure")
    assert request.status is RequestStatus.COMPLETED and request.due_by is None
    assert request.outcome is not None and request.outcome.action == "erased"
    assert {k.item for k in request.outcome.kept} >= {"audit-log", "request-register"}
    assert_absent(database, PLAINTEXTS, secrets, checkpoint=False)  # as the erasure left it
    assert_absent(database, PLAINTEXTS, secrets)

    clock.advance(1)
    export = requests.export(citizen_id)  # the register and the record remain
    assert export.personal_data.values is None
    assert export.personal_data.erased_at == clock.now - timedelta(seconds=1)
    assert [r.kind.value for r in export.requests] == [
        "access",  # this export
        "erasure",
        "access",
        "restriction",
        "correction",
    ]

    audit_log.sequence(checkpoint=True)
    report = verify_stored_log(audit_log, audit_store)
    assert report.ok, report.findings
    events = [decode_entry(leaf.entry) for leaf in audit_log.events(_subject(requests, citizen_id))]
    erase = [e for e in events if e.action is Action.ERASE]
    assert [(e.purpose, e.request_id) for e in erase] == [("erasure-request", request.id)]


def _subject(requests: RequestService, citizen_id: str) -> EventFilter:
    return EventFilter(subject=requests.pseudonymizer.pseudonym(citizen_id))


def test_an_export_reads_through_the_audited_path_and_lists_the_record(
    requests: RequestService,
    citizens: CitizenService,
    database: Database,
    audit_log: AuditLog,
    clock: ManualClock,
) -> None:
    citizen_id = register(citizens)
    other_id = citizens.register(
        **{**SEED, "nik": OTHER_NIK, "birthdate": date(1980, 3, 12)},  # type: ignore[arg-type]
        password=PASSWORD,
        actor=OFFICIAL,
    )
    requests.submit(other_id, "access")
    audit_log.sequence(checkpoint=True)
    clock.advance(1)

    export = requests.export(citizen_id)
    assert export.personal_data.values is not None
    assert export.personal_data.values["nik"] == SEED["nik"]
    read = queued(database)[-2]  # then the completion of the request
    assert read.action is Action.READ
    assert (read.purpose, read.legal_basis, read.request_id) == (
        "data-subject-access",
        LegalBasis.LEGAL_OBLIGATION,
        export.request.id,
    )
    assert read.actor == Actor(ActorKind.CITIZEN, "self")
    record = list(export.processing_record)
    assert [item["leaf_index"] for item in record] == [0]  # the registration; not the other's
    assert record[0]["purpose"] == "citizen-registration"


# ---------------------------------------------------------------- overdue


class _Unavailable:
    """An identity side whose reads fail as a database outage would."""

    def export(self, subject_id: str, *, request_id: str) -> Any:
        raise RuntimeError("identity database unavailable")


def test_requests_left_undone_are_listed_as_overdue_after_72_hours(
    requests: RequestService, citizens: CitizenService, clock: ManualClock, database: Database
) -> None:
    citizen_id = register(citizens)
    working = requests.exporter
    requests.exporter = _Unavailable()
    with pytest.raises(RuntimeError):
        requests.export(citizen_id)  # recorded, then the export fails: left received
    requests.exporter = working
    requests.submit(citizen_id, "access")  # completed at once: never overdue
    requests.submit(citizen_id, "correction", changes={"email": NEW_EMAIL})  # done at once
    clock.advance(72 * 3600)
    assert requests.register.overdue() == []
    clock.advance(90 * 60)
    (late,) = requests.register.overdue()
    assert late.kind is RequestKind.ACCESS
    assert late.hours_late(clock.now) == pytest.approx(1.5)
    assert [r.id for r in requests.register.listing(status="received")] == [late.id]
    with database.read() as session:
        assert session.get(ConsentRequest, late.id) is not None


def test_a_request_and_its_audit_entry_commit_together(
    database: Database, citizens: CitizenService, audit_log: AuditLog, clock: ManualClock
) -> None:
    class AppendThenFail:
        def append(self, bind: Session, entry: AuditEntry, *, queued_at: datetime) -> None:
            SqlAuditStore(engine=database.engine).append(bind, entry, queued_at=queued_at)
            raise RuntimeError("audit append failed")

    citizen_id = register(citizens)
    failing = make_requests(database, citizens, audit_log, clock, audit=AppendThenFail())
    before = queued(database)
    with pytest.raises(RuntimeError, match="audit append failed"):
        failing.submit(citizen_id, "restriction")
    assert rows(database) == []
    assert not failing.restrictions.is_restricted(citizen_id)
    assert queued(database) == before
