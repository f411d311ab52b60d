"""The citizen service's core (identity.citizens.service) on in-memory storage, no database.

The memory store commits a transaction's rows *and* its audit entries together, or neither,
as the SQL store does; tests/storage/test_citizens.py runs the same flows on the databases.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime
from typing import Any

import pytest

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, Outcome
from audit.errors import InvalidEntry
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.field_crypto import FieldCipher
from identity.citizens.fields import PERSONAL_FIELDS
from identity.citizens.passwords import TEST_PROFILE, PasswordService, Verification
from identity.citizens.records import PersonalData
from identity.citizens.service import SELF, CitizenService
from identity.errors import (
    CitizenErased,
    CitizenNotFound,
    DuplicateNik,
    InvalidCredentials,
    InvalidField,
    InvalidNik,
    Throttled,
)
from identity.login.throttle import LoginThrottle
from tests.conftest import ManualClock
from tests.fakes import (
    MemoryCitizenStore,
    MemoryThrottleStore,
    throttle_policy,
)

MASTER = bytes(range(32))
NIK = "3171015708900001"  # DKI Jakarta, a woman born 1990-08-17
BIRTHDATE = date(1990, 8, 17)
PASSWORD = "kata sandi rahasia"
OFFICIAL = Actor(kind=ActorKind.OFFICIAL, id="dukcapil-officer-7")
SEED = {
    "nik": NIK,
    "name": "Siti Rahayu",
    "birthdate": BIRTHDATE,
    "email": "siti.rahayu@example.id",
    "phone": "+62 812-3456-7890",
    "address": "Jl. Merdeka No. 17, Jakarta Pusat",
}


# ---------------------------------------------------------------- in-memory storage


class MemoryAudit:
    """Appends into the caller's transaction; ``fail`` makes the next append raise."""

    def __init__(self) -> None:
        self.fail = False

    def append(self, bind: Any, entry: AuditEntry, *, queued_at: datetime) -> None:
        if self.fail:
            raise RuntimeError("audit store unavailable")
        bind.audit.append(entry)


class SpyPasswords(PasswordService):
    """The real test-profile hasher, counting verifications and what they were given."""

    def __init__(self) -> None:
        super().__init__(profile=TEST_PROFILE)
        self.verified: list[str | None] = []

    def verify(self, stored_hash: str | None, password: str) -> Verification:
        self.verified.append(stored_hash)
        return super().verify(stored_hash, password)


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def store() -> MemoryCitizenStore:
    return MemoryCitizenStore()


@pytest.fixture
def audit() -> MemoryAudit:
    return MemoryAudit()


@pytest.fixture
def passwords() -> SpyPasswords:
    return SpyPasswords()


@pytest.fixture
def throttle_store() -> MemoryThrottleStore:
    return MemoryThrottleStore()


@pytest.fixture
def pseudonymizer() -> SubjectPseudonymizer:
    return SubjectPseudonymizer(b"p" * 32)


@pytest.fixture
def service(
    store: MemoryCitizenStore,
    audit: MemoryAudit,
    passwords: SpyPasswords,
    clock: ManualClock,
    throttle_store: MemoryThrottleStore,
    pseudonymizer: SubjectPseudonymizer,
) -> CitizenService:
    return CitizenService(
        store=store,
        cipher=FieldCipher(MASTER),
        passwords=passwords,
        clock=clock,
        audit=audit,
        pseudonymizer=pseudonymizer,
        throttle=LoginThrottle(
            store=throttle_store,
            key=b"t" * 32,
            account=throttle_policy(5),
            address=throttle_policy(50),
        ),
    )


def register(service: CitizenService, **overrides: Any) -> str:
    values: dict[str, Any] = {**SEED, "password": PASSWORD, "actor": OFFICIAL}
    values.update(overrides)
    return service.register(**values)


def read_all(service: CitizenService, citizen_id: str) -> PersonalData:
    return service.read_personal_data(
        citizen_id,
        PERSONAL_FIELDS,
        actor=OFFICIAL,
        purpose="population-record-check",
        legal_basis=LegalBasis.PUBLIC_TASK,
        request_id="req-1",
    )


# ---------------------------------------------------------------- registration


def test_registration_seals_every_field_and_reads_back(
    service: CitizenService, store: MemoryCitizenStore
) -> None:
    citizen_id = register(service)
    row = store.rows[citizen_id]
    for name, value in SEED.items():
        sealed = row.sealed[name]
        assert sealed is not None
        assert str(value).encode() not in sealed
    assert row.password_hash is not None and row.password_hash.startswith("$argon2id$")
    data = read_all(service, citizen_id)
    assert dict(data.values) == {k: str(v) for k, v in SEED.items()}
    assert data["birthdate"] == "1990-08-17"


def test_citizen_ids_are_random_and_unrelated_to_the_nik(service: CitizenService) -> None:
    first = register(service)
    second = register(service, nik="3171011708900002", birthdate=date(1990, 8, 17))
    assert first != second
    assert len(first) == 26 and first.isalnum() and first.islower()
    for citizen_id in (first, second):
        assert NIK not in citizen_id and "17089" not in citizen_id


def test_optional_fields_may_be_left_out(service: CitizenService) -> None:
    citizen_id = register(service, email=None, phone=None, address=None)
    data = read_all(service, citizen_id)
    assert data["email"] is None and data["phone"] is None and data["address"] is None
    assert data["name"] == "Siti Rahayu"


def test_registration_is_audited_without_personal_values(
    service: CitizenService, store: MemoryCitizenStore, pseudonymizer: SubjectPseudonymizer
) -> None:
    citizen_id = register(service, phone=None)
    (entry,) = store.audit
    assert entry.action is Action.CREATE
    assert entry.subject == pseudonymizer.pseudonym(citizen_id)
    assert entry.actor == OFFICIAL
    assert entry.legal_basis is LegalBasis.PUBLIC_TASK
    assert entry.data_items == ("address", "birthdate", "email", "name", "nik")
    encoded = str(entry.to_json_dict())
    for value in SEED.values():
        assert str(value) not in encoded


def test_a_duplicate_nik_is_refused_and_nothing_is_written(
    service: CitizenService, store: MemoryCitizenStore
) -> None:
    register(service)
    rows, entries = dict(store.rows), list(store.audit)
    with pytest.raises(DuplicateNik, match="already registered"):
        register(service, name="Someone Else")
    assert store.rows == rows and store.audit == entries


@pytest.mark.parametrize(
    ("nik", "reason"),
    [
        ("317101570890001", "length"),
        ("31710157089000a1", "digits"),
        ("9971015708900001", "province"),
        ("3100015708900001", "regency"),
        ("3171005708900001", "district"),
        ("3171017208900001", "day"),
        ("3171015713900001", "month"),
        ("3171013102900001", "date"),
        ("3171015708900000", "serial"),
    ],
)
def test_each_nik_failure_has_its_own_message_and_writes_nothing(
    service: CitizenService, store: MemoryCitizenStore, nik: str, reason: str
) -> None:
    with pytest.raises(InvalidNik) as caught:
        register(service, nik=nik)
    assert caught.value.reason == reason
    assert nik not in str(caught.value)
    assert store.rows == {} and store.audit == [] and store.writes == 0


def test_a_nik_in_the_future_is_refused(service: CitizenService, clock: ManualClock) -> None:
    # The clock is 2026-11-28: a NIK born on 2026-12-01 (day 41 = woman, 1st) is not valid.
    with pytest.raises(InvalidNik) as caught:
        register(service, nik="3171014112260001", birthdate=date(2026, 12, 1))
    assert caught.value.reason == "future"


def test_the_birthdate_must_be_the_niks(service: CitizenService, store: MemoryCitizenStore) -> None:
    with pytest.raises(InvalidNik) as caught:
        register(service, birthdate=date(1990, 8, 18))
    assert caught.value.reason == "birthdate"
    assert store.rows == {}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "   "}, "name", "cannot be empty"),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"name": "Siti\x00Rahayu"}, "name", "control characters"),
        ({"email": "siti.rahayu.example.id"}, "email", "not an email address"),
        ({"email": "siti@localhost"}, "email", "not an email address"),
        ({"phone": "12345"}, "phone", "8 to 15 digits"),
        ({"phone": "+62 812 abc 7890"}, "phone", "8 to 15 digits"),
        ({"address": ""}, "address", "cannot be empty"),
        ({"address": "x" * 501}, "address", "at most 500 characters"),
        ({"password": "short"}, "password", "at least 8 characters"),
        ({"password": "é" * 600}, "password", "at most 1024 bytes"),
    ],
)
def test_each_bad_field_is_named_never_echoed_and_nothing_is_written(
    service: CitizenService,
    store: MemoryCitizenStore,
    passwords: SpyPasswords,
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    with pytest.raises(InvalidField) as caught:
        register(service, **overrides)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ") and message in str(caught.value)
    for value in overrides.values():
        if value.strip():
            assert value not in str(caught.value)
    assert store.rows == {} and store.audit == []


def test_find_by_nik_uses_the_blind_index(service: CitizenService) -> None:
    citizen_id = register(service)
    assert service.find_by_nik(NIK) == citizen_id
    assert service.find_by_nik("3171011708900002") is None


# ---------------------------------------------------------------- the access path


def test_every_read_appends_an_entry_in_the_same_transaction(
    service: CitizenService, store: MemoryCitizenStore, pseudonymizer: SubjectPseudonymizer
) -> None:
    citizen_id = register(service)
    data = service.read_personal_data(
        citizen_id,
        ["name", "address", "name"],
        actor=OFFICIAL,
        purpose="social-aid-eligibility",
        legal_basis=LegalBasis.CONSENT,
        consent_id="consent-81f2",
        request_id="req-9",
    )
    assert set(data.values) == {"name", "address"}
    entry = store.audit[-1]
    assert entry.action is Action.READ and entry.outcome is Outcome.SUCCESS
    assert entry.subject == pseudonymizer.pseudonym(citizen_id)
    assert entry.actor == OFFICIAL
    assert entry.purpose == "social-aid-eligibility"
    assert entry.legal_basis is LegalBasis.CONSENT
    assert entry.consent_id == "consent-81f2" and entry.request_id == "req-9"
    assert entry.data_items == ("address", "name")


def test_no_data_is_returned_when_the_audit_entry_cannot_be_written(
    service: CitizenService, store: MemoryCitizenStore, audit: MemoryAudit
) -> None:
    citizen_id = register(service)
    entries = list(store.audit)
    audit.fail = True
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        read_all(service, citizen_id)
    assert store.audit == entries


def test_a_bad_purpose_is_refused_before_reading(
    service: CitizenService, store: MemoryCitizenStore
) -> None:
    citizen_id = register(service)
    writes = store.writes
    with pytest.raises(InvalidEntry):
        service.read_personal_data(
            citizen_id,
            ["name"],
            actor=OFFICIAL,
            purpose="Not A Code!",
            legal_basis=LegalBasis.CONSENT,
        )
    assert store.writes == writes


@pytest.mark.parametrize("fields", [[], ["name", "password_hash"], ["NIK"]])
def test_only_personal_fields_can_be_asked_for(service: CitizenService, fields: list[str]) -> None:
    citizen_id = register(service)
    with pytest.raises(InvalidField, match="fields: choose one or more of nik, name"):
        service.read_personal_data(
            citizen_id, fields, actor=OFFICIAL, purpose="x", legal_basis=LegalBasis.CONSENT
        )


def test_reading_an_unknown_citizen(service: CitizenService) -> None:
    with pytest.raises(CitizenNotFound):
        read_all(service, "nosuchcitizen")


def test_personal_data_repr_hides_the_values(service: CitizenService) -> None:
    data = read_all(service, register(service))
    for value in SEED.values():
        assert str(value) not in repr(data)
    assert "name" in repr(data)


# ---------------------------------------------------------------- erasure


def test_erasure_shreds_the_key_and_leaves_a_tombstone(
    service: CitizenService, store: MemoryCitizenStore, clock: ManualClock
) -> None:
    citizen_id = register(service)
    clock.advance(60)
    tombstone = service.erase(citizen_id, actor=OFFICIAL, request_id="dsr-1")
    assert tombstone.citizen_id == citizen_id and tombstone.erased_at == clock()
    row = store.rows[citizen_id]
    assert row.wrapped_key is None and row.nik_index is None and row.password_hash is None
    assert set(row.sealed.values()) == {None}
    assert service.tombstone(citizen_id) == tombstone
    entry = store.audit[-1]
    assert entry.action is Action.ERASE and entry.legal_basis is LegalBasis.LEGAL_OBLIGATION
    assert set(entry.data_items) == set(PERSONAL_FIELDS)
    assert store.erasures == 1


def test_reading_an_erased_citizen_is_refused_and_recorded(
    service: CitizenService, store: MemoryCitizenStore
) -> None:
    citizen_id = register(service)
    service.erase(citizen_id, actor=OFFICIAL)
    with pytest.raises(CitizenErased, match="erased"):
        read_all(service, citizen_id)
    entry = store.audit[-1]
    assert entry.action is Action.READ and entry.outcome is Outcome.DENIED


def test_erasing_twice_is_refused_and_changes_nothing(
    service: CitizenService, store: MemoryCitizenStore
) -> None:
    citizen_id = register(service)
    service.erase(citizen_id, actor=OFFICIAL)
    rows, entries = dict(store.rows), list(store.audit)
    with pytest.raises(CitizenErased):
        service.erase(citizen_id, actor=OFFICIAL)
    assert store.rows == rows and store.audit == entries
    with pytest.raises(CitizenNotFound):
        service.erase("nosuchcitizen", actor=OFFICIAL)


def test_an_erased_nik_can_register_again_as_a_new_citizen(service: CitizenService) -> None:
    first = register(service)
    service.erase(first, actor=OFFICIAL)
    assert service.find_by_nik(NIK) is None
    second = register(service)
    assert second != first and service.find_by_nik(NIK) == second


def test_erasure_drops_the_accounts_login_counter(
    service: CitizenService, throttle_store: MemoryThrottleStore
) -> None:
    citizen_id = register(service)
    with pytest.raises(InvalidCredentials):
        service.authenticate(NIK, "wrong password", address="203.0.113.7")
    assert len(throttle_store.rows) == 2
    service.erase(citizen_id, actor=OFFICIAL)
    assert len(throttle_store.rows) == 1  # the address's counter stays


# ---------------------------------------------------------------- authentication


def test_login_succeeds_with_auth_time_and_amr(
    service: CitizenService, store: MemoryCitizenStore, clock: ManualClock
) -> None:
    citizen_id = register(service)
    result = service.authenticate(NIK, PASSWORD, address="203.0.113.7")
    assert result.citizen_id == citizen_id
    assert result.auth_time == clock() and result.amr == ("pwd",)
    entry = store.audit[-1]
    assert entry.action is Action.LOGIN and entry.actor == SELF and entry.data_items == ()


def test_unknown_nik_and_wrong_password_answer_alike_after_the_same_work(
    service: CitizenService, passwords: SpyPasswords
) -> None:
    register(service)
    errors = []
    for nik, password in ((NIK, "wrong password"), ("3171011708900002", PASSWORD)):
        with pytest.raises(InvalidCredentials) as caught:
            service.authenticate(nik, password, address="203.0.113.7")
        errors.append((type(caught.value), str(caught.value), caught.value.code))
    assert errors[0] == errors[1]
    # One argon2 verification each: the stored hash, then the dummy hash (None).
    assert len(passwords.verified) == 2
    assert passwords.verified[0] is not None and passwords.verified[1] is None


def test_an_erased_citizen_cannot_log_in(service: CitizenService) -> None:
    citizen_id = register(service)
    service.erase(citizen_id, actor=OFFICIAL)
    with pytest.raises(InvalidCredentials):
        service.authenticate(NIK, PASSWORD, address="203.0.113.7")


def test_a_hash_with_old_parameters_is_replaced_at_login(
    service: CitizenService, store: MemoryCitizenStore
) -> None:
    from argon2 import PasswordHasher

    citizen_id = register(service)
    old = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash(PASSWORD)
    store.rows[citizen_id] = dataclasses.replace(store.rows[citizen_id], password_hash=old)
    service.authenticate(NIK, PASSWORD, address="203.0.113.7")
    new = store.rows[citizen_id].password_hash
    assert new is not None and new != old
    assert not service.passwords.verify(new, PASSWORD).new_hash  # current parameters now
    service.authenticate(NIK, PASSWORD, address="203.0.113.7")
    assert store.rows[citizen_id].password_hash == new  # not rehashed again


def test_throttled_attempts_never_hash(
    service: CitizenService, passwords: SpyPasswords, clock: ManualClock
) -> None:
    register(service)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            service.authenticate(NIK, "wrong password", address="203.0.113.7")
    verified = len(passwords.verified)
    for _ in range(3):
        with pytest.raises(Throttled) as caught:
            service.authenticate(NIK, PASSWORD, address="198.51.100.1")  # even the right one
    assert caught.value.retry_after == 60
    assert len(passwords.verified) == verified
    clock.advance(60)
    assert service.authenticate(NIK, PASSWORD, address="198.51.100.1").amr == ("pwd",)


def test_unknown_niks_are_throttled_like_known_ones(
    service: CitizenService, passwords: SpyPasswords
) -> None:
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            service.authenticate("3171011708900002", PASSWORD, address="203.0.113.7")
    with pytest.raises(Throttled):
        service.authenticate("3171011708900002", PASSWORD, address="203.0.113.7")


def test_a_success_resets_the_account_counter(service: CitizenService) -> None:
    register(service)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            service.authenticate(NIK, "wrong password", address="203.0.113.7")
    service.authenticate(NIK, PASSWORD, address="203.0.113.7")
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            service.authenticate(NIK, "wrong password", address="203.0.113.7")
    service.authenticate(NIK, PASSWORD, address="203.0.113.7")


def test_async_login_hashes_off_the_event_loop(service: CitizenService) -> None:
    register(service)
    threads: list[bool] = []
    original = service.passwords.verify

    def verify(stored_hash: str | None, password: str) -> Verification:
        try:
            asyncio.get_running_loop()
            threads.append(True)  # on the loop: wrong
        except RuntimeError:
            threads.append(False)
        return original(stored_hash, password)

    service.passwords.verify = verify  # type: ignore[method-assign]
    result = asyncio.run(service.authenticate_async(NIK, PASSWORD, address="203.0.113.7"))
    assert result.amr == ("pwd",)
    assert threads == [False]


def test_a_service_without_throttle_still_authenticates(
    store: MemoryCitizenStore, audit: MemoryAudit, clock: ManualClock
) -> None:
    service = CitizenService(
        store=store,
        cipher=FieldCipher(MASTER),
        passwords=PasswordService(profile=TEST_PROFILE),
        clock=clock,
        audit=audit,
        pseudonymizer=SubjectPseudonymizer(b"p" * 32),
    )
    register(service)
    assert service.authenticate(NIK, PASSWORD, address="x").citizen_id
    with pytest.raises(InvalidCredentials):
        service.authenticate(NIK, "wrong password", address="x")


def test_policy_defaults_match_the_settings() -> None:
    from identity.service.settings import Settings

    fields = Settings.model_fields
    assert fields["login_account_max_failures"].default == 5
    assert fields["login_address_max_failures"].default == 50
    assert fields["password_profile"].default == "rfc9106-low-memory"
