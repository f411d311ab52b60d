"""When to delete expired rows (codes, refresh tokens, sessions, answered requests, replay
caches) on the hot paths.

Deleting on every write would scan for garbage on every token request. Instead about one
write in ``ONE_IN`` also deletes what has expired. Nothing expired is ever honoured in the
meantime: every read checks the expiry itself.
"""

from __future__ import annotations

import secrets

ONE_IN = 64


def purge_due() -> bool:
    """True for about one call in ``ONE_IN``."""
    return secrets.randbelow(ONE_IN) == 0
