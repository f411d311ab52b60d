"""Recovery codes without a database: ten distinct codes, each usable once, a new list
replaces the old, only hashes stored, and audit entries that never hold a code."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.entry import Action, LegalBasis
from identity.errors import MalformedAccessCode, RecoveryCodeRefused, Unauthorized
from identity.login.access_codes import code_hash, normalize
from identity.login.recovery_codes import RECOVERY_CODE_COUNT, RecoveryCodes
from tests.unit.identity.login.access_fakes import (
    CITIZEN,
    CITIZEN_SELF,
    PSEUDONYMIZER,
    T0,
    MemoryRecoveryCodeStore,
    TransactionAudit,
    holds_no_code,
)


@pytest.fixture
def store() -> MemoryRecoveryCodeStore:
    return MemoryRecoveryCodeStore()


@pytest.fixture
def recovery(store: MemoryRecoveryCodeStore) -> RecoveryCodes:
    return RecoveryCodes(store=store, audit=TransactionAudit(), pseudonymizer=PSEUDONYMIZER)


def _use(recovery: RecoveryCodes, code: str, citizen: str = CITIZEN) -> int:
    return recovery.use(citizen, code, actor=CITIZEN_SELF, now=T0 + timedelta(days=1))


def test_ten_distinct_codes_each_usable_once(recovery: RecoveryCodes) -> None:
    codes = recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0)
    assert len(codes) == RECOVERY_CODE_COUNT == 10
    assert len({normalize(code) for code in codes}) == 10
    assert recovery.remaining(CITIZEN) == 10
    for n, code in enumerate(codes, start=1):
        assert _use(recovery, code) == 10 - n
        with pytest.raises(RecoveryCodeRefused):
            _use(recovery, code)
    assert recovery.remaining(CITIZEN) == 0


def test_a_code_is_read_as_typed(recovery: RecoveryCodes) -> None:
    code = recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0)[3]
    assert _use(recovery, " " + code.lower().replace("-", " ").replace("0", "O") + " ") == 9


def test_a_new_list_replaces_every_earlier_code(recovery: RecoveryCodes) -> None:
    old = recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0)
    _use(recovery, old[0])
    new = recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0 + timedelta(days=2))
    assert not {normalize(c) for c in old} & {normalize(c) for c in new}
    assert recovery.remaining(CITIZEN) == 10
    for code in old[1:]:
        with pytest.raises(RecoveryCodeRefused):
            _use(recovery, code)
    assert _use(recovery, new[0]) == 9


def test_unknown_used_and_other_citizens_codes_get_one_answer(recovery: RecoveryCodes) -> None:
    mine = recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0)
    theirs = recovery.generate("d" * 32, actor=CITIZEN_SELF, now=T0)
    _use(recovery, mine[0])
    answers = set()
    for citizen, code in ((CITIZEN, mine[0]), (CITIZEN, theirs[0]), ("e" * 32, mine[1])):
        with pytest.raises(RecoveryCodeRefused) as refused:
            _use(recovery, code, citizen)
        assert code not in str(refused.value) and normalize(code) not in str(refused.value)
        answers.add(str(refused.value))
    assert len(answers) == 1
    assert isinstance(refused.value, Unauthorized)
    assert recovery.remaining("d" * 32) == 10  # their codes untouched


def test_a_malformed_code_is_an_input_error(recovery: RecoveryCodes) -> None:
    recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0)
    with pytest.raises(MalformedAccessCode):
        _use(recovery, "123456")
    assert recovery.remaining(CITIZEN) == 10


def test_only_hashes_are_stored(recovery: RecoveryCodes, store: MemoryRecoveryCodeStore) -> None:
    codes = recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0)
    assert {hashed for _, hashed in store.rows} == {code_hash(code) for code in codes}
    stored = repr(store.rows)
    assert not any(normalize(code) in stored or code in stored for code in codes)


def test_generation_and_use_are_audited_without_a_code(
    recovery: RecoveryCodes, store: MemoryRecoveryCodeStore
) -> None:
    codes = recovery.generate(CITIZEN, actor=CITIZEN_SELF, now=T0)
    _use(recovery, codes[0])
    with pytest.raises(RecoveryCodeRefused):
        _use(recovery, codes[0])  # a refusal changes nothing, writes no entry
    made, used = store.entries
    assert (made.action, made.data_items, made.time) == (Action.CREATE, ("recovery_codes",), T0)
    assert (used.action, used.data_items) == (Action.LOGIN, ("recovery_codes",))
    for entry in (made, used):
        assert entry.actor == CITIZEN_SELF
        assert entry.purpose == "account-security"
        assert entry.legal_basis is LegalBasis.PUBLIC_TASK
        assert entry.subject == PSEUDONYMIZER.pseudonym(CITIZEN)
        assert holds_no_code(entry, codes)
