"""One worker per host for a background job: an exclusive ``flock`` on a file in the data
directory, taken without waiting and held until released or until the process ends.

The audit sequencer runs in every worker, and the database elects one per run (a row lock
with SKIP LOCKED), which stays the rule across hosts. On one host, the workers taking turns
would each reload the tree's frontier the other one moved and each sign checkpoints on its
own schedule; with this lock one worker of the host sequences and the others stand by. The
kernel drops the lock when its holder exits, however it exits, so a standing-by worker takes
over on its next try.

The holder also writes a short status line into the file (``ok``, or what went wrong), so
that the workers standing by report the same readiness as the one that runs the job.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

__all__ = ["HostLock"]

_MAX_STATUS = 512


class HostLock:
    """An exclusive, non-blocking lock on ``path`` (created if missing, mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if no other holder has it (another process, or another
        :class:`HostLock` on the same file in this process); never waits."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def write_status(self, status: str) -> None:
        """Replace the status line (holder only)."""
        if self._fd is None:
            raise RuntimeError("only the holder of the lock writes its status")
        data = status.encode()[:_MAX_STATUS]
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def read_status(self) -> str:
        """The holder's last status line; empty when none was written or the file is
        missing."""
        try:
            with self.path.open("rb") as file:
                return file.read(_MAX_STATUS).decode(errors="replace")
        except FileNotFoundError:
            return ""
