"""The TOTP second factor (RFC 6238) without a database: the RFC's test vectors, the ±1 step
window, no code accepted twice, throttling of guesses, enrolment confirmed by a code."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from audit.entry import Action, Actor
from identity.citizens.records import SELF
from identity.errors import Throttled, UnreadableField
from identity.login.totp import (
    ENROLMENT_LIFETIME,
    MAX_FAILURES,
    InvalidCode,
    NoEnrolment,
    SecondFactor,
    SecondFactorEnabled,
    TotpRecord,
    TotpSealer,
    lockout_for,
    matching_step,
    provisioning_uri,
    time_step,
)
from tests.conftest import ManualClock

#: RFC 6238 Appendix B: the SHA-1 seed, and (time, 8-digit TOTP); a 6-digit code is the
#: last six digits (RFC 4226 §5.3: Snum mod 10^Digit).
RFC_SEED = b"12345678901234567890"
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
MASTER_KEY = bytes(range(32))


def totp_code(secret: bytes, at: float) -> str:
    """What an authenticator app shows at ``at`` (cryptography's TOTP, independently)."""
    return TOTP(secret, 6, SHA1(), 30).generate(int(at)).decode()


def _other(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize(("unix_time", "totp"), RFC_VECTORS)
def test_rfc_6238_appendix_b_vectors(unix_time: int, totp: str) -> None:
    code = totp[-6:]
    assert matching_step(RFC_SEED, code, _at(unix_time), window=0) == unix_time // 30
    assert totp_code(RFC_SEED, unix_time) == code


@pytest.mark.parametrize(("unix_time", "totp"), RFC_VECTORS)
def test_a_mutated_vector_is_refused(unix_time: int, totp: str) -> None:
    code = totp[-6:]
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert matching_step(RFC_SEED, wrong, _at(unix_time)) is None


def test_one_step_either_side_is_accepted_two_are_not() -> None:
    now = 1_700_000_015.0
    for offset, accepted in ((-60, False), (-30, True), (0, True), (30, True), (60, False)):
        code = totp_code(RFC_SEED, now + offset)
        step = matching_step(RFC_SEED, code, _at(now))
        assert (step is not None) == accepted, offset
        if accepted:
            assert step == time_step(_at(now + offset))


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "abcdef", "12 345", "１２３４５６", "123456\n", "-12345"]
)
def test_malformed_codes_match_nothing(code: str) -> None:
    assert matching_step(RFC_SEED, code, _at(59)) is None


def test_provisioning_uri_names_the_parameters_and_no_person() -> None:
    uri = provisioning_uri(RFC_SEED, account="id.example.go.id")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert base64.b32decode(query["secret"] + "=" * (-len(query["secret"]) % 8)) == RFC_SEED
    assert query["issuer"] == "Jati"
    assert query["digits"] == "6" and query["period"] == "30" and query["algorithm"] == "SHA1"
    assert "id.example.go.id" in parts.path


def test_lockouts_double_up_to_an_hour() -> None:
    assert [lockout_for(n).total_seconds() for n in (1, 2, 3, 7, 8, 50)] == [
        60,
        120,
        240,
        3600,
        3600,
        3600,
    ]


def test_sealed_secret_is_bound_to_its_citizen() -> None:
    sealer = TotpSealer(MASTER_KEY)
    sealed = sealer.seal("citizen-a", RFC_SEED)
    assert RFC_SEED not in sealed and base64.b32encode(RFC_SEED) not in sealed
    assert sealer.open("citizen-a", sealed) == RFC_SEED
    with pytest.raises(UnreadableField):
        sealer.open("citizen-b", sealed)
    with pytest.raises(UnreadableField):
        TotpSealer(bytes(32)).open("citizen-a", sealed)
    assert "key" in repr(sealer) and MASTER_KEY.hex() not in repr(sealer)


# ---------------------------------------------------------------- the service


class MemoryStore:
    def __init__(self) -> None:
        self.rows: dict[str, TotpRecord] = {}

    def load(self, citizen_id: str, *, for_update: bool = False) -> TotpRecord | None:
        return self.rows.get(citizen_id)

    def save(self, record: TotpRecord) -> None:
        self.rows[record.citizen_id] = record

    def delete(self, citizen_id: str) -> None:
        self.rows.pop(citizen_id, None)

    @contextmanager
    def write(self) -> Iterator[MemoryStore]:
        saved = dict(self.rows)
        try:
            yield self
        except BaseException:
            self.rows = saved  # a transaction that raised leaves nothing behind
            raise

    read = write

    @property
    def bind(self) -> MemoryStore:
        return self


class Events:
    """An :class:`identity.login.account_events.AccountEvents` stand-in: what was recorded."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, Action, tuple[str, ...]]] = []

    def append(
        self, bind: object, citizen_id: str, now: datetime, *, actor: Actor, action: Action,
        items: tuple[str, ...],
    ) -> None:  # fmt: skip
        assert actor == SELF
        self.recorded.append((citizen_id, action, tuple(items)))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 28, 8, 0, 10, tzinfo=UTC))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def factor(store: MemoryStore, clock: ManualClock) -> SecondFactor:
    return SecondFactor(store=store, sealer=TotpSealer(MASTER_KEY), clock=clock, account="jati")


def _secret(uri: str) -> bytes:
    value = parse_qs(urlsplit(uri).query)["secret"][0]
    return base64.b32decode(value + "=" * (-len(value) % 8))


def _enrolled(factor: SecondFactor, clock: ManualClock) -> bytes:
    enrolment = factor.begin_enrolment("c1")
    secret = _secret(enrolment.uri)
    assert len(enrolment.secret_base32) == 32  # 160 bits, no padding
    assert base64.b32decode(enrolment.secret_base32) == secret
    factor.confirm_enrolment("c1", totp_code(secret, clock.now.timestamp()))
    clock.advance(30)
    return secret


def test_enrolment_needs_a_confirming_code(factor: SecondFactor, clock: ManualClock) -> None:
    enrolment = factor.begin_enrolment("c1")
    assert "secret" not in repr(enrolment) and enrolment.secret_base32 not in repr(enrolment)
    assert not factor.is_enabled("c1")
    with pytest.raises(NoEnrolment):
        factor.verify("c1", "000000")  # waiting for its code: not a factor yet
    with pytest.raises(InvalidCode):
        factor.confirm_enrolment(
            "c1", _other(totp_code(_secret(enrolment.uri), clock.now.timestamp()))
        )
    assert not factor.is_enabled("c1")
    factor.confirm_enrolment("c1", totp_code(_secret(enrolment.uri), clock.now.timestamp()))
    assert factor.is_enabled("c1")
    with pytest.raises(SecondFactorEnabled):
        factor.begin_enrolment("c1")


def test_an_old_enrolment_cannot_be_confirmed(
    factor: SecondFactor, clock: ManualClock, store: MemoryStore
) -> None:
    enrolment = factor.begin_enrolment("c1")
    clock.advance(ENROLMENT_LIFETIME.total_seconds() + 1)
    with pytest.raises(NoEnrolment):
        factor.confirm_enrolment("c1", totp_code(_secret(enrolment.uri), clock.now.timestamp()))
    assert "c1" not in store.rows


def test_a_code_is_never_accepted_twice(factor: SecondFactor, clock: ManualClock) -> None:
    secret = _enrolled(factor, clock)
    code = totp_code(secret, clock.now.timestamp())
    factor.verify("c1", code)
    with pytest.raises(InvalidCode):
        factor.verify("c1", code)  # replay within its own step
    clock.advance(30)
    with pytest.raises(InvalidCode):
        factor.verify("c1", code)  # still inside the window, but used
    factor.verify("c1", totp_code(secret, clock.now.timestamp()))


def test_an_earlier_code_is_refused_after_a_later_one(
    factor: SecondFactor, clock: ManualClock
) -> None:
    secret = _enrolled(factor, clock)
    previous = totp_code(secret, clock.now.timestamp() - 30)  # still in the window
    factor.verify("c1", totp_code(secret, clock.now.timestamp()))
    with pytest.raises(InvalidCode):
        factor.verify("c1", previous)


def test_the_enrolment_code_cannot_be_replayed_at_login(
    factor: SecondFactor, clock: ManualClock
) -> None:
    enrolment = factor.begin_enrolment("c1")
    code = totp_code(_secret(enrolment.uri), clock.now.timestamp())
    factor.confirm_enrolment("c1", code)
    with pytest.raises(InvalidCode):
        factor.verify("c1", code)


def test_guesses_are_throttled(
    factor: SecondFactor, clock: ManualClock, store: MemoryStore
) -> None:
    secret = _enrolled(factor, clock)
    good = totp_code(secret, clock.now.timestamp())
    bad = _other(good)
    for _ in range(MAX_FAILURES):
        with pytest.raises(InvalidCode):
            factor.verify("c1", bad)
    with pytest.raises(Throttled) as locked:
        factor.verify("c1", good)  # even the right code waits: the lockout comes first
    assert locked.value.retry_after == 60
    clock.advance(61)
    factor.verify("c1", totp_code(secret, clock.now.timestamp()))
    assert store.rows["c1"].failures == 0 and store.rows["c1"].lockouts == 0


def test_a_second_lockout_lasts_twice_as_long(factor: SecondFactor, clock: ManualClock) -> None:
    secret = _enrolled(factor, clock)
    bad = _other(totp_code(secret, clock.now.timestamp()))
    for round_ in (1, 2):
        for _ in range(MAX_FAILURES):
            with pytest.raises(InvalidCode):
                factor.verify("c1", bad)
        with pytest.raises(Throttled) as locked:
            factor.verify("c1", bad)
        assert locked.value.retry_after == 60 * round_
        clock.advance(60 * round_ + 1)


def test_disable_needs_a_valid_code(factor: SecondFactor, clock: ManualClock) -> None:
    secret = _enrolled(factor, clock)
    with pytest.raises(InvalidCode):
        factor.disable("c1", "abcdef")
    assert factor.is_enabled("c1")
    factor.disable("c1", totp_code(secret, clock.now.timestamp()))
    assert not factor.is_enabled("c1")
    with pytest.raises(NoEnrolment):
        factor.disable("c1", totp_code(secret, clock.now.timestamp()))


def _audited(store: MemoryStore, clock: ManualClock) -> tuple[SecondFactor, Events]:
    """A factor whose account events are recorded in :class:`Events`."""
    events = Events()
    factor = SecondFactor(
        store=store, sealer=TotpSealer(MASTER_KEY), clock=clock, account="jati",
        events=events,  # type: ignore[arg-type]
    )  # fmt: skip
    return factor, events


def test_turning_the_factor_on_and_off_is_recorded_once_each(
    store: MemoryStore, clock: ManualClock
) -> None:
    factor, events = _audited(store, clock)
    enrolment = factor.begin_enrolment("c1")
    assert events.recorded == []  # waiting for its code is not a factor yet
    secret = _secret(enrolment.uri)
    with pytest.raises(InvalidCode):
        factor.confirm_enrolment("c1", _other(totp_code(secret, clock.now.timestamp())))
    assert events.recorded == []
    factor.confirm_enrolment("c1", totp_code(secret, clock.now.timestamp()))
    clock.advance(30)
    factor.verify("c1", totp_code(secret, clock.now.timestamp()))  # a login: not this entry
    clock.advance(30)
    factor.disable("c1", totp_code(secret, clock.now.timestamp()))
    assert events.recorded == [("c1", Action.CREATE, ("totp",)), ("c1", Action.ERASE, ("totp",))]


def test_a_replacement_removes_the_old_factor_audited_in_the_same_step(
    store: MemoryStore, clock: ManualClock
) -> None:
    factor, events = _audited(store, clock)
    old = _enrolled(factor, clock)
    with pytest.raises(SecondFactorEnabled):
        factor.begin_enrolment("c1")
    enrolment = factor.begin_enrolment("c1", replace=True)
    assert not factor.is_enabled("c1")  # the lost phone's factor is gone
    assert events.recorded[-1] == ("c1", Action.ERASE, ("totp",))
    with pytest.raises(NoEnrolment):
        factor.verify("c1", totp_code(old, clock.now.timestamp()))
    assert _secret(enrolment.uri) != old


def test_codes_with_blanks_are_accepted(factor: SecondFactor, clock: ManualClock) -> None:
    secret = _enrolled(factor, clock)
    code = totp_code(secret, clock.now.timestamp())
    factor.verify("c1", f" {code[:3]} {code[3:]} ")


def test_a_failure_is_counted_even_though_the_call_raises(
    factor: SecondFactor, clock: ManualClock, store: MemoryStore
) -> None:
    _enrolled(factor, clock)
    with pytest.raises(InvalidCode):
        factor.verify("c1", "abcdef")
    assert store.rows["c1"].failures == 1
    store.rows["c1"] = replace(store.rows["c1"], locked_until=clock.now + timedelta(seconds=5))
    with pytest.raises(Throttled):
        factor.verify("c1", "abcdef")
