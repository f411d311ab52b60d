"""``POST /login``: a citizen's NIK and password, checked under throttling.

This is the credential check alone, as JSON. The OpenID Connect issue builds the login page
on it: an HTML form with CSRF protection, and the session cookie that the authorization
endpoint reads (OIDC Core §3.1.2.3); until then, a successful answer creates no session.

- 200 ``{"authenticated": true, "auth_time": <seconds since the epoch>, "amr": ["pwd"]}``
  (``auth_time`` as in OIDC Core §2, ``amr`` values from RFC 8176 §2).
- 401 for an unknown NIK, a wrong password or an erased citizen alike (one opaque answer).
- 401 with the problem type ``.../second_factor_required`` for a right password of a citizen
  who has a second factor (:mod:`identity.login.totp`; issue 17): the password alone is not an
  authentication, so no ``auth_time`` and no ``amr`` are given; the login page asks for
  the code. It tells only the holder of the right password what the login page's second
  step tells them too.
- 429 with ``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3) when the account or the client
  address has too many recent failures; no password is hashed for such an attempt. A
  success sets the device cookie (:mod:`identity.login.devices`): later attempts on that
  account from this client pass a locked address (the account's own limit still holds).
- 503 with ``Retry-After`` when the hashing pool is full (:mod:`identity.citizens.hashing_pool`).
- 400 for a malformed body, naming the fields, never echoing a NIK or a password.

The argon2 hash and the database work run in worker threads, never on the event loop.
Responses carry ``Cache-Control: no-store`` (RFC 9111 §5.2.2.5).
"""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from identity.citizens.passwords import MAX_PASSWORD_BYTES
from identity.citizens.service import CitizenService
from identity.errors import SecondFactorRequired
from identity.http.pages.csrf import CSRF_FIELD
from identity.login.devices import DEVICE_COOKIE, DEVICE_LIFETIME
from identity.login.totp import SecondFactor
from identity.service.web.openapi import FORM, html_page, page_or_problem, problem, redirect
from identity.service.web.state import services

router = APIRouter(tags=["citizens"])

#: Longest NIK field accepted (a NIK has 16 digits; some room for blanks around it).
MAX_NIK_CHARS = 32


class LoginRequest(BaseModel):
    """The credentials; neither value ever appears in a response or a log line."""

    model_config = ConfigDict(hide_input_in_errors=True)

    nik: str = Field(min_length=1, max_length=MAX_NIK_CHARS, description="the citizen's NIK")
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_BYTES, repr=False)


class LoginResponse(BaseModel):
    authenticated: Literal[True] = True
    auth_time: int = Field(description="when the citizen authenticated, seconds since the epoch")
    amr: list[str] = Field(description="authentication methods (RFC 8176), here `pwd`")


def client_address(request: Request) -> str:
    """The address throttled per client: the TCP peer, or, from a proxy named by
    ``jati serve --forwarded-allow-ips`` (``JATI_FORWARDED_ALLOW_IPS``), the client address
    it forwarded. No proxy is trusted by default (:mod:`identity.service.server`)."""
    return request.client.host if request.client else "unknown"


def set_device_cookie(response: Response, request: Request, value: str | None) -> None:
    """Set the device cookie of a successful login (:mod:`identity.login.devices`):
    ``HttpOnly``, ``SameSite=Strict``, ``Path=/login``, ``Secure`` under https."""
    if value is None:
        return
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(DEVICE_LIFETIME.total_seconds()),
        path="/login",
        secure=services(request).issuer.startswith("https://"),
        httponly=True,
        samesite="strict",
    )


#: The login page's form, which ``POST /login`` also takes (:mod:`identity.http.pages.login`
#: answers it, in HTML): the same credentials and the page's CSRF token.
_LOGIN_FORM = {
    "type": "object",
    "required": ["nik", "password", CSRF_FIELD],
    "properties": {
        "nik": {"type": "string", "maxLength": MAX_NIK_CHARS},
        "password": {"type": "string", "format": "password"},
        CSRF_FIELD: {"type": "string", "description": "the token the login page gave"},
    },
}


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={
        303: redirect("the login page's form: signed in, on to the app or the second factor"),
        400: page_or_problem(
            "a malformed request; for the form, also a wrong NIK or password (a page)"
        ),
        401: problem(
            "the NIK or the password is wrong; or (problem type second_factor_required) the "
            "citizen has a second factor, which only the login page takes"
        ),
        403: html_page("the form's CSRF token is missing or not this browser's"),
        429: page_or_problem("too many failed attempts; see Retry-After"),
        503: page_or_problem("the service is busy; see Retry-After"),
    },
    openapi_extra={"requestBody": {"content": {FORM: {"schema": _LOGIN_FORM}}}},
)
async def login(body: LoginRequest, request: Request, response: Response) -> LoginResponse:
    """Check a citizen's NIK and password (see the module docstring)."""
    service: CitizenService = services(request).citizens
    result = await service.authenticate_async(
        body.nik,
        body.password,
        address=client_address(request),
        device=request.cookies.get(DEVICE_COOKIE),
    )
    second_factor: SecondFactor = services(request).second_factor
    if await asyncio.to_thread(second_factor.is_enabled, result.citizen_id):
        raise SecondFactorRequired()
    response.headers["Cache-Control"] = "no-store"
    set_device_cookie(response, request, result.device)
    return LoginResponse(auth_time=int(result.auth_time.timestamp()), amr=list(result.amr))
