"""The bounded hashing pool (identity/citizens/hashing_pool.py): jobs run on its own threads, at
most ``threads + queue`` are admitted, one more is refused at once, and a slot comes back when a
job ends or a waiting job's caller goes away (issue 17, defect 2)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from identity.citizens.hashing_pool import HashingPool
from identity.citizens.passwords import TEST_PROFILE, PasswordService
from identity.errors import Overloaded, Throttled

WAIT = 10  # seconds; a behaviour test waits on events, never on timing


def test_jobs_run_on_the_pools_own_threads() -> None:
    pool = HashingPool(threads=1, queue=0)

    async def main() -> str:
        return await pool.run(lambda: threading.current_thread().name)

    assert asyncio.run(main()).startswith("jati-hashing")
    pool.shutdown()


def test_one_job_more_than_threads_plus_queue_is_refused_at_once() -> None:
    pool = HashingPool(threads=1, queue=2)
    release = threading.Event()
    running = threading.Event()

    def slow_hash(n: int) -> int:
        running.set()
        assert release.wait(WAIT)
        return n

    async def main() -> tuple[list[int], Overloaded]:
        admitted = [asyncio.ensure_future(pool.run(slow_hash, n)) for n in range(3)]
        await asyncio.to_thread(running.wait, WAIT)
        assert pool.admitted == 3
        with pytest.raises(Overloaded) as refused:
            await pool.run(slow_hash, 99)  # answered while the others still wait
        release.set()
        return list(await asyncio.gather(*admitted)), refused.value

    try:
        results, refused = asyncio.run(main())
    finally:
        release.set()
    assert results == [0, 1, 2]
    assert isinstance(refused, Throttled) and refused.retry_after == 1
    assert "busy" in str(refused)
    assert pool.admitted == 0
    pool.shutdown()


def test_a_waiting_job_whose_caller_went_away_gives_its_slot_back() -> None:
    pool = HashingPool(threads=1, queue=1)
    release = threading.Event()
    running = threading.Event()
    ran: list[str] = []

    def job(name: str) -> str:
        running.set()
        ran.append(name)
        assert release.wait(WAIT)
        return name

    async def main() -> None:
        first = asyncio.ensure_future(pool.run(job, "first"))
        await asyncio.to_thread(running.wait, WAIT)
        waiting = asyncio.ensure_future(pool.run(job, "waiting"))
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        assert pool.admitted == 1  # the cancelled job left the queue
        release.set()
        assert await first == "first"

    try:
        asyncio.run(main())
    finally:
        release.set()
    assert ran == ["first"]
    assert pool.admitted == 0
    pool.shutdown()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_hashing_threads_run_at_a_lower_priority_than_the_rest() -> None:
    pool = HashingPool(threads=1, queue=0, nice=5)
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    async def main() -> int:
        return await pool.run(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    assert asyncio.run(main()) == min(own + 5, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own  # caller unchanged
    pool.shutdown()


def test_password_verification_runs_on_the_given_pool() -> None:
    pool = HashingPool(threads=1, queue=0)
    service = PasswordService(profile=TEST_PROFILE, hashing=pool)
    stored = service.hash("pw")
    names: list[str] = []
    original = service.verify

    def spy(stored_hash: str | None, password: str) -> object:
        names.append(threading.current_thread().name)
        return original(stored_hash, password)

    service.verify = spy  # type: ignore[assignment]
    assert asyncio.run(service.verify_async(stored, "pw")).ok
    assert names and names[0].startswith("jati-hashing")
    pool.shutdown()


def test_bounds_are_checked() -> None:
    with pytest.raises(ValueError):
        HashingPool(threads=0)
    with pytest.raises(ValueError):
        HashingPool(queue=-1)
