"""Activation codes without a database: a code works once, expires, is replaced by a newer
one, is stored only as a hash, and every issue and activation is audited without the code."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from audit.entry import Action, Actor, ActorKind, LegalBasis
from identity.errors import ActivationRefused, ConfigurationError, MalformedAccessCode, Unauthorized
from identity.login.access_codes import code_hash, normalize
from identity.login.activation import DEFAULT_ACTIVATION_LIFETIME, Activations
from tests.unit.identity.login.access_fakes import (
    CITIZEN,
    CITIZEN_SELF,
    PSEUDONYMIZER,
    T0,
    MemoryActivationStore,
    TransactionAudit,
    holds_no_code,
)

OPERATOR = Actor(kind=ActorKind.OFFICIAL, id="dukcapil-officer-7")


@pytest.fixture
def store() -> MemoryActivationStore:
    return MemoryActivationStore()


@pytest.fixture
def activations(store: MemoryActivationStore) -> Activations:
    return Activations(store=store, audit=TransactionAudit(), pseudonymizer=PSEUDONYMIZER)


def _activate(activations: Activations, code: str, now: datetime = T0) -> None:
    ticket = activations.check(CITIZEN, code, now=now)
    activations.complete(ticket, actor=CITIZEN_SELF, now=now)


def test_an_issued_code_works_once(activations: Activations) -> None:
    code = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    assert activations.pending(CITIZEN) == T0 + DEFAULT_ACTIVATION_LIFETIME
    later = T0 + timedelta(days=3)
    ticket = activations.check(CITIZEN, code, now=later)
    assert ticket.citizen_id == CITIZEN
    activations.complete(ticket, actor=CITIZEN_SELF, now=later)
    assert activations.pending(CITIZEN) is None
    with pytest.raises(ActivationRefused):
        activations.complete(ticket, actor=CITIZEN_SELF, now=later)  # the same ticket again
    with pytest.raises(ActivationRefused):
        activations.check(CITIZEN, code, now=later)


def test_the_code_is_read_as_typed(activations: Activations) -> None:
    code = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    _activate(activations, typed)


def test_a_code_expires_after_its_lifetime(activations: Activations) -> None:
    code = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    expiry = T0 + timedelta(days=14)
    ticket = activations.check(CITIZEN, code, now=expiry - timedelta(seconds=1))
    with pytest.raises(ActivationRefused):
        activations.check(CITIZEN, code, now=expiry)
    with pytest.raises(ActivationRefused):  # a ticket does not outlive its code
        activations.complete(ticket, actor=CITIZEN_SELF, now=expiry)
    assert activations.pending(CITIZEN) == expiry  # outstanding, but past


def test_the_lifetime_is_configurable_and_positive(store: MemoryActivationStore) -> None:
    short = Activations(
        store=store,
        audit=TransactionAudit(),
        pseudonymizer=PSEUDONYMIZER,
        lifetime=timedelta(hours=1),
    )
    code = short.issue(CITIZEN, actor=OPERATOR, now=T0)
    with pytest.raises(ActivationRefused):
        short.check(CITIZEN, code, now=T0 + timedelta(hours=1))
    for bad in (timedelta(0), timedelta(seconds=-1)):
        with pytest.raises(ConfigurationError):
            Activations(
                store=store, audit=TransactionAudit(), pseudonymizer=PSEUDONYMIZER, lifetime=bad
            )


def test_a_new_code_replaces_the_earlier_one(
    activations: Activations, store: MemoryActivationStore
) -> None:
    first = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    old_ticket = activations.check(CITIZEN, first, now=T0)
    second = activations.issue(CITIZEN, actor=OPERATOR, now=T0 + timedelta(days=1))
    assert second != first
    assert len(store.rows) == 1
    assert activations.pending(CITIZEN) == T0 + timedelta(days=15)
    with pytest.raises(ActivationRefused):
        activations.check(CITIZEN, first, now=T0 + timedelta(days=1))
    with pytest.raises(ActivationRefused):
        activations.complete(old_ticket, actor=CITIZEN_SELF, now=T0 + timedelta(days=1))
    _activate(activations, second, T0 + timedelta(days=1))


def test_wrong_expired_and_missing_codes_get_one_answer(activations: Activations) -> None:
    with pytest.raises(ActivationRefused) as none_issued:
        activations.check(CITIZEN, "5WZ8-R2NB-HQ4C-09TY", now=T0)
    code = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    wrong = "5WZ8-R2NB-HQ4C-09TY" if normalize(code) != "5WZ8R2NBHQ4C09TY" else "0" * 16
    with pytest.raises(ActivationRefused) as wrong_code:
        activations.check(CITIZEN, wrong, now=T0)
    with pytest.raises(ActivationRefused) as expired:
        activations.check(CITIZEN, code, now=T0 + timedelta(days=30))
    answers = {(type(e.value), str(e.value)) for e in (none_issued, wrong_code, expired)}
    assert len(answers) == 1
    assert isinstance(wrong_code.value, Unauthorized)
    assert code not in str(wrong_code.value) and wrong not in str(wrong_code.value)


def test_a_malformed_code_is_an_input_error(activations: Activations) -> None:
    activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    with pytest.raises(MalformedAccessCode):
        activations.check(CITIZEN, "not a code", now=T0)


def test_only_a_hash_of_the_code_is_stored(
    activations: Activations, store: MemoryActivationStore
) -> None:
    code = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    (record,) = store.rows.values()
    assert record.code_hash == code_hash(code)
    assert normalize(code) not in repr(record) and record.code_hash not in repr(record)
    ticket = activations.check(CITIZEN, code, now=T0)
    assert record.code_hash not in repr(ticket)


def test_issue_and_activation_are_audited_without_the_code(
    activations: Activations, store: MemoryActivationStore
) -> None:
    code = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    ticket = activations.check(CITIZEN, code, now=T0 + timedelta(hours=2))
    activations.complete(ticket, actor=CITIZEN_SELF, now=T0 + timedelta(hours=2), password_set=True)
    issued, activated = store.entries
    assert (issued.action, issued.actor, issued.data_items) == (
        Action.CREATE,
        OPERATOR,
        ("activation_code",),
    )
    assert (activated.action, activated.actor, activated.data_items) == (
        Action.UPDATE,
        CITIZEN_SELF,
        ("activation_code", "password"),
    )
    for entry in (issued, activated):
        assert entry.purpose == "account-security"
        assert entry.legal_basis is LegalBasis.PUBLIC_TASK
        assert entry.subject == PSEUDONYMIZER.pseudonym(CITIZEN)
        assert holds_no_code(entry, [code])
    assert activated.time == T0 + timedelta(hours=2)


def test_an_activation_without_a_password_names_only_the_code(
    activations: Activations, store: MemoryActivationStore
) -> None:
    _activate(activations, activations.issue(CITIZEN, actor=OPERATOR, now=T0))
    assert store.entries[-1].data_items == ("activation_code",)


def test_completion_joins_the_callers_transaction(
    activations: Activations, store: MemoryActivationStore
) -> None:
    code = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    ticket = activations.check(CITIZEN, code, now=T0)
    with pytest.raises(RuntimeError), store.write() as tx:  # the caller's change fails after
        activations.complete(ticket, actor=CITIZEN_SELF, now=T0, bind=tx.bind)
        raise RuntimeError("the caller's password write failed")
    assert activations.pending(CITIZEN) is not None  # the code was not used up
    assert [e.action for e in store.entries] == [Action.CREATE]
    with store.write() as tx:
        activations.complete(ticket, actor=CITIZEN_SELF, now=T0, bind=tx.bind)
        assert activations.pending(CITIZEN) is not None  # not before the caller commits
    assert activations.pending(CITIZEN) is None
    assert [e.action for e in store.entries] == [Action.CREATE, Action.UPDATE]


def test_issue_can_join_the_callers_transaction(
    activations: Activations, store: MemoryActivationStore
) -> None:
    with pytest.raises(RuntimeError), store.write() as tx:
        activations.issue(CITIZEN, actor=OPERATOR, now=T0, bind=tx.bind)
        raise RuntimeError("the registration failed")
    assert activations.pending(CITIZEN) is None and store.entries == []


def test_codes_are_per_citizen(activations: Activations) -> None:
    mine = activations.issue(CITIZEN, actor=OPERATOR, now=T0)
    other = "d" * 32
    activations.issue(other, actor=OPERATOR, now=T0)
    with pytest.raises(ActivationRefused):
        activations.check(other, mine, now=T0)
    _activate(activations, mine)
    assert activations.pending(other) is not None
