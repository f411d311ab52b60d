"""A bounded pool of its own for password and client-secret hashing (argon2id).

One argon2id verification with Jati's default parameters (RFC 9106 §4, ``t=3``, ``p=4``,
64 MiB) takes about 0.1 s and 1.4 cores. Run through ``asyncio.to_thread`` it would share
the event loop's default executor (a handful of threads) with every other blocking call:
16 connections sending wrong client secrets kept all of them busy hashing, and
``/authorize``, whose database work waits for one of those threads, went from 7 ms to about
a second (issue 17). Hashes therefore run here, and nowhere else:

- at most ``threads`` hashes at a time per worker process (``JATI_HASHING_THREADS``,
  default 1: one hash already spreads its four lanes over the cores), each holding its
  64 MiB only while it runs;
- at most ``queue`` more waiting (``JATI_HASHING_QUEUE``, default 16); one more is refused
  at once with :class:`~identity.errors.Overloaded` (503 with ``Retry-After``) rather than
  queued without bound;
- on Linux the pool's threads run at a lower CPU priority (``nice`` +10, inherited by the
  threads argon2 starts for its lanes), so that when the cores are contended the event loop
  and the database threads of every other route run first and hashing takes what is left.
  Idle cores still go to hashing: an unloaded login is not slower.

The throttles (:mod:`identity.login.throttle`, :mod:`identity.oidc.client_throttle`) decide how many
hashes an unauthenticated caller may ask for; this pool bounds how many run at all, whatever
the number of callers: per worker, ``threads`` hashes in flight and ``threads + queue``
admitted.

Danger: a job refused here is refused *after* the caller's throttle reservation; callers
give it back (``cancelled``), since no hash was computed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from identity.errors import Overloaded

__all__ = ["DEFAULT_QUEUE", "DEFAULT_THREADS", "HASHING_NICE", "HashingPool"]

log = logging.getLogger(__name__)

DEFAULT_THREADS = 1
DEFAULT_QUEUE = 16
#: Added to the hashing threads' nice value on Linux (lower priority; never raised back).
HASHING_NICE = 10
#: Seconds a caller refused for a full pool is told to wait (RFC 9110 §10.2.3).
RETRY_AFTER = 1

P = ParamSpec("P")
T = TypeVar("T")


class HashingPool:
    """``threads`` worker threads and at most ``queue`` waiting jobs (see the module docstring).

    Args:
        threads: hashes run at the same time (at least 1).
        queue: jobs admitted beyond those running; 0 refuses any job while all threads work.
        nice: added to the threads' nice value on Linux (0 leaves it unchanged).
    """

    def __init__(
        self,
        *,
        threads: int = DEFAULT_THREADS,
        queue: int = DEFAULT_QUEUE,
        nice: int = HASHING_NICE,
    ) -> None:
        if threads < 1:
            raise ValueError("the hashing pool needs at least one thread")
        if queue < 0:
            raise ValueError("the hashing queue bound cannot be negative")
        self.threads = threads
        self.queue = queue
        self._nice = nice
        self._admitted = 0
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="jati-hashing", initializer=self._lower_priority
        )

    def __repr__(self) -> str:
        return f"HashingPool(threads={self.threads}, queue={self.queue})"

    @property
    def capacity(self) -> int:
        """Jobs admitted at once: running plus waiting."""
        return self.threads + self.queue

    @property
    def admitted(self) -> int:
        """Jobs running or waiting now."""
        return self._admitted

    async def run(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)`` on a hashing thread, awaited from the event loop.

        Raises:
            Overloaded: ``capacity`` jobs are already admitted; nothing was run.
        """
        with self._lock:
            if self._admitted >= self.capacity:
                log.warning("hashing pool full (%d admitted): request refused", self._admitted)
                raise Overloaded(RETRY_AFTER)
            self._admitted += 1
        try:
            future = self._executor.submit(function, *args, **kwargs)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(lambda _job: self._release())
        # A cancelled caller (the client went away) cancels a job still waiting; a running
        # one finishes, and its slot is given back when it does.
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        """Stop accepting jobs; waiting ones are dropped, running ones finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _release(self) -> None:
        with self._lock:
            self._admitted -= 1

    def _lower_priority(self) -> None:
        """Runs in each new hashing thread. Linux keeps a nice value per thread (setpriority(2),
        "a per-thread attribute"), so ``PRIO_PROCESS`` with the thread's id changes this
        thread alone, and threads it starts inherit it. Elsewhere ``PRIO_PROCESS`` names a
        whole process: nothing is changed there."""
        if self._nice <= 0 or not sys.platform.startswith("linux"):
            return
        thread_id = threading.get_native_id()
        try:
            current = os.getpriority(os.PRIO_PROCESS, thread_id)
            os.setpriority(os.PRIO_PROCESS, thread_id, min(current + self._nice, 19))
        except OSError as exc:  # a sandbox may forbid it; hashing still works
            log.warning("cannot lower the hashing threads' priority: %s", exc)
