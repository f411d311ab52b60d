"""Security headers on every response, strict ones on HTML pages.

Plain ASGI (no ``BaseHTTPMiddleware``), outermost, so that every answer gets them, errors
included. A header a route set itself is kept (a page narrows or widens its own policy);
otherwise:

- every response: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``
  (neither the sign-in request id nor any path reaches another site), ``X-Frame-Options:
  DENY`` and a ``Content-Security-Policy`` of ``default-src 'none'; frame-ancestors 'none'``
  (an API answer is never a document to render or frame);
- HTML pages: the page policy :data:`PAGE_CSP` (CSP Level 3): nothing loads but the
  service's own style sheet and images and two scripts, the passkey helper
  ``/static/webauthn.js`` and the console's proof checker ``/static/proof.js``, each allowed
  by its SHA-256 and nothing else (CSP Level 3, "Script
  directives pre-request check": a hash-source allows an external script whose
  ``integrity`` metadata names the same hash; Chrome 59, Firefox 116, Safari 15.6; an older
  browser blocks it and the pages work without it): no ``'self'``, no inline script; it may
  fetch only from Jati (``connect-src 'self'``, the ceremony options); forms post only to
  Jati, no ``<base>``, no framing (clickjacking of the consent screen);
  ``Cross-Origin-Opener-Policy: same-origin``; and ``Cache-Control: no-store`` unless the
  page says otherwise (pages carry personal data or CSRF tokens: RFC 9111 §5.2.2.5);
- ``Strict-Transport-Security`` (RFC 6797) when the issuer is https.

The interactive API documentation (``/docs``) loads Swagger UI's scripts and keeps only
``frame-ancestors 'none'``.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "API_CSP",
    "PAGE_CSP",
    "PROOF_SCRIPT",
    "PROOF_SCRIPT_INTEGRITY",
    "WEBAUTHN_SCRIPT",
    "WEBAUTHN_SCRIPT_INTEGRITY",
    "SecurityHeadersMiddleware",
    "page_csp",
]

_STATIC = Path(__file__).resolve().parents[2] / "http" / "pages" / "static"


def _integrity(script: bytes) -> str:
    """A script's hash, as the ``integrity`` attribute (Subresource Integrity) and the CSP
    hash-source."""
    return "sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode("ascii")


#: The passkey script (served by :mod:`identity.http.pages.passkeys`), read once.
WEBAUTHN_SCRIPT = (_STATIC / "webauthn.js").read_bytes()
WEBAUTHN_SCRIPT_INTEGRITY = _integrity(WEBAUTHN_SCRIPT)
#: The console's proof checker (served by :mod:`identity.http.console.auditor`), read once.
PROOF_SCRIPT = (_STATIC / "proof.js").read_bytes()
PROOF_SCRIPT_INTEGRITY = _integrity(PROOF_SCRIPT)
PAGE_CSP = (
    f"default-src 'none'; script-src '{WEBAUTHN_SCRIPT_INTEGRITY}' '{PROOF_SCRIPT_INTEGRITY}'; "
    "connect-src 'self'; "
    "style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
DOCS_CSP = "frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect")
HSTS = b"max-age=31536000"


def page_csp(*form_targets: str) -> str:
    """:data:`PAGE_CSP` with more ``form-action`` sources.

    A form submission's redirects are checked against ``form-action`` too (CSP Level 3
    §6.4.1; Chromium enforces it): the login and consent forms end, through
    ``/authorize/resume``, at the relying app's registered redirect URI, whose origin the
    page must therefore name (an exact origin: ``scheme://host[:port]``).
    """
    extra = " ".join(t for t in form_targets if t)
    if not extra:
        return PAGE_CSP
    return PAGE_CSP.replace("form-action 'self'", f"form-action 'self' {extra}")


class SecurityHeadersMiddleware:
    """Adds the headers above to each response that lacks them."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path") in DOCS_PATHS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                content_type = next(
                    (value for name, value in headers if name.lower() == b"content-type"), b""
                )
                html = content_type.lower().startswith(b"text/html")
                wanted: list[tuple[bytes, bytes]] = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                if docs:
                    wanted.append((b"content-security-policy", DOCS_CSP.encode()))
                elif html:
                    wanted.append((b"content-security-policy", PAGE_CSP.encode()))
                else:
                    wanted.append((b"content-security-policy", API_CSP.encode()))
                if html:
                    wanted.append((b"cross-origin-opener-policy", b"same-origin"))
                    wanted.append((b"cache-control", b"no-store"))
                if self.hsts:
                    wanted.append((b"strict-transport-security", HSTS))
                headers.extend((name, value) for name, value in wanted if name not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
