"""Activation and recovery codes on SQLite and PostgreSQL: only hashes at rest, each code used
once even when two workers try at once, activation and password committed together, entries
in the audit queue without a code, and the rows gone when the citizen is erased.

Every test runs on the ``database`` fixture: SQLite, or a fresh PostgreSQL schema when
JATI_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from audit.entry import Action, Actor, ActorKind, AuditEntry, decode_entry
from audit.pseudonym import SubjectPseudonymizer
from audit.storage.store import SqlAuditStore
from identity.citizens.records import NewCitizen
from identity.citizens.service import SELF
from identity.errors import ActivationRefused, RecoveryCodeRefused
from identity.login.access_codes import code_hash, normalize
from identity.login.activation import Activations
from identity.login.recovery_codes import RecoveryCodes
from identity.storage.activation import ActivationErasure, IdentityActivation, SqlActivationStore
from identity.storage.citizens import IdentityCitizen, SqlCitizenStore
from identity.storage.database import Database
from identity.storage.recovery_codes import (
    IdentityRecoveryCode,
    RecoveryCodeErasure,
    SqlRecoveryCodeStore,
    SqlRecoveryCodeTransaction,
)

T0 = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
CITIZEN = "c" * 32
OPERATOR = Actor(kind=ActorKind.OFFICIAL, id="dukcapil-officer-7")
CITIZEN_SELF = SELF


@pytest.fixture
def audited(database: Database, pseudonymizer: SubjectPseudonymizer) -> dict[str, Any]:
    """What both services take besides their store: the audit queue and the pseudonymizer."""
    return {"audit": SqlAuditStore(engine=database.engine), "pseudonymizer": pseudonymizer}


@pytest.fixture
def activations(database: Database, audited: dict[str, Any]) -> Activations:
    return Activations(store=SqlActivationStore(database=database), **audited)


@pytest.fixture
def recovery(database: Database, audited: dict[str, Any]) -> RecoveryCodes:
    return RecoveryCodes(store=SqlRecoveryCodeStore(database=database), **audited)


def queued(database: Database) -> Iterator[tuple[bytes, AuditEntry]]:
    with database.read() as session:
        rows = session.execute(text("SELECT entry FROM audit_queue ORDER BY id")).scalars()
        for row in rows:
            yield bytes(row), decode_entry(bytes(row))


def table_text(database: Database, table: str) -> str:
    with database.read() as session:
        return repr(session.execute(text(f"SELECT * FROM {table}")).all())


def outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except Exception as exc:  # the test compares what each attempt got
        return exc


def second_waits_for_first(
    database: Database, first: Callable[[Any], object], second: Callable[[], object]
) -> object:
    """Run ``first`` in a write transaction held open while ``second`` starts in another
    thread (and waits: a row lock on PostgreSQL, BEGIN IMMEDIATE on SQLite); commit the first,
    and return what the second got."""
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(outcome(second)))
    with database.write() as session:
        first(session)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # blocked behind the open transaction
    thread.join(15)
    assert not thread.is_alive()
    return results[0]


# ---------------------------------------------------------------- activation codes


def test_a_code_is_stored_only_as_its_hash_and_works_once(
    database: Database, activations: Activations
) -> None:
    code = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    with database.read() as session:
        row = session.scalars(select(IdentityActivation)).one()
    assert (row.citizen_id, row.code_hash) == (CITIZEN, code_hash(code))
    assert (row.created_at, row.expires_at) == (T0, T0 + timedelta(days=14))
    stored = table_text(database, "identity_activation")
    assert normalize(code) not in stored and code not in stored
    ticket = activations.check(CITIZEN, code.lower(), now=T0 + timedelta(days=1))
    activations.complete(ticket, actor=CITIZEN_SELF, now=T0 + timedelta(days=1))
    assert activations.pending(CITIZEN) is None
    with pytest.raises(ActivationRefused):
        activations.complete(ticket, actor=CITIZEN_SELF, now=T0 + timedelta(days=1))
    with pytest.raises(ActivationRefused):
        activations.check(CITIZEN, code, now=T0 + timedelta(days=1))


def test_an_expired_or_replaced_code_fails(database: Database, activations: Activations) -> None:
    first = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    ticket = activations.check(CITIZEN, first, now=T0)
    with pytest.raises(ActivationRefused):
        activations.check(CITIZEN, first, now=T0 + timedelta(days=14))
    with pytest.raises(ActivationRefused):
        activations.complete(ticket, actor=CITIZEN_SELF, now=T0 + timedelta(days=14))
    second = activations.issue(CITIZEN, actor=OPERATOR, now=T0 + timedelta(days=20))
    with database.read() as session:
        assert session.scalars(select(IdentityActivation.code_hash)).all() == [code_hash(second)]
    with pytest.raises(ActivationRefused):
        activations.check(CITIZEN, first, now=T0 + timedelta(days=20))
    with pytest.raises(ActivationRefused):
        activations.complete(ticket, actor=CITIZEN_SELF, now=T0 + timedelta(days=20))
    activations.check(CITIZEN, second, now=T0 + timedelta(days=33))
    assert activations.pending(CITIZEN) == T0 + timedelta(days=34)


def test_two_completions_at_once_succeed_once(database: Database, activations: Activations) -> None:
    code = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    ticket = activations.check(CITIZEN, code, now=T0)
    got = second_waits_for_first(
        database,
        lambda session: activations.complete(ticket, actor=CITIZEN_SELF, now=T0, bind=session),
        lambda: activations.complete(ticket, actor=CITIZEN_SELF, now=T0),
    )
    assert isinstance(got, ActivationRefused)
    assert [entry.action for _, entry in queued(database)] == [Action.CREATE, Action.UPDATE]


def _add_citizen(database: Database) -> None:
    with SqlCitizenStore(database=database).write() as tx:
        tx.add(
            NewCitizen(
                id=CITIZEN,
                nik_index=b"\x01" * 32,
                wrapped_key=b"\x02" * 40,
                sealed={"nik": b"\x03", "name": b"\x04", "birthdate": b"\x05"},
                password_hash="old-hash",
                created_at=T0,
            )
        )


def _password_hash(database: Database) -> str | None:
    with database.read() as session:
        return session.scalar(select(IdentityCitizen.password_hash))


def test_the_password_and_the_activation_commit_together(
    database: Database, activations: Activations
) -> None:
    _add_citizen(database)
    citizens = SqlCitizenStore(database=database)
    code = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    ticket = activations.check(CITIZEN, code, now=T0)
    with citizens.write() as tx:  # as the citizen service will: its own transaction
        tx.set_password_hash(CITIZEN, "first-hash")
        activations.complete(ticket, actor=CITIZEN_SELF, now=T0, password_set=True, bind=tx.bind)
    assert _password_hash(database) == "first-hash"
    assert activations.pending(CITIZEN) is None
    with pytest.raises(ActivationRefused), citizens.write() as tx:  # the code again
        tx.set_password_hash(CITIZEN, "second-hash")
        activations.complete(ticket, actor=CITIZEN_SELF, now=T0, password_set=True, bind=tx.bind)
    assert _password_hash(database) == "first-hash"  # rolled back with the refusal
    entries = [entry for _, entry in queued(database)]
    assert [(e.action, e.data_items) for e in entries] == [
        (Action.CREATE, ("activation_code",)),
        (Action.UPDATE, ("activation_code", "password")),
    ]


def test_activation_entries_are_queued_without_the_code(
    database: Database, activations: Activations, pseudonymizer: SubjectPseudonymizer
) -> None:
    code = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    activations.complete(activations.check(CITIZEN, code, now=T0), actor=CITIZEN_SELF, now=T0)
    rows = list(queued(database))
    assert len(rows) == 2
    for raw, entry in rows:
        assert entry.subject == pseudonymizer.pseudonym(CITIZEN)
        for secret in (code, normalize(code), code_hash(code)):
            assert secret.encode() not in raw


# ---------------------------------------------------------------- recovery codes


def test_ten_codes_stored_as_hashes_each_usable_once(
    database: Database, recovery: RecoveryCodes
) -> None:
    codes = recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0)
    with database.read() as session:
        hashes = session.scalars(select(IdentityRecoveryCode.code_hash)).all()
    assert sorted(hashes) == sorted(code_hash(code) for code in codes)
    stored = table_text(database, "identity_recovery_code")
    assert not any(normalize(code) in stored or code in stored for code in codes)
    for n, code in enumerate(codes, start=1):
        assert recovery.use(CITIZEN, code, actor=CITIZEN_SELF, now=T0) == 10 - n
    with pytest.raises(RecoveryCodeRefused):
        recovery.use(CITIZEN, codes[0], actor=CITIZEN_SELF, now=T0)
    assert recovery.remaining(CITIZEN) == 0
    fresh = recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0 + timedelta(days=1))
    assert recovery.remaining(CITIZEN) == 10
    with pytest.raises(RecoveryCodeRefused):
        recovery.use(CITIZEN, codes[5], actor=CITIZEN_SELF, now=T0)
    assert recovery.use(CITIZEN, fresh[5], actor=CITIZEN_SELF, now=T0) == 9
    rows = list(queued(database))
    assert [e.action for _, e in rows] == [Action.CREATE] + [Action.LOGIN] * 10 + [
        Action.CREATE,
        Action.LOGIN,
    ]
    for raw, _ in rows:
        for code in (*codes, *fresh):
            assert normalize(code).encode() not in raw and code_hash(code).encode() not in raw


def test_one_code_used_at_once_by_two_transactions_succeeds_once(
    database: Database, recovery: RecoveryCodes
) -> None:
    code = recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0)[0]
    got = second_waits_for_first(
        database,
        lambda session: _mark(session, code),
        lambda: recovery.use(CITIZEN, code, actor=CITIZEN_SELF, now=T0),
    )
    assert isinstance(got, RecoveryCodeRefused)
    assert recovery.remaining(CITIZEN) == 9


def _mark(session: Any, code: str) -> None:
    assert SqlRecoveryCodeTransaction(session).mark_used(CITIZEN, code_hash(code), now=T0)


def test_one_code_raced_by_four_threads_succeeds_once(
    database: Database, recovery: RecoveryCodes
) -> None:
    code = recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0)[0]
    start = threading.Barrier(4)
    results: list[object] = []

    def attempt() -> None:
        start.wait()
        results.append(outcome(lambda: recovery.use(CITIZEN, code, actor=CITIZEN_SELF, now=T0)))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(map(repr, results)) == sorted([repr(9)] + [repr(RecoveryCodeRefused())] * 3)
    assert recovery.remaining(CITIZEN) == 9


def test_two_lists_made_at_once_leave_only_the_later(
    database: Database, recovery: RecoveryCodes
) -> None:
    earlier = [code_hash(str(n) * 16) for n in range(10)]
    got = second_waits_for_first(
        database,
        lambda session: SqlRecoveryCodeTransaction(session).replace_all(CITIZEN, earlier, now=T0),
        lambda: recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0),
    )
    assert isinstance(got, tuple)
    with database.read() as session:
        hashes = set(session.scalars(select(IdentityRecoveryCode.code_hash)))
    assert hashes == {code_hash(code) for code in got}


# ---------------------------------------------------------------- erasure


def test_erasure_steps_delete_the_citizens_codes_in_the_erasures_transaction(
    database: Database, activations: Activations, recovery: RecoveryCodes
) -> None:
    other = "d" * 32
    for citizen in (CITIZEN, other):
        activations.issue(citizen, actor=OPERATOR, now=T0)
        recovery.generate(citizen, actor=CITIZEN_SELF, now=T0)
    with pytest.raises(RuntimeError), database.write() as session:
        for step in (ActivationErasure(), RecoveryCodeErasure()):
            step.end_for_erased(session, CITIZEN, now=T0)
        raise RuntimeError("the erasure failed")
    assert activations.pending(CITIZEN) is not None and recovery.remaining(CITIZEN) == 10
    with database.write() as session:
        for step in (ActivationErasure(), RecoveryCodeErasure()):
            step.end_for_erased(session, CITIZEN, now=T0)
    assert activations.pending(CITIZEN) is None and recovery.remaining(CITIZEN) == 0
    assert activations.pending(other) is not None and recovery.remaining(other) == 10
