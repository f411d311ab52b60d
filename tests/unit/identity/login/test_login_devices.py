"""Device proofs (identity/login/devices.py): bound to one account, unforgeable, expiring,
a handful per browser, and garbage is simply not recognised (issue 17, defect 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from identity.login.devices import DEVICE_LIFETIME, MAX_ACCOUNTS, KnownDevices
from tests.conftest import ManualClock

KEY = bytes(range(64, 96))
SITI = b"\x11" * 32  # NIK blind indexes
BUDI = b"\x22" * 32


@pytest.fixture
def devices() -> KnownDevices:
    return KnownDevices(key=KEY)


def test_a_proof_is_worth_something_only_for_its_account(
    devices: KnownDevices, clock: ManualClock
) -> None:
    cookie = devices.remember(None, SITI, now=clock())
    assert devices.recognises(cookie, SITI, now=clock())
    assert not devices.recognises(cookie, BUDI, now=clock())
    assert not KnownDevices(key=b"k" * 32).recognises(cookie, SITI, now=clock())  # keyed
    assert SITI.hex() not in cookie and "11111111" not in cookie


def test_a_proof_expires(devices: KnownDevices, clock: ManualClock) -> None:
    cookie = devices.remember(None, SITI, now=clock())
    clock.advance(DEVICE_LIFETIME.total_seconds() - 1)
    assert devices.recognises(cookie, SITI, now=clock())
    clock.advance(2)
    assert not devices.recognises(cookie, SITI, now=clock())


def test_a_tampered_proof_is_not_recognised(devices: KnownDevices, clock: ManualClock) -> None:
    cookie = devices.remember(None, SITI, now=clock())
    flipped = cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    assert not devices.recognises(flipped, SITI, now=clock())


@pytest.mark.parametrize(
    "cookie", ["", "x", "." * 10, "a" * 5000, "é" * 32, "!" * 32, "A" * 32, None]
)
def test_garbage_is_not_recognised(
    devices: KnownDevices, clock: ManualClock, cookie: str | None
) -> None:
    assert not devices.recognises(cookie, SITI, now=clock())
    renewed = devices.remember(cookie, SITI, now=clock())
    assert devices.recognises(renewed, SITI, now=clock())


def test_a_shared_device_keeps_the_latest_accounts(
    devices: KnownDevices, clock: ManualClock
) -> None:
    accounts = [bytes([n]) * 32 for n in range(MAX_ACCOUNTS + 1)]
    cookie: str | None = None
    for account in accounts:
        cookie = devices.remember(cookie, account, now=clock())
        clock.advance(1)
    assert not devices.recognises(cookie, accounts[0], now=clock())  # the oldest dropped
    assert all(devices.recognises(cookie, a, now=clock()) for a in accounts[1:])
    # Signing in again renews that account's proof without a duplicate.
    cookie = devices.remember(cookie, accounts[2], now=clock() + timedelta(days=1))
    assert cookie.count(".") == MAX_ACCOUNTS - 1
