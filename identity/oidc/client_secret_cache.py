"""Client secrets verified a moment ago, so that an app's every token request does not cost
a database read and an argon2id verification (RFC 6749 §2.3.1, ``client_secret_basic`` and
``client_secret_post`` alike; an entry answers only the method its app registered).

What a worker keeps, per client id: HMAC-SHA-256 of the secret that was verified, under a
key drawn at random when the process starts (never the secret itself, nothing that outlives
the process), the app read with it, and until when the entry counts.

Bounds (``SECURITY.md`` T15a):

- an entry counts for ``ttl`` seconds (:data:`SECRET_CACHE_TTL`, 60) from the argon2
  verification that made it, never extended by use: a secret rotated away in the database
  (or an app removed) keeps working in a worker that verified it for at most that long, on
  every worker and every host alike (each bound independently, no shared state);
- only a successful verification makes an entry. A wrong secret, an unknown client, an app
  registered for another method: each still costs the database read and one argon2
  verification, as before
  (:meth:`identity.oidc.client_registry.ClientRegistry.authenticate_secret`), and is counted
  per client id and per address by :mod:`identity.oidc.client_throttle`; only whoever
  presents the right secret can get the fast answer, so its speed tells an attacker
  nothing. The cache is read before the throttle: an app answered from it costs no
  database round trip;
- the presented secret's HMAC is compared in constant time; a failure never evicts an entry
  (a stranger cannot make the real app pay argon2 again and again).

Danger: a copy of the process memory holds the key and the HMACs (a weak operator-chosen
secret could then be guessed at HMAC speed rather than argon2 speed); it also holds the
master key and every secret in flight, so this adds nothing to what such a copy reveals.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["SECRET_CACHE_TTL", "VerifiedSecrets"]

#: Seconds a verified secret is answered from memory (and so the longest a secret rotated
#: away keeps working in a worker that verified it just before).
SECRET_CACHE_TTL = 60.0

App = TypeVar("App")


class VerifiedSecrets(Generic[App]):
    """Per client id: the HMAC of the secret last verified, its app, and its deadline.

    Args:
        ttl: seconds an entry counts from its verification; 0 turns the cache off.
        max_entries: the cache is emptied when it would grow past this (one entry per app).
        monotonic: the clock deadlines are read from (injectable for tests).
    """

    def __init__(
        self,
        *,
        ttl: float = SECRET_CACHE_TTL,
        max_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._key = secrets.token_bytes(32)
        self._entries: dict[str, tuple[bytes, App, float]] = {}
        self._lock = threading.Lock()

    def _digest(self, client_id: str, secret: str) -> bytes:
        message = client_id.encode() + b"\x00" + secret.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def app_for(self, client_id: str, secret: str) -> App | None:
        """The app whose secret this is, if it was verified less than ``ttl`` seconds ago;
        None otherwise (the caller then reads the database and runs argon2)."""
        entry = self._entries.get(client_id)
        if entry is None:
            return None
        digest, app, deadline = entry
        if self._monotonic() >= deadline:
            return None
        if not hmac.compare_digest(digest, self._digest(client_id, secret)):
            return None
        return app

    def remember(self, client_id: str, secret: str, app: App) -> None:
        """Record a secret that argon2 has just verified for ``client_id``."""
        if self.ttl <= 0:
            return
        entry = (self._digest(client_id, secret), app, self._monotonic() + self.ttl)
        with self._lock:
            if len(self._entries) >= self._max_entries and client_id not in self._entries:
                self._entries.clear()
            self._entries[client_id] = entry

    def forget(self, client_id: str) -> None:
        """Drop what is known of ``client_id`` (its secret or its registration changed)."""
        with self._lock:
            self._entries.pop(client_id, None)
