"""Password hashing with argon2id (RFC 9106) through argon2-cffi's named profiles.

- ``PROFILES`` names the parameter sets: ``rfc9106-low-memory`` (RFC 9106 §4, second
  recommended option: t=3, m=64 MiB, p=4) is the default; ``rfc9106-high-memory`` (2 GiB) for
  dedicated hosts; ``test-only-cheapest`` exists for the test suite and is refused in
  production.
- :meth:`PasswordService.verify` answers in the same time for an unknown account as for a
  known one (it checks against a dummy hash), and says when a stored hash was made with other
  parameters so that the caller stores a new one (``check_needs_rehash``).
- ``verify_async`` runs the hash on the bounded hashing pool
  (:mod:`identity.citizens.hashing_pool`): an argon2 hash takes tens of milliseconds and must never
  block the event loop, nor the threads every other route's blocking work waits for.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from identity.citizens.hashing_pool import HashingPool
from identity.errors import ConfigurationError

PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106-high-memory": profiles.RFC_9106_HIGH_MEMORY,
    "test-only-cheapest": profiles.CHEAPEST,
}
DEFAULT_PROFILE = "rfc9106-low-memory"
TEST_PROFILE = "test-only-cheapest"
MAX_PASSWORD_BYTES = 1024  # argon2 accepts more; nobody's password is longer


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    new_hash: str | None = None  # set when the stored hash should be replaced


class PasswordService:
    """argon2id hashing and constant-shape verification.

    Args:
        profile: a name from :data:`PROFILES`.
        production: refuse the test-only profile.
        hashing: where :meth:`verify_async` runs hashes; by default a pool of this service's
            own, created at the first use (one application shares one pool between citizens'
            passwords and client secrets: ``identity.service.app``).
    """

    def __init__(
        self,
        *,
        profile: str = DEFAULT_PROFILE,
        production: bool = False,
        hashing: HashingPool | None = None,
    ) -> None:
        if profile not in PROFILES:
            choices = ", ".join(PROFILES)
            raise ConfigurationError([f"unknown password profile {profile!r}; use {choices}"])
        if production and profile == TEST_PROFILE:
            raise ConfigurationError(["the test-only password profile is refused in production"])
        self.profile = profile
        self._hashing = hashing
        self._hasher = PasswordHasher.from_parameters(PROFILES[profile])
        self._dummy = self._hasher.hash("jati dummy password for unknown accounts")

    def hash(self, password: str) -> str:
        _check_length(password)
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> Verification:
        """Check ``password`` against ``stored_hash`` (None for an unknown account, which is
        checked against a dummy hash so that both take the same time and both fail)."""
        if len(password.encode()) > MAX_PASSWORD_BYTES:
            self._spend_time(password[:64])
            return Verification(False)
        if stored_hash is None:
            self._spend_time(password)
            return Verification(False)
        try:
            self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return Verification(False)
        if self._hasher.check_needs_rehash(stored_hash):
            return Verification(True, self._hasher.hash(password))
        return Verification(True)

    @property
    def hashing(self) -> HashingPool:
        """The pool :meth:`verify_async` runs on."""
        if self._hashing is None:
            self._hashing = HashingPool()
        return self._hashing

    async def hash_async(self, password: str) -> str:
        """:meth:`hash` on the hashing pool (a password a citizen sets, off the event loop).

        Raises:
            Overloaded: the pool is full; nothing was hashed.
        """
        return await self.hashing.run(self.hash, password)

    async def verify_async(self, stored_hash: str | None, password: str) -> Verification:
        """:meth:`verify` on the hashing pool.

        Raises:
            Overloaded: the pool is full; nothing was verified.
        """
        return await self.hashing.run(self.verify, stored_hash, password)

    def _spend_time(self, password: str) -> None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            self._hasher.verify(self._dummy, password)


def _check_length(password: str) -> None:
    if not password:
        raise ValueError("a password cannot be empty")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(f"a password is at most {MAX_PASSWORD_BYTES} bytes")
