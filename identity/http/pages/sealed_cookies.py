"""Short-lived cookies that carry a login step's state sealed, so that nothing is stored for
it on the server: the pending second factor (``jati_login``) and the activation ticket
(``jati_activate``).

The value is AES-256-GCM (:class:`identity.keys.sealing.GcmSealer`) over compact JSON, under
a key derived from the master key for each cookie and with its own associated data, so a
value is confidential (the citizen id inside is never visible to the browser), tamper-evident,
and never accepted as the other cookie. Each value carries its own expiry (``e``), checked on
every open, besides the cookie's ``Max-Age``. The cookies are ``HttpOnly``, ``SameSite=Strict``,
``Secure`` when the issuer is https, and limited to the path of their step.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from starlette.responses import Response

from identity.keys.sealing import GcmSealer

__all__ = ["SealedCookie"]

#: Longest value opened (ours are about 200 characters).
MAX_SEALED_COOKIE_CHARS = 512


class SealedCookie:
    """One sealed cookie: its name, path and lifetime, and the key it is sealed under."""

    __slots__ = ("_sealer", "clock", "lifetime", "name", "path", "secure")
    #: The longest value :meth:`open_fields` opens.
    max_chars = MAX_SEALED_COOKIE_CHARS

    def __init__(
        self,
        master_key: bytes,
        *,
        key_label: bytes,
        associated_data: bytes,
        name: str,
        path: str,
        lifetime: timedelta,
        clock: Callable[[], datetime],
        secure: bool,
    ) -> None:
        self._sealer = GcmSealer(master_key, key_label, associated_data)
        self.name = name
        self.path = path
        self.lifetime = lifetime
        self.clock = clock
        self.secure = secure

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<key hidden>)"

    def seal_fields(self, fields: Mapping[str, Any]) -> str:
        """``fields`` sealed, with the expiry ``e`` (now + lifetime) added."""
        body = {**fields, "e": (self.clock() + self.lifetime).timestamp()}
        return self._sealer.seal(json.dumps(body, separators=(",", ":")).encode())

    def open_fields(self, value: str | None) -> dict[str, Any] | None:
        """The sealed fields, or None: absent, too long, altered, not a JSON object, or past
        the expiry sealed in it."""
        if not value or len(value) > self.max_chars:
            return None
        plaintext = self._sealer.open(value)
        if plaintext is None:
            return None
        try:
            fields = json.loads(plaintext)
            fresh = self.clock().timestamp() < float(fields["e"])
        except (ValueError, KeyError, TypeError):
            return None
        return fields if isinstance(fields, dict) and fresh else None

    def set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            self.name,
            value,
            max_age=int(self.lifetime.total_seconds()),
            path=self.path,
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            self.name, path=self.path, secure=self.secure, httponly=True, samesite="strict"
        )
