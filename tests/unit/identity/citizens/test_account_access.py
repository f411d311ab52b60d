"""Registration with an activation code, activation with a password and the operator's access
reset (:mod:`identity.citizens.account_access`) over the real stores, as the service builds
them (SQLite, or PostgreSQL when JATI_TEST_DATABASE_URL is set).

- a citizen registered without a password cannot sign in with one, and the refusal costs
  the same as for an unknown NIK; the citizen and the code's hash commit together or not at
  all;
- an activation needs the NIK, the birth date and the code together, and every failure gets
  the same answer and counts against the login throttle;
- activation sets the password and uses the code up in one transaction;
- the reset revokes every way in, keeps personal data, issues a new code, and is audited
  without any code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, decode_entry
from identity.citizens.account_access import RESET_ITEMS, AccountAccess
from identity.citizens.service import SELF
from identity.errors import (
    ActivationRefused,
    CitizenErased,
    CitizenNotFound,
    DuplicateNik,
    InvalidCredentials,
    InvalidField,
    MalformedAccessCode,
    Throttled,
)
from identity.login.access_codes import code_hash, normalize
from identity.service.factories import (
    build_account_access,
    build_audit_log,
    build_citizen_service,
    build_second_factor,
)
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.conftest import ManualClock
from tests.fakes import CountingPasswords
from tests.personal_data import citizen, seeded

SITI = citizen(nik="3171015708900001", name="Siti Rahayu Wulandari", birthdate="1990-08-17")
BIRTHDATE = date(1990, 8, 17)
UNKNOWN_NIK = "3171011708900002"
OPERATOR = Actor(kind=ActorKind.OFFICIAL, id="dukcapil-officer-7")
PASSWORD = "kata sandi pilihan sendiri"
HERE = "198.51.100.7"


@dataclass
class World:
    access: AccountAccess
    passwords: CountingPasswords
    clock: ManualClock
    database: Database

    def register(self) -> tuple[str, str]:
        citizen_id, code = self.access.register(
            nik=SITI["nik"], name=SITI["name"], birthdate=BIRTHDATE, actor=OPERATOR
        )
        seeded(code, normalize(code))  # no log line of the run may hold it
        return citizen_id, code

    def check(self, code: str, **given: Any) -> Any:
        values: dict[str, Any] = {"nik": SITI["nik"], "birthdate": BIRTHDATE, "address": HERE}
        values.update(given)
        return self.access.check_activation(code=code, **values)

    def entries(self, citizen_id: str) -> list[AuditEntry]:
        subject = self.access.citizens.pseudonymizer.pseudonym(citizen_id)
        with self.database.read() as session:
            rows = session.execute(text("SELECT entry FROM audit_queue ORDER BY id")).scalars()
            entries = [decode_entry(bytes(row)) for row in rows]
        return [entry for entry in entries if entry.subject == subject]

    def count(self, table: str, citizen_id: str) -> int:
        query = text(f"SELECT count(*) FROM {table} WHERE citizen_id = :c")
        with self.database.read() as session:
            return int(session.execute(query, {"c": citizen_id}).scalar_one())


@pytest.fixture
def world(make_settings: Callable[..., Settings], database: Database) -> Iterator[World]:
    settings = make_settings()
    master_key, _ = settings.load_master_key(create=False)
    _, pseudonymizer = build_audit_log(settings, database, master_key)
    clock = ManualClock()
    passwords = CountingPasswords()
    citizens = build_citizen_service(
        settings, database, master_key, pseudonymizer=pseudonymizer, passwords=passwords,
        clock=clock,
    )  # fmt: skip
    yield World(build_account_access(settings, database, citizens), passwords, clock, database)


# ---------------------------------------------------------------- registration


def test_a_citizen_without_a_password_is_refused_as_an_unknown_nik_is(world: World) -> None:
    citizen_id, code = world.register()
    assert len(normalize(code)) == 16 and code.count("-") == 3
    citizens = world.access.citizens
    assert citizens.find_by_nik(SITI["nik"]) == citizen_id
    answers = []
    for nik in (SITI["nik"], UNKNOWN_NIK):
        before = world.passwords.verifications
        with pytest.raises(InvalidCredentials) as refused:
            citizens.authenticate(nik, PASSWORD, address=HERE)
        answers.append((str(refused.value), world.passwords.verifications - before))
    assert answers[0] == answers[1] == ("the NIK or the password is wrong", 1)  # one dummy hash


def test_registration_and_the_code_commit_together(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("the code could not be stored")

    monkeypatch.setattr(world.access.activations, "issue", broken)
    with pytest.raises(RuntimeError):
        world.register()
    assert world.access.citizens.find_by_nik(SITI["nik"]) is None
    monkeypatch.undo()
    citizen_id, _ = world.register()
    with pytest.raises(DuplicateNik):
        world.register()
    assert world.count("identity_activation", citizen_id) == 1
    entries = world.entries(citizen_id)
    assert [(e.action, e.purpose, e.data_items) for e in entries] == [
        (Action.CREATE, "citizen-registration", ("birthdate", "name", "nik")),
        (Action.CREATE, "account-security", ("activation_code",)),
    ]
    assert {e.actor for e in entries} == {OPERATOR}


# ---------------------------------------------------------------- activation


def test_activation_sets_the_password_and_uses_the_code_up(world: World) -> None:
    citizen_id, code = world.register()
    ticket = world.check(code.lower().replace("-", " "))  # read as typed
    assert ticket.citizen_id == citizen_id
    with pytest.raises(InvalidField):
        world.access.activate_with_password(ticket, "short")  # nothing written
    signed_in = world.access.activate_with_password(ticket, PASSWORD)
    assert (signed_in.citizen_id, signed_in.amr) == (citizen_id, ("pwd",))
    assert signed_in.auth_time == world.clock.now
    auth = world.access.citizens.authenticate(SITI["nik"], PASSWORD, address=HERE)
    assert auth.citizen_id == citizen_id
    with pytest.raises(ActivationRefused):
        world.access.activate_with_password(ticket, "another password here")
    with pytest.raises(ActivationRefused):
        world.check(code)
    assert world.access.activations.pending(citizen_id) is None
    updates = [e for e in world.entries(citizen_id) if e.action is Action.UPDATE]
    assert [(e.actor, e.data_items) for e in updates] == [(SELF, ("activation_code", "password"))]
    reads = [e for e in world.entries(citizen_id) if e.action is Action.READ]
    assert [(e.actor, e.purpose, e.data_items) for e in reads] == [
        (SELF, "account-security", ("birthdate",))
    ]


def test_activation_on_the_event_loop(world: World) -> None:
    citizen_id, code = world.register()

    async def activate() -> str:
        ticket = await world.access.check_activation_async(
            nik=SITI["nik"], birthdate=BIRTHDATE, code=code, address=HERE
        )
        return (await world.access.activate_with_password_async(ticket, PASSWORD)).citizen_id

    assert asyncio.run(activate()) == citizen_id
    assert world.access.citizens.authenticate(SITI["nik"], PASSWORD, address=HERE)


@pytest.mark.parametrize(
    "wrong",
    [
        {"nik": UNKNOWN_NIK},
        {"birthdate": date(1990, 8, 18)},
        {"birthdate": date(1890, 8, 17)},  # the NIK's day, month and year, another century
        {"code": "7KQ2-M9XD-4HPA-T3VE"},
        {"late": True},
        {"erased": True},
    ],
)
def test_every_failure_is_one_answer_and_counts(world: World, wrong: dict[str, Any]) -> None:
    citizen_id, code = world.register()
    if wrong.pop("late", False):
        world.clock.advance(timedelta(days=14).total_seconds())
    if wrong.pop("erased", False):
        world.access.citizens.erase(citizen_id, actor=OPERATOR)
    with pytest.raises(ActivationRefused) as refused:
        world.check(wrong.pop("code", code), **wrong)
    assert "ask at the counter" in str(refused.value)
    assert code not in str(refused.value) and SITI["nik"] not in str(refused.value)
    throttle = world.access.citizens.throttle
    assert throttle is not None
    nik_index = world.access.citizens.cipher.nik_index(wrong.get("nik", SITI["nik"]))
    with throttle.store.transaction() as tx:
        counter = tx.lock(throttle.account_key(nik_index), "account", now=world.clock.now)
    assert counter.failures == 1


def test_a_malformed_code_is_told_apart_and_not_counted(world: World) -> None:
    _, code = world.register()
    for _ in range(10):
        with pytest.raises(MalformedAccessCode):
            world.check("not a code")
    assert world.check(code)


def test_guessing_is_throttled_on_the_nik_from_any_address(world: World) -> None:
    citizen_id, code = world.register()
    for attempt in range(5):  # JATI_LOGIN_ACCOUNT_MAX_FAILURES
        with pytest.raises(ActivationRefused):
            world.check("0000-0000-0000-000" + str(attempt), address=f"203.0.113.{attempt}")
    with pytest.raises(Throttled):
        world.check(code, address="192.0.2.99")  # the right code, but too late
    assert world.access.activations.pending(citizen_id) is not None  # still usable later
    world.clock.advance(61)
    assert world.check(code, address="192.0.2.99").citizen_id == citizen_id


# ---------------------------------------------------------------- reset


def test_reset_revokes_every_way_in_and_issues_a_new_code(
    world: World, make_settings: Callable[..., Settings]
) -> None:
    citizen_id, first = world.register()
    world.access.activate_with_password(world.check(first), PASSWORD)
    world.access.recovery_codes.generate(citizen_id, actor=SELF, now=world.clock.now)
    master_key, _ = make_settings().load_master_key(create=False)
    second_factor = build_second_factor(
        database=world.database, master_key=master_key, clock=world.clock, issuer="http://t"
    )
    second_factor.begin_enrolment(citizen_id)
    assert world.count("identity_totp", citizen_id) == 1

    code = world.access.reset_access(citizen_id, actor=OPERATOR)
    seeded(code, normalize(code))

    with pytest.raises(InvalidCredentials):
        world.access.citizens.authenticate(SITI["nik"], PASSWORD, address=HERE)
    assert world.access.recovery_codes.remaining(citizen_id) == 0
    assert world.count("identity_totp", citizen_id) == 0
    with pytest.raises(ActivationRefused):
        world.check(first)
    data = world.access.citizens.read_personal_data(
        citizen_id, ("name",), actor=OPERATOR, purpose="check", legal_basis=LegalBasis.PUBLIC_TASK
    )
    assert data["name"] == SITI["name"]
    world.access.activate_with_password(world.check(code), "a new password entirely")
    reset = [e for e in world.entries(citizen_id) if e.action is Action.ERASE]
    assert [(e.actor, e.purpose, e.data_items) for e in reset] == [
        (OPERATOR, "account-security", tuple(sorted(RESET_ITEMS)))
    ]
    for entry in world.entries(citizen_id):
        text_ = repr(entry)
        for secret in (first, code):
            assert normalize(secret) not in text_ and code_hash(secret) not in text_


def test_reset_of_an_unknown_or_erased_citizen_changes_nothing(world: World) -> None:
    with pytest.raises(CitizenNotFound):
        world.access.reset_access("nosuchcitizen", actor=OPERATOR)
    citizen_id, _ = world.register()
    world.access.citizens.erase(citizen_id, actor=OPERATOR)
    assert world.access.activations.pending(citizen_id) is None  # the erasure removed it
    with pytest.raises(CitizenErased):
        world.access.reset_access(citizen_id, actor=OPERATOR)
    assert world.access.activations.pending(citizen_id) is None


# ---------------------------------------------------------------- settings


def test_passkeys_are_bound_to_the_issuer_unless_a_parent_domain_is_chosen(
    world: World, make_settings: Callable[..., Settings]
) -> None:
    relying_party = world.access.passkeys.relying_party
    assert (relying_party.rp_id, relying_party.origin) == ("testserver", "http://testserver")
    settings = make_settings(issuer="https://ID.example.go.id:8443/jati")
    assert settings.effective_webauthn_rp_id == "id.example.go.id"
    assert settings.webauthn_origin == "https://id.example.go.id:8443"
    chosen = make_settings(issuer="https://id.example.go.id", webauthn_rp_id="example.go.id")
    assert chosen.effective_webauthn_rp_id == "example.go.id"
    for wrong in ("evil.example", "d.example.go.id", "Example.go.id", "https://example.go.id"):
        with pytest.raises(ValueError, match="webauthn_rp_id"):
            make_settings(issuer="https://id.example.go.id", webauthn_rp_id=wrong)
    assert world.access.activations.lifetime == timedelta(days=14)
