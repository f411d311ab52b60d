"""Service-wide ASGI middleware: request id, metrics, request log, baseline headers.

Written as plain ASGI (no ``BaseHTTPMiddleware``) because it wraps every request, the
health probes included.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from identity.service.logging_setup import request_id_var
from identity.service.redaction import redact
from identity.service.web import metrics
from identity.service.web.problems import problem_response

log = logging.getLogger("jati.request")

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{8,64}")
#: Probes and scrapes are counted in metrics but not logged line by line.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_BASELINE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


class ObservabilityMiddleware:
    """Gives every response an ``X-Request-ID`` (the caller's, when well-formed, else new),
    counts it by route template, and logs one line per request without path or query."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or secrets.token_hex(16)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        header_value = request_id.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((REQUEST_ID_HEADER, header_value))
                headers.extend(_BASELINE_HEADERS)
                message["headers"] = headers
            await send(message)

        started_response = False

        async def send_tracked(message: Message) -> None:
            nonlocal started_response
            started_response = started_response or message["type"] == "http.response.start"
            await send_with_id(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            # Answered here, inside the request id's scope, rather than by Starlette's
            # outermost error middleware, so that a 500 also carries the id and headers.
            if started_response:
                raise
            log.error("unhandled %s", type(exc).__name__, exc_info=exc)
            response = problem_response(500, "Internal error", code="internal_error")
            await response(scope, receive, send_tracked)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope.get("method", "GET")
            metrics.observe(method, route, status, elapsed)
            if route not in QUIET_ROUTES and log.isEnabledFor(logging.INFO):
                log.info(
                    "%s %s %d",
                    method,
                    route,
                    status,
                    extra={
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1e3, 2),
                    },
                )
            request_id_var.reset(token)


def _incoming_request_id(scope: Scope) -> str | None:
    """The caller's id if it is well-formed and carries nothing that looks personal (a NIK
    or phone number would otherwise reach every log line of the request)."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            if not _VALID_REQUEST_ID.fullmatch(value):
                return None
            text = value.decode()
            return text if redact(text) == text else None
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else metrics.UNMATCHED_ROUTE
