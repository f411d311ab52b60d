"""The data-subject request register's core (consent.requests) on in-memory storage.

UU PDP Art. 14 (recorded requests), 6/30 (correction), 7/32 (access), 8/43-45 (erasure),
11/41 (restriction). The memory store commits a transaction's register rows, restriction
flags and audit entries together, or none of them, as the SQL store does;
tests/storage/test_requests.py runs the same flows on the databases.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from audit.entry import (
    Action,
    Actor,
    ActorKind,
    AuditEntry,
    LegalBasis,
    Outcome,
    encode_entry,
)
from audit.pseudonym import SubjectPseudonymizer
from audit.records import EventFilter, StoredLeaf
from consent.errors import (
    InvalidSubjectRequest,
    RequestNotFound,
    SubjectErased,
    SubjectNotFound,
)
from consent.requests.ports import Erasure, PersonalDataExport
from consent.requests.records import (
    DEADLINES,
    DEFAULT_RETAINED_AFTER_ERASURE,
    STATUTORY_DEADLINE,
    RequestKind,
    RequestOutcome,
    RequestStatus,
    SubjectRequest,
    outcome_from_json,
    outcome_to_json,
)
from consent.requests.service import RequestService
from identity.citizens.field_crypto import FieldCipher
from identity.citizens.fields import CORRECTABLE_FIELDS, validated_correction
from identity.citizens.passwords import TEST_PROFILE, PasswordService
from identity.citizens.records import StoredCitizen
from identity.citizens.service import SELF, CitizenService
from identity.citizens.subject_requests import CitizenSubjectData
from identity.errors import CitizenErased, InvalidField
from tests.conftest import ManualClock
from tests.fakes import MemoryCitizenStore
from tests.personal_data import seeded

ALICE = "aliceaaaaaaaaaaaaaaaaaaaaa"
BOB = "bobbbbbbbbbbbbbbbbbbbbbbbb"
NEW_EMAIL, NEW_NAME = seeded("siti.baru@contoh.go.id", "Siti Rahayu Baru")
seeded("+62 812 0000 1111", "not-an-address", "bukan-email")
PSEUDONYMS = SubjectPseudonymizer(b"p" * 32)


# ---------------------------------------------------------------- in-memory collaborators


class Tx:
    """One transaction: what it writes becomes visible only when it commits."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.requests = dict(world.requests)
        self.restrictions = dict(world.restrictions)
        self.entries: list[AuditEntry] = []

    @property
    def bind(self) -> Tx:
        return self

    def add(self, request: SubjectRequest) -> None:
        assert request.id not in self.requests
        self.requests[request.id] = request

    def update(self, request: SubjectRequest) -> None:
        old = self.requests[request.id]
        self.requests[request.id] = dataclasses.replace(
            old, status=request.status, completed_at=request.completed_at, outcome=request.outcome
        )

    def get(self, request_id: str) -> SubjectRequest | None:
        return self.requests.get(request_id)

    def of_subject(self, subject_id: str) -> list[SubjectRequest]:
        found = [r for r in self.requests.values() if r.subject_id == subject_id]
        return sorted(found, key=lambda r: r.received_at, reverse=True)

    def listing(self, *, status: RequestStatus | None, limit: int) -> list[SubjectRequest]:
        found = [r for r in self.requests.values() if status is None or r.status is status]
        return sorted(found, key=lambda r: r.received_at, reverse=True)[:limit]

    def overdue(self, now: datetime) -> list[SubjectRequest]:
        found = [r for r in self.requests.values() if r.is_overdue(now)]
        return sorted(found, key=lambda r: r.due_by or now)

    def counts(self, now: datetime) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        for r in self.requests.values():
            key = (r.kind.value, "overdue" if r.is_overdue(now) else r.status.value)
            found[key] = found.get(key, 0) + 1
        return found


class World:
    """The register, the restriction flags and the audit queue of one fake database."""

    def __init__(self) -> None:
        self.requests: dict[str, SubjectRequest] = {}
        self.restrictions: dict[str, datetime] = {}
        self.entries: list[AuditEntry] = []
        self.fail_audit = False

    @contextmanager
    def write(self) -> Iterator[Tx]:
        tx = Tx(self)
        yield tx
        self.requests, self.restrictions = tx.requests, tx.restrictions
        self.entries.extend(tx.entries)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        yield Tx(self)

    # AuditAppender
    def append(self, bind: Any, entry: AuditEntry, *, queued_at: datetime) -> None:
        if self.fail_audit:
            raise RuntimeError("the audit queue is unavailable")
        assert isinstance(bind, Tx)
        bind.entries.append(entry)

    # RestrictionRecorder
    def restrict(
        self, subject_id: str, *, at: datetime, request_id: str | None = None, bind: Any = None
    ) -> None:
        assert isinstance(bind, Tx), "a restriction joins the register's transaction"
        bind.restrictions.setdefault(subject_id, at)

    def is_restricted(self, subject_id: str) -> bool:
        return subject_id in self.restrictions

    def restricted_at(self, subject_id: str) -> datetime | None:
        return self.restrictions.get(subject_id)

    # EventSource: what the sequencer would have integrated
    def events(self, flt: EventFilter, *, page_size: int = 1000) -> Iterator[StoredLeaf]:
        for index, entry in enumerate(self.entries):
            if flt.subject is None or entry.subject == flt.subject:
                yield StoredLeaf(
                    leaf_index=index,
                    entry=encode_entry(entry),
                    leaf_hash=b"\0" * 32,
                    event_at=entry.time,
                    subject=entry.subject,
                    actor_kind=entry.actor.kind.value,
                    actor_id=entry.actor.id,
                    action=entry.action.value,
                    purpose=entry.purpose,
                )


class People:
    """The identity side: personal data per subject, with the protocols' behaviour."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, str | None]] = {
            ALICE: {"name": "Siti", "email": None},
            BOB: {"name": "Budi", "email": None},
        }
        self.erased: dict[str, datetime] = {}
        self.corrections: list[tuple[str, str]] = []
        self.exports: list[str] = []
        self.broken = False

    def check_correction(self, changes: Mapping[str, str]) -> tuple[str, ...]:
        if not set(changes) <= {"name", "email"}:
            raise InvalidSubjectRequest("fields", "choose name or email")
        if "email" in changes and "@" not in changes["email"]:
            raise InvalidSubjectRequest("fields.email", "not an email address")
        return tuple(sorted(changes))

    def correct(
        self, subject_id: str, changes: Mapping[str, str], *, request_id: str
    ) -> tuple[str, ...]:
        if self.broken:
            raise RuntimeError("database unavailable")
        if subject_id in self.erased:
            raise SubjectErased()
        self.data[subject_id].update(changes)
        self.corrections.append((subject_id, request_id))
        return tuple(sorted(changes))

    def erase(self, subject_id: str, *, request_id: str) -> Erasure:
        if subject_id in self.erased:
            raise SubjectErased()
        self.erased[subject_id] = datetime(2026, 11, 28, 8, 0, tzinfo=ManualClock().now.tzinfo)
        self.data[subject_id] = dict.fromkeys(self.data[subject_id])
        return Erasure(erased=("name", "email"), erased_at=self.erased[subject_id])

    def export(self, subject_id: str, *, request_id: str) -> PersonalDataExport:
        if subject_id not in self.data:
            raise SubjectNotFound()
        self.exports.append(request_id)
        if subject_id in self.erased:
            return PersonalDataExport(None, self.erased[subject_id])
        return PersonalDataExport(dict(self.data[subject_id]))


class Notifier:
    def __init__(self) -> None:
        self.changed_subjects: list[str | None] = []

    def changed(self, subject_id: str | None) -> None:
        self.changed_subjects.append(subject_id)


class Consents:
    def consents_of(self, subject_id: str) -> list[dict[str, Any]]:
        return [{"id": f"grant-of-{subject_id[:5]}", "status": "active"}]


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def people() -> People:
    return People()


@pytest.fixture
def notifier() -> Notifier:
    return Notifier()


@pytest.fixture
def service(world: World, people: People, clock: ManualClock, notifier: Notifier) -> RequestService:
    return RequestService(
        store=world,
        clock=clock,
        audit=world,
        pseudonymizer=PSEUDONYMS,
        eraser=people,
        corrector=people,
        exporter=people,
        restrictions=world,
        events=world,
        consents=Consents(),
        notifier=notifier,
    )


def entries_of(world: World, request: SubjectRequest) -> list[AuditEntry]:
    return [e for e in world.entries if e.request_id == request.id]


# ---------------------------------------------------------------- deadlines


def test_the_law_sets_72_hours_except_for_erasure() -> None:
    assert timedelta(hours=72) == STATUTORY_DEADLINE
    assert {
        RequestKind.ACCESS: timedelta(hours=72),  # Art. 32
        RequestKind.CORRECTION: timedelta(hours=72),  # Art. 30
        RequestKind.RESTRICTION: timedelta(hours=72),  # Art. 41
        RequestKind.ERASURE: None,  # Art. 43-44: no statutory deadline (done at once anyway)
    } == DEADLINES


# ---------------------------------------------------------------- each kind


def test_an_access_request_is_recorded_and_completed_at_once(
    service: RequestService, world: World, clock: ManualClock
) -> None:
    request = service.submit(ALICE, "access")
    assert request.kind is RequestKind.ACCESS
    assert request.status is RequestStatus.COMPLETED
    assert request.received_at == clock.now == request.completed_at
    assert request.due_by == clock.now + timedelta(hours=72)
    assert world.requests[request.id] == request
    receipt, completion = entries_of(world, request)
    assert (receipt.action, completion.action) == (Action.CREATE, Action.UPDATE)
    for entry in (receipt, completion):
        assert entry.subject == PSEUDONYMS.pseudonym(ALICE)
        assert entry.actor == Actor(ActorKind.CITIZEN, "self")
        assert entry.purpose == "data-subject-access"
        assert entry.legal_basis is LegalBasis.LEGAL_OBLIGATION
        assert entry.outcome is Outcome.SUCCESS


def test_a_correction_is_applied_at_once_and_only_field_names_are_kept(
    service: RequestService, world: World, people: People
) -> None:
    request = service.submit(ALICE, "correction", changes={"email": NEW_EMAIL, "name": NEW_NAME})
    assert request.status is RequestStatus.COMPLETED
    assert request.fields == ("email", "name")
    assert request.outcome == RequestOutcome("corrected", fields=("email", "name"))
    assert people.data[ALICE]["email"] == NEW_EMAIL
    assert people.corrections == [(ALICE, request.id)]  # the write carries the request id
    stored = repr(world.requests) + repr(world.entries) + str(request.to_json_dict())
    assert NEW_EMAIL not in stored and NEW_NAME not in stored
    receipt, completion = entries_of(world, request)
    assert receipt.data_items == completion.data_items == ("email", "name")
    assert {receipt.purpose, completion.purpose} == {"data-subject-correction"}


def test_an_erasure_is_carried_out_at_once_and_names_what_is_kept(
    service: RequestService, world: World, people: People, notifier: Notifier
) -> None:
    request = service.submit(ALICE, RequestKind.ERASURE)
    assert request.due_by is None
    assert request.status is RequestStatus.COMPLETED
    assert request.outcome is not None
    assert request.outcome.action == "erased"
    assert request.outcome.fields == ("name", "email")
    kept = {item.item: item for item in request.outcome.kept}
    assert set(kept) == {"audit-log", "request-register", "tombstone", "consent-records"}
    assert "Art. 31" in kept["audit-log"].basis  # the record of processing
    assert "PP 71/2019" in kept["request-register"].basis  # the register of deletions
    assert all(item.description_id and item.description_en for item in kept.values())
    assert ALICE in people.erased
    assert notifier.changed_subjects == [ALICE]  # the consent gates reload the subject
    assert [e.purpose for e in entries_of(world, request)] == ["data-subject-erasure"] * 2


def test_a_restriction_sets_the_flag_in_the_registers_transaction(
    service: RequestService, world: World, notifier: Notifier, clock: ManualClock
) -> None:
    request = service.submit(ALICE, "restriction")
    assert request.status is RequestStatus.COMPLETED
    assert request.due_by == clock.now + timedelta(hours=72)
    assert world.is_restricted(ALICE) and not world.is_restricted(BOB)
    assert world.restricted_at(ALICE) == clock.now
    assert [e.action for e in entries_of(world, request)] == [Action.CREATE, Action.RESTRICT]
    assert notifier.changed_subjects == [ALICE]
    clock.advance(60)
    service.submit(ALICE, "restriction")
    assert world.restricted_at(ALICE) == clock.now - timedelta(seconds=60)  # the first time


def test_without_its_audit_entry_no_request_is_recorded(
    service: RequestService, world: World
) -> None:
    world.fail_audit = True
    with pytest.raises(RuntimeError):
        service.submit(ALICE, "restriction")
    assert world.requests == {} and world.restrictions == {} and world.entries == []


# ---------------------------------------------------------------- refused input


@pytest.mark.parametrize(
    ("kind", "changes", "part"),
    [
        ("deletion", None, "kind"),
        ("", None, "kind"),
        ("correction", None, "fields"),
        ("correction", {}, "fields"),
        ("correction", {"nik": "3171014101900003"}, "fields"),
        ("correction", {"email": "not-an-address"}, "fields.email"),
        ("correction", {"Siti Rahayu": "x"}, "fields"),
        ("correction", {"email": 42}, "fields"),
        ("correction", {"name": "Siti\ud800"}, "fields"),  # issue 17: a lone surrogate
        ("correction", {"name": "Siti\x00"}, "fields"),  # PostgreSQL text holds no NUL
        ("correction", {"email": "x" * 1001}, "fields"),
        ("correction", {f"f{i}": "x" for i in range(9)}, "fields"),
        ("access", {"email": NEW_EMAIL}, "fields"),
        ("erasure", {"name": NEW_NAME}, "fields"),
    ],
)
def test_a_request_that_cannot_be_accepted_records_nothing(
    service: RequestService,
    world: World,
    people: People,
    kind: str,
    changes: Any,
    part: str,
) -> None:
    with pytest.raises(InvalidSubjectRequest) as caught:
        service.submit(ALICE, kind, changes=changes)
    assert caught.value.part == part
    message = str(caught.value)
    for value in (changes or {}).values():
        assert str(value) not in message
    for name in changes or {}:
        assert name == "email" or name not in message  # a client's key is never repeated
    assert world.requests == {} and world.entries == []
    assert people.corrections == [] and people.erased == {}


def test_a_subject_erased_meanwhile_gets_a_refused_request(
    service: RequestService, world: World
) -> None:
    service.submit(ALICE, "erasure")
    request = service.submit(ALICE, "correction", changes={"email": NEW_EMAIL})
    assert request.status is RequestStatus.REFUSED
    assert request.outcome == RequestOutcome("refused", reason="subject_erased")
    completion = entries_of(world, request)[-1]
    assert completion.outcome is Outcome.DENIED
    again = service.submit(ALICE, "erasure")
    assert again.status is RequestStatus.REFUSED


# ---------------------------------------------------------------- overdue


def test_a_correction_that_fails_is_refused_not_left_received(
    service: RequestService, world: World, people: People, clock: ManualClock
) -> None:
    # Issue 17: its write rolled back and its values are not kept, so no one could carry it
    # out later; left "received" it would only ever be overdue.
    people.broken = True
    with pytest.raises(RuntimeError):
        service.submit(ALICE, "correction", changes={"email": NEW_EMAIL})
    (closed,) = service.requests_of(ALICE)
    assert closed.status is RequestStatus.REFUSED
    assert closed.outcome == RequestOutcome("refused", reason="internal_error")
    assert [e.outcome for e in entries_of(world, closed)] == [Outcome.SUCCESS, Outcome.ERROR]
    assert people.corrections == []
    clock.advance(73 * 3600)
    assert service.register.overdue() == []


def test_a_request_left_undone_is_overdue_after_72_hours(
    service: RequestService, world: World, people: People, clock: ManualClock
) -> None:
    def broken(subject_id: str, changes: Mapping[str, str], *, request_id: str) -> tuple[str, ...]:
        world.fail_audit = True  # the database went away: not even the refusal is written
        raise RuntimeError("database unavailable")

    people.correct = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        service.submit(ALICE, "correction", changes={"email": NEW_EMAIL})
    world.fail_audit = False
    (pending,) = service.requests_of(ALICE)
    assert pending.status is RequestStatus.RECEIVED
    service.submit(BOB, "access")  # completed: never overdue
    clock.advance(72 * 3600)
    assert service.register.overdue() == []  # due exactly now: not yet late
    clock.advance(1)
    (late,) = service.register.overdue()
    assert late.id == pending.id
    clock.advance(3 * 3600 - 1)
    assert late.hours_late(clock.now) == pytest.approx(3.0)


def test_an_erasure_left_undone_has_no_deadline_to_miss(
    service: RequestService, world: World, people: People, clock: ManualClock
) -> None:
    def broken(subject_id: str, *, request_id: str) -> Erasure:
        raise RuntimeError("database unavailable")

    people.erase = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        service.submit(ALICE, "erasure")
    clock.advance(365 * 24 * 3600)
    assert service.register.overdue() == []
    assert [r.status for r in service.register.listing(status="received")] == [
        RequestStatus.RECEIVED
    ]


def test_listing_by_status(service: RequestService, clock: ManualClock) -> None:
    first = service.submit(ALICE, "access")
    clock.advance(1)
    second = service.submit(BOB, "restriction")
    assert [r.id for r in service.register.listing()] == [second.id, first.id]
    assert service.register.listing(status="refused") == []
    with pytest.raises(InvalidSubjectRequest, match="status"):
        service.register.listing(status="late")


# ---------------------------------------------------------------- isolation


def test_a_citizen_sees_only_their_own_requests(service: RequestService) -> None:
    mine = service.submit(ALICE, "access")
    theirs = service.submit(BOB, "access")
    assert [r.id for r in service.requests_of(ALICE)] == [mine.id]
    assert service.request_of(ALICE, mine.id) == mine
    for tampered in (theirs.id, mine.id.upper(), "../" + mine.id, "x" * 26, ""):
        with pytest.raises(RequestNotFound):
            service.request_of(ALICE, tampered)
    with pytest.raises(RequestNotFound):
        service.export(ALICE, request_id=theirs.id)


# ---------------------------------------------------------------- export


def test_an_export_is_a_recorded_access_request_with_everything(
    service: RequestService, world: World, people: People, clock: ManualClock
) -> None:
    correction = service.submit(ALICE, "correction", changes={"email": NEW_EMAIL})
    hidden = AuditEntry(
        time=clock.now,
        actor=Actor(ActorKind.OFFICIAL, "kejaksaan-7"),
        action=Action.READ,
        subject=PSEUDONYMS.pseudonym(ALICE),
        purpose="investigation",
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        exception_basis="law-enforcement",
        citizen_visible=False,
    )
    later = dataclasses.replace(
        hidden, citizen_visible=True, visible_after=clock.now + timedelta(days=30)
    )
    world.entries += [hidden, later]
    service.submit(BOB, "access")
    clock.advance(5)

    export = service.export(ALICE)
    assert export.request.kind is RequestKind.ACCESS
    assert export.request.status is RequestStatus.COMPLETED
    assert people.exports == [export.request.id]  # the audited read carries the request id
    assert export.personal_data.values == {"name": "Siti", "email": NEW_EMAIL}
    assert [r.id for r in export.requests] == [export.request.id, correction.id]
    assert export.consents == [{"id": "grant-of-alice", "status": "active"}]
    assert export.restricted_at is None
    head = export.head()
    assert head["format"] == "jati-subject-export/1"
    assert head["personal_data"]["email"] == NEW_EMAIL
    record = list(export.processing_record)
    # Alice's entries only, in log order, the withheld ones left out; the export's own
    # receipt and completion are there (the fake log integrates at once).
    purposes = [item["purpose"] for item in record]
    assert purposes == ["data-subject-correction"] * 2 + ["data-subject-access"] * 2
    assert all(isinstance(item["leaf_index"], int) for item in record)
    assert record[0]["actor"] == {"kind": "citizen", "id": "self"}
    assert record[0]["legal_basis"] == "c"


def test_an_export_answers_a_given_access_request_without_a_new_one(
    service: RequestService, people: People
) -> None:
    access = service.submit(ALICE, "access")
    export = service.export(ALICE, request_id=access.id)
    assert export.request == access
    assert people.exports == [access.id]
    assert len(service.requests_of(ALICE)) == 1
    restriction = service.submit(ALICE, "restriction")
    with pytest.raises(RequestNotFound):
        service.export(ALICE, request_id=restriction.id)  # not an access request


def test_an_erased_citizens_export_has_no_personal_data(service: RequestService) -> None:
    service.submit(ALICE, "erasure")
    export = service.export(ALICE)
    assert export.personal_data.values is None
    assert export.head()["erased_at"] is not None
    assert export.head()["personal_data"] is None


def test_an_export_for_no_known_subject_is_refused_and_recorded(
    service: RequestService, world: World
) -> None:
    with pytest.raises(SubjectNotFound):
        service.export("nobodyyyyyyyyyyyyyyyyyyyyy")
    (request,) = world.requests.values()
    assert request.status is RequestStatus.REFUSED


# ---------------------------------------------------------------- values


def test_outcomes_round_trip_through_their_stored_form() -> None:
    outcome = RequestOutcome(
        "erased", fields=("name",), kept=DEFAULT_RETAINED_AFTER_ERASURE, reason=None
    )
    assert outcome_from_json(outcome_to_json(outcome)) == outcome
    assert outcome_from_json(None) is None and outcome_to_json(None) is None


def test_a_request_repr_does_not_name_its_subject() -> None:
    request = SubjectRequest(
        id="r" * 26,
        subject_id=ALICE,
        kind=RequestKind.ACCESS,
        status=RequestStatus.RECEIVED,
        received_at=ManualClock().now,
        due_by=None,
    )
    assert ALICE not in repr(request)
    assert "subject" not in request.to_json_dict()


# ---------------------------------------------------------------- identity's side


def test_only_contact_fields_and_the_name_are_corrected_by_the_citizen() -> None:
    assert CORRECTABLE_FIELDS == ("name", "email", "phone", "address")
    values = validated_correction({"phone": " +62 812 0000 1111 ", "name": " Siti "})
    assert values == {"name": "Siti", "phone": "+62 812 0000 1111"}  # PERSONAL_FIELDS order
    for refused, field in [
        ({"nik": "3171014101900003"}, "fields"),
        ({"birthdate": "1990-01-01"}, "fields"),
        ({}, "fields"),
        ({"email": "bukan-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"name": "  "}, "name"),
        ({"address": "x" * 501}, "address"),
        ({"name": "Siti\x00"}, "name"),
        ({"name": "Siti\ud800"}, "name"),
        ({"address": "Jl. \udfff"}, "address"),
    ]:
        with pytest.raises(InvalidField) as caught:
            validated_correction(refused)
        assert caught.value.field == field
        for value in refused.values():
            assert value.strip() == "" or value not in str(caught.value)


def _citizens(clock: ManualClock) -> tuple[CitizenService, MemoryCitizenStore]:
    store = MemoryCitizenStore()

    class Appender:
        def append(self, bind: Any, entry: AuditEntry, *, queued_at: datetime) -> None:
            bind.audit.append(entry)

    service = CitizenService(
        store=store,
        cipher=FieldCipher(bytes(range(32))),
        passwords=PasswordService(profile=TEST_PROFILE),
        clock=clock,
        audit=Appender(),
        pseudonymizer=PSEUDONYMS,
    )
    return service, store


def test_the_citizen_service_corrects_through_an_audited_write(clock: ManualClock) -> None:
    citizens, store = _citizens(clock)
    citizen_id = citizens.register(
        nik="3171014101900003",
        name="Siti Nurhaliza Rahayu",
        birthdate=date(1990, 1, 1),
        password="kata sandi rahasia",
        actor=Actor(ActorKind.OFFICIAL, "dukcapil-1"),
    )
    before: StoredCitizen = store.rows[citizen_id]
    changed = citizens.correct(
        citizen_id, {"email": f" {NEW_EMAIL} "}, actor=SELF, request_id="req-1"
    )
    assert changed == ("email",)
    after = store.rows[citizen_id]
    assert after.sealed["email"] not in (None, NEW_EMAIL.encode())
    assert after.sealed["name"] == before.sealed["name"]
    entry = store.audit[-1]
    assert (entry.action, entry.data_items, entry.request_id) == (
        Action.UPDATE,
        ("email",),
        "req-1",
    )
    assert entry.purpose == "data-subject-correction"
    data = citizens.read_personal_data(
        citizen_id, ["email"], actor=SELF, purpose="check", legal_basis=LegalBasis.CONSENT
    )
    assert data["email"] == NEW_EMAIL

    writes = store.writes
    with pytest.raises(InvalidField):
        citizens.correct(citizen_id, {"email": "bukan"}, actor=SELF)
    assert store.writes == writes  # nothing written, nothing audited

    citizens.erase(citizen_id, actor=SELF)
    with pytest.raises(CitizenErased):
        citizens.correct(citizen_id, {"name": NEW_NAME}, actor=SELF)
    subject_data = CitizenSubjectData(citizens=citizens)
    with pytest.raises(SubjectErased):
        subject_data.correct(citizen_id, {"name": NEW_NAME}, request_id="req-2")
    with pytest.raises(SubjectErased):
        subject_data.erase(citizen_id, request_id="req-3")
    with pytest.raises(SubjectNotFound):
        subject_data.erase("nobodyyyyyyyyyyyyyyyyyyyyy", request_id="req-4")
    export = subject_data.export(citizen_id, request_id="req-5")
    assert export.values is None and export.erased_at == clock.now
    with pytest.raises(InvalidSubjectRequest) as caught:
        subject_data.check_correction({"email": "bukan"})
    assert caught.value.part == "fields.email"
