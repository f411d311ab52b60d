"""Cross-site request forgery protection for the pages' forms.

Every form POST of a page (login, second factor, consent, withdrawal, requests, second
factor enrolment, logout) carries a token that only a page Jati served to this browser can
hold. The "signed double-submit cookie" pattern (OWASP CSRF Prevention Cheat Sheet):

- the browser holds a random 256-bit value in the ``jati_csrf`` cookie: ``HttpOnly`` (no
  script reads it), ``SameSite=Strict`` (never sent on a request another site starts),
  ``Secure`` under https, ``Path=/``, for the browser session;
- each form carries, in a hidden field, ``HMAC-SHA-256(key, value)`` where the key is derived
  from the master key (HKDF, :mod:`identity.keys.derived_keys`): a page of another site can
  neither read the cookie nor compute the field, and a cookie an attacker plants (on a
  sibling subdomain, say) is useless without the matching HMAC, which needs the key;
- the server recomputes the HMAC of the cookie it receives and compares it with the field
  in constant time (:mod:`identity.keys.form_tokens`).

A POST without a cookie, without the field, or with a mismatch is refused with 403 and a page
that says so; the handler changes nothing. The session cookie is ``SameSite=Lax`` besides,
so a cross-site POST does not even carry the session.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from identity.keys.form_tokens import FormTokens

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "CsrfProtection"]

CSRF_COOKIE = "jati_csrf"
CSRF_FIELD = "csrf_token"
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")


class CsrfProtection:
    """Issues and checks the pages' CSRF tokens (``app.state.csrf``).

    Args:
        master_key: the service master key (the HMAC key is derived from it).
        secure: set the cookie's ``Secure`` attribute (the issuer is https).
    """

    __slots__ = ("_tokens", "secure")

    def __init__(self, master_key: bytes, *, secure: bool) -> None:
        self._tokens = FormTokens(master_key)
        self.secure = secure

    def __repr__(self) -> str:
        return "CsrfProtection(<key hidden>)"

    def form_token(self, cookie_value: str) -> str:
        """The hidden field's value for a cookie value."""
        return self._tokens.token(cookie_value)

    def issue(self, request: Request) -> tuple[str, str | None]:
        """(form token, new cookie value or None): the browser's current cookie is reused
        when it is well-formed, so several open tabs keep working."""
        current = request.cookies.get(CSRF_COOKIE)
        if current and _COOKIE_VALUE.fullmatch(current):
            return self.form_token(current), None
        fresh = self._tokens.new_value()
        return self.form_token(fresh), fresh

    def set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            CSRF_COOKIE,
            value,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def verify(self, request: Request, submitted: object) -> bool:
        """True when ``submitted`` (the form field) is the HMAC of the request's cookie."""
        cookie = request.cookies.get(CSRF_COOKIE)
        if not cookie or not _COOKIE_VALUE.fullmatch(cookie):
            return False
        if not isinstance(submitted, str) or len(submitted) > 128:
            return False
        return self._tokens.matches(cookie, submitted)
