"""One table mapping every package's errors to RFC 9457 ``application/problem+json``.

Routes raise domain errors; this module alone decides the status code and the public text.
Credential failures are answered opaquely; details that could carry personal data never
reach the response (RFC 9457 §5: "details ... may expose information").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match

from audit import errors as audit_errors
from consent import errors as consent_errors
from identity import errors as identity_errors
from identity.service.logging_setup import request_id_var

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://jati.example/problems/"

#: Exception class -> (HTTP status, title). The most specific class wins (MRO order).
ERROR_TABLE: dict[type[Exception], tuple[int, str]] = {
    audit_errors.InvalidRequest: (400, "Invalid audit request"),
    audit_errors.InvalidEntry: (400, "Invalid audit entry"),
    audit_errors.ProofError: (400, "Invalid proof"),
    audit_errors.NoteError: (400, "Invalid signed note"),
    audit_errors.InconsistentLog: (409, "Inconsistent log"),
    audit_errors.LogCorrupted: (500, "Audit log integrity failure"),
    audit_errors.AuditError: (500, "Audit error"),
    consent_errors.ConsentRequired: (403, "Consent required"),
    consent_errors.ConsentWithdrawn: (403, "Consent withdrawn"),
    consent_errors.GrantNotFound: (404, "Not found"),
    consent_errors.NoticeChanged: (409, "Notice changed"),
    consent_errors.InvalidConsent: (400, "Consent refused"),
    consent_errors.InvalidPurpose: (400, "Invalid purpose"),
    consent_errors.InvalidNotice: (400, "Invalid notice"),
    consent_errors.InvalidSubjectRequest: (400, "Invalid data-subject request"),
    consent_errors.RequestNotFound: (404, "Not found"),
    consent_errors.SubjectNotFound: (404, "Not found"),
    consent_errors.SubjectErased: (410, "Gone"),
    consent_errors.ConsentError: (400, "Consent error"),
    identity_errors.InvalidInput: (400, "Invalid input"),
    identity_errors.Unauthorized: (401, "Unauthorized"),
    identity_errors.InsufficientScope: (403, "Insufficient scope"),
    identity_errors.NotFound: (404, "Not found"),
    identity_errors.Conflict: (409, "Conflict"),
    identity_errors.Gone: (410, "Gone"),
    identity_errors.Overloaded: (503, "Service busy"),  # the hashing pool is full
    identity_errors.Throttled: (429, "Too many attempts"),
    identity_errors.OAuthError: (400, "Invalid OAuth request"),  # routes answer RFC form first
    identity_errors.ConfigurationError: (500, "Service misconfigured"),
    identity_errors.IdentityError: (500, "Identity error"),
}

#: Statuses whose exception text is safe and useful to show the caller.
_SHOW_DETAIL = frozenset({400, 401, 403, 404, 409, 410, 429, 503})


def lookup(exc: Exception) -> tuple[int, str] | None:
    for cls in type(exc).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    return None


#: A location element echoed as sent: the schema's own names, never free text.
_DECLARED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _location(error: Mapping[str, Any]) -> str:
    """Where a validation error is, as ``body.kind``: list indexes and the schema's names as
    they are; a member the schema does not declare (``extra_forbidden``), or any element
    that is not a plain name, as ``<member>`` (SECURITY.md T5)."""
    parts = list(error.get("loc", ()))
    if error.get("type") == "extra_forbidden" and parts:
        parts[-1] = "<member>"
    return ".".join(
        str(p) if isinstance(p, int) or _DECLARED_NAME.fullmatch(str(p)) else "<member>"
        for p in parts
    )


def problem_response(
    status: int,
    title: str,
    *,
    code: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


#: The methods a 405's ``Allow`` may list (RFC 9110 §9).
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: What a probe for POST claims to send: the pages' POST routes take forms only
#: (:class:`identity.http.pages.login.FormPostRoute`), and any POST route takes a form.
_FORM_HEADERS = [(b"content-type", b"application/x-www-form-urlencoded")]


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at the request's path (RFC 9110 §15.5.6:
    a 405 lists "the target resource's currently supported methods").

    Starlette's 405 names the methods of the first route whose path matched, but one path
    can have several routes (``/me/requests``: GET and POST; ``/login``: the page's GET,
    its form POST and the API's JSON POST), so each method is tried against them all.
    """
    routes = request.app.router.routes
    allowed = []
    for method in _METHODS:
        probe = {**request.scope, "method": method, "headers": _FORM_HEADERS}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
        status, title = lookup(exc) or (500, "Internal error")
        code = getattr(exc, "code", "internal_error")
        if status >= 500 and not isinstance(exc, identity_errors.Overloaded):
            log.error("request failed: %s (%s)", type(exc).__name__, code)
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        if isinstance(exc, identity_errors.InsufficientScope):  # RFC 6750 §3
            headers = {
                "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{exc.scope}"'
            }
        if isinstance(exc, identity_errors.Throttled):  # RFC 6585 §4, RFC 9110 §10.2.3
            headers = {"Retry-After": str(exc.retry_after)}
        return problem_response(
            status,
            title,
            code=code,
            detail=str(exc) if status in _SHOW_DETAIL else None,
            headers=headers,
        )

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # Name the offending parameters, never echo their values, nor a name the client
        # made up (an unknown JSON member could be a NIK or an email address).
        errors = [{"location": _location(err), "message": err.get("msg")} for err in exc.errors()]
        return problem_response(
            400,
            "Invalid request",
            code="invalid_request",
            detail="; ".join(f"{e['location']}: {e['message']}" for e in errors),
            extra={"errors": errors},
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:  # the route that answered knows only its own methods
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(
            exc.status_code,
            str(exc.detail) if exc.detail else "Error",
            code=f"http_{exc.status_code}",
            headers=headers or None,
        )

    for cls in ERROR_TABLE:
        app.add_exception_handler(cls, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
