"""Login throttling (identity.login.throttle) on an in-memory store: limits, lockouts, keys."""

from __future__ import annotations

import pytest

from identity.errors import Throttled
from identity.login.throttle import AttemptKeys, LoginThrottle
from tests.conftest import ManualClock
from tests.fakes import MemoryThrottleStore, throttle_policy

KEY = bytes(range(32))
NIK_INDEX = b"\x11" * 32
ADDRESS = "203.0.113.7"


@pytest.fixture
def store() -> MemoryThrottleStore:
    return MemoryThrottleStore()


@pytest.fixture
def throttle(store: MemoryThrottleStore) -> LoginThrottle:
    return LoginThrottle(
        store=store, key=KEY, account=throttle_policy(5), address=throttle_policy(50)
    )


def fail(throttle: LoginThrottle, keys: AttemptKeys, clock: ManualClock, times: int = 1) -> None:
    for _ in range(times):
        throttle.reserve(keys, now=clock())
        throttle.failed(keys, now=clock())


def test_keys_are_keyed_hashes_never_the_inputs(throttle: LoginThrottle) -> None:
    keys = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    assert len(keys.account) == len(keys.address) == 32
    assert NIK_INDEX not in keys.account and ADDRESS.encode() not in keys.address
    other = LoginThrottle(
        store=MemoryThrottleStore(),
        key=b"k" * 32,
        account=throttle_policy(5),
        address=throttle_policy(5),
    )
    assert other.keys(nik_index=NIK_INDEX, address=ADDRESS) != keys  # keyed, not a plain hash
    # An account and an address with the same bytes do not share a counter.
    assert throttle.account_key(ADDRESS.encode()) != throttle.address_key(ADDRESS)


def test_five_failures_lock_the_account_with_retry_after(
    throttle: LoginThrottle, clock: ManualClock
) -> None:
    keys = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    fail(throttle, keys, clock, 5)
    clock.advance(10)
    with pytest.raises(Throttled) as caught:
        throttle.reserve(keys, now=clock())
    assert caught.value.retry_after == 50
    assert "50 seconds" in str(caught.value)


def test_lockouts_double_up_to_the_maximum(store: MemoryThrottleStore, clock: ManualClock) -> None:
    throttle = LoginThrottle(
        store=store,
        key=KEY,
        account=throttle_policy(2, lockout=60, max_lockout=300),
        address=throttle_policy(99),
    )
    keys = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    waits = []
    for _ in range(5):
        fail(throttle, keys, clock, 2)
        with pytest.raises(Throttled) as caught:
            throttle.reserve(keys, now=clock())
        waits.append(caught.value.retry_after)
        clock.advance(caught.value.retry_after)
    assert waits == [60, 120, 240, 300, 300]


def test_a_lock_ends_and_the_count_starts_again(
    throttle: LoginThrottle, clock: ManualClock
) -> None:
    keys = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    fail(throttle, keys, clock, 5)
    clock.advance(60)
    fail(throttle, keys, clock, 4)  # allowed again, four more
    throttle.reserve(keys, now=clock())  # the fifth is still allowed


def test_failures_outside_the_window_are_forgotten(
    throttle: LoginThrottle, clock: ManualClock
) -> None:
    keys = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    fail(throttle, keys, clock, 4)
    clock.advance(15 * 60)
    fail(throttle, keys, clock, 4)
    throttle.reserve(keys, now=clock())  # 4 + 1 in the new window: not locked


def test_success_clears_the_account_and_returns_the_address_reservation(
    throttle: LoginThrottle, store: MemoryThrottleStore, clock: ManualClock
) -> None:
    keys = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    fail(throttle, keys, clock, 3)
    throttle.reserve(keys, now=clock())
    throttle.succeeded(keys, now=clock())
    assert keys.account not in store.rows
    assert store.rows[keys.address].failures == 3  # the three failures stay counted


def test_the_address_limit_spans_accounts(store: MemoryThrottleStore, clock: ManualClock) -> None:
    throttle = LoginThrottle(
        store=store, key=KEY, account=throttle_policy(5), address=throttle_policy(3)
    )
    for n in range(3):
        fail(throttle, throttle.keys(nik_index=bytes([n]) * 32, address=ADDRESS), clock)
    with pytest.raises(Throttled):
        throttle.reserve(throttle.keys(nik_index=b"\x09" * 32, address=ADDRESS), now=clock())
    # Another address is not affected.
    throttle.reserve(throttle.keys(nik_index=b"\x09" * 32, address="198.51.100.1"), now=clock())


def test_a_refused_attempt_counts_nothing(
    throttle: LoginThrottle, store: MemoryThrottleStore, clock: ManualClock
) -> None:
    keys = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    fail(throttle, keys, clock, 5)
    before = dict(store.rows)
    for _ in range(10):
        with pytest.raises(Throttled):
            throttle.reserve(keys, now=clock())
    assert store.rows == before


def test_reservations_past_the_limit_lock_without_counting(
    throttle: LoginThrottle, store: MemoryThrottleStore, clock: ManualClock
) -> None:
    # Six attempts reserved at once (six workers), none settled yet: the sixth is refused.
    keys = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    for _ in range(5):
        throttle.reserve(keys, now=clock())
    with pytest.raises(Throttled):
        throttle.reserve(keys, now=clock())
    assert store.rows[keys.account].locked_until is not None
    assert store.rows[keys.address].failures == 5


def test_untouched_counters_are_purged(
    throttle: LoginThrottle, store: MemoryThrottleStore, clock: ManualClock
) -> None:
    old = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    fail(throttle, old, clock)
    clock.advance(15 * 60 + 3600 + 1)
    fail(throttle, throttle.keys(nik_index=b"\x22" * 32, address="198.51.100.1"), clock)
    assert old.account not in store.rows and old.address not in store.rows
    assert store.purged == 2


def test_forget_account_drops_its_counter(
    throttle: LoginThrottle, store: MemoryThrottleStore, clock: ManualClock
) -> None:
    keys = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    fail(throttle, keys, clock, 2)
    throttle.forget_account(NIK_INDEX)
    assert keys.account not in store.rows and keys.address in store.rows


@pytest.mark.parametrize(
    ("max_failures", "lockout", "max_lockout"), [(0, 60, 60), (1, 0, 60), (1, 120, 60)]
)
def test_policies_refuse_nonsense(max_failures: int, lockout: int, max_lockout: int) -> None:
    with pytest.raises(ValueError, match=r"max_failures|lockout"):
        throttle_policy(max_failures, lockout=lockout, max_lockout=max_lockout)


def test_retry_after_is_never_zero() -> None:
    assert Throttled(0).retry_after == 1


def test_a_known_device_is_counted_against_the_account_alone(
    throttle: LoginThrottle, store: MemoryThrottleStore, clock: ManualClock
) -> None:
    """Shared addresses (issue 17, defect 3): a locked address does not refuse an attempt
    from a device the account signed in on, and that attempt does not count against it."""
    for n in range(50):  # the address is locked by failures on other accounts
        fail(throttle, throttle.keys(nik_index=bytes([n]) * 32, address=ADDRESS), clock)
    with pytest.raises(Throttled):
        throttle.reserve(throttle.keys(nik_index=NIK_INDEX, address=ADDRESS), now=clock())
    known = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS, known_device=True)
    assert known.address is None and known.account is not None
    address_row = store.rows[throttle.address_key(ADDRESS)]
    throttle.reserve(known, now=clock())
    throttle.succeeded(known, now=clock())
    assert store.rows[throttle.address_key(ADDRESS)] == address_row
    # The account's own limit still holds for a known device.
    fail(throttle, known, clock, 5)
    with pytest.raises(Throttled):
        throttle.reserve(known, now=clock())


def test_a_lock_seen_once_is_refused_without_the_store(
    throttle: LoginThrottle, store: MemoryThrottleStore, clock: ManualClock
) -> None:
    keys = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    fail(throttle, keys, clock, 5)  # the fifth failure locks the account
    store.transaction = None  # type: ignore[assignment, method-assign]  # any use would fail
    clock.advance(59)
    with pytest.raises(Throttled) as refused:
        throttle.reserve(keys, now=clock())
    assert refused.value.retry_after == 1


def test_a_cancelled_reservation_is_given_back(
    throttle: LoginThrottle, store: MemoryThrottleStore, clock: ManualClock
) -> None:
    keys = throttle.keys(nik_index=NIK_INDEX, address=ADDRESS)
    for _ in range(20):
        throttle.reserve(keys, now=clock())
        throttle.cancelled(keys, now=clock())
    assert keys.account is not None and keys.address is not None
    assert store.rows[keys.account].failures == store.rows[keys.address].failures == 0
