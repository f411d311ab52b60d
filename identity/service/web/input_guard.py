"""Text that no store can hold is refused at the door: NUL and lone surrogates.

PostgreSQL ``text`` cannot hold U+0000 (the driver fails with "PostgreSQL text fields
cannot contain NUL (0x00) bytes"), and a lone surrogate (U+D800-U+DFFF, which JSON's
``"\\ud800"`` escape yields) is no Unicode scalar value: it cannot be encoded as UTF-8 at
all, so sealing, hashing or storing it fails. Either used to surface deep inside a request
as a 500, sometimes after part of the request was recorded. Neither is ever part of a
valid Jati value, so both are refused before any handler runs:

- :class:`InputGuardMiddleware` checks every request's path and query string. A path
  holding either names no resource: 404, as a malformed id does. A query string holding a
  NUL (``%00``) is a malformed request: 400. The OAuth back-channel endpoints answer RFC 6749
  §5.2 JSON (``invalid_request``), every other route a problem document (RFC 9457).
- Bodies are checked where they are parsed: :func:`urlencoded_holds_nul` on a raw
  ``application/x-www-form-urlencoded`` body (the token endpoint's), :func:`form_is_clean`
  on a parsed form, and the cores' own validators on JSON values (a pydantic ``str`` field
  already refuses lone surrogates; a value typed ``Any`` is checked by the core that takes
  it, e.g. :func:`identity.citizens.fields.validated_correction`).

A query string and a form body decode percent-escapes as UTF-8 with replacement (Starlette,
:func:`urllib.parse.parse_qsl`), so a NUL is the only unstorable character they can carry;
a path comes percent-decoded from the server, and is checked for both. The checks are
substring scans, cheap enough for the token endpoint's refresh path.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from identity.service.web.oauth_responses import (
    NO_STORE,
    oauth_error_response,
    oauth_problem_response,
)
from identity.service.web.problems import problem_response

__all__ = [
    "InputGuardMiddleware",
    "form_is_clean",
    "is_clean_text",
    "urlencoded_holds_nul",
]

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def is_clean_text(value: str) -> bool:
    """``value`` holds neither a NUL nor a lone surrogate (it can be stored as UTF-8 text)."""
    return "\x00" not in value and (value.isascii() or _LONE_SURROGATE.search(value) is None)


def urlencoded_holds_nul(data: bytes) -> bool:
    """A query string or form body (``application/x-www-form-urlencoded``) that decodes to
    a NUL somewhere: ``%00``, or the raw byte."""
    return b"%00" in data or b"\x00" in data


def form_is_clean(form: FormData) -> bool:
    """Every field name and text value of a parsed form is clean text (files are not
    looked at: no handler stores one)."""
    return all(
        is_clean_text(name) and (not isinstance(value, str) or is_clean_text(value))
        for name, value in form.multi_items()
    )


class InputGuardMiddleware:
    """Refuses a request whose path or query string holds text no store can hold, before
    routing (see the module docstring).

    Args:
        app: the application.
        oauth_paths: endpoints whose errors are RFC 6749 §5.2 JSON (token, revocation,
            introspection); every other route answers a problem document.
    """

    def __init__(self, app: ASGIApp, *, oauth_paths: Collection[str] = ()) -> None:
        self.app = app
        self.oauth_paths = frozenset(oauth_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> Response | None:
        path: str = scope["path"]
        query: bytes = scope.get("query_string", b"")
        if not is_clean_text(path):
            return problem_response(
                404,
                "Not found",
                code="not_found",
                detail="no resource has this path",
                headers=NO_STORE,
            )
        if query and urlencoded_holds_nul(query):
            description = "a query parameter holds a NUL character"
            if path in self.oauth_paths:
                return oauth_error_response("invalid_request", description, headers=NO_STORE)
            # The members /authorize and /end_session give their own refusals.
            return oauth_problem_response(
                "Invalid request", "invalid_request", description, headers=NO_STORE
            )
        return None
