"""``POST /login``: a citizen's NIK and password, checked under throttling.

This is the credential check alone, as JSON. The OpenID Connect issue builds the login page
on it: an HTML form with CSRF protection, and the session cookie that the authorization
endpoint reads (OIDC Core §3.1.2.3); until then, a successful answer creates no session.

- 200 ``{"authenticated": true, "auth_time": <seconds since the epoch>, "amr": ["pwd"]}``
  (``auth_time`` as in OIDC Core §2, ``amr`` values from RFC 8176 §2).
- 401 for an unknown NIK, a wrong password or an erased citizen alike (one opaque answer).
- 429 with ``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3) when the account or the client
  address has too many recent failures; no password is hashed for such an attempt.
- 400 for a malformed body, naming the fields, never echoing a NIK or a password.

The argon2 hash and the database work run in worker threads, never on the event loop.
Responses carry ``Cache-Control: no-store`` (RFC 9111 §5.2.2.5).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from identity.citizens import CitizenService
from identity.http.problems import PROBLEM_JSON
from identity.passwords import MAX_PASSWORD_BYTES

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


def _problem(description: str) -> dict[str, object]:
    return {"description": description, "content": {PROBLEM_JSON: {}}}


def client_address(request: Request) -> str:
    """The address throttled per client: the peer as the server sees it (behind a trusted
    proxy, uvicorn's ``--forwarded-allow-ips`` makes this the forwarded client address)."""
    return request.client.host if request.client else "unknown"


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={
        400: _problem("malformed request"),
        401: _problem("the NIK or the password is wrong"),
        429: _problem("too many failed attempts; see Retry-After"),
    },
)
async def login(body: LoginRequest, request: Request, response: Response) -> LoginResponse:
    """Check a citizen's NIK and password (see the module docstring)."""
    service: CitizenService = request.app.state.citizens
    result = await service.authenticate_async(
        body.nik, body.password, address=client_address(request)
    )
    response.headers["Cache-Control"] = "no-store"
    return LoginResponse(auth_time=int(result.auth_time.timestamp()), amr=list(result.amr))
