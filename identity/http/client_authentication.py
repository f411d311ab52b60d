"""What the OAuth back-channel endpoints share: ``/token`` (:mod:`identity.http.token`),
``/revoke`` (:mod:`identity.http.revocation`) and ``/introspect``
(:mod:`identity.http.introspection`).

- The client authenticates (RFC 6749 §2.3) with the method it registered:
  ``client_secret_basic``, ``client_secret_post`` or ``private_key_jwt`` (RFC 7523),
  checked by :mod:`identity.oidc.client_auth` (:func:`authenticated_client`); the form
  declares exactly one way (:func:`client_authenticated_body`).
- The body is an ``application/x-www-form-urlencoded`` form, each parameter once
  (:func:`client_form`).
- Errors are RFC 6749 §5.2 JSON (:func:`token_error`): ``invalid_client`` with 401 and
  ``WWW-Authenticate: Basic``. A secret check refused before its hash answers
  ``temporarily_unavailable`` with ``Retry-After``: 429 when the client id or the address is
  throttled (:mod:`identity.oidc.client_throttle`), 503 when the hashing pool is full
  (:mod:`identity.citizens.hashing_pool`) (:data:`CLIENT_AUTHENTICATION_ERRORS`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.responses import JSONResponse

from identity.errors import TemporarilyUnavailable, TokenError
from identity.http.login import client_address
from identity.oidc.client_auth import ClientAuthenticator
from identity.oidc.clients import RelyingApp
from identity.oidc.token_endpoint import single_values
from identity.service.web.input_guard import form_is_clean, urlencoded_holds_nul
from identity.service.web.oauth_responses import NO_STORE, oauth_error_response
from identity.service.web.openapi import FORM, Parameter, form_body, oauth_error, text_parameter
from identity.service.web.state import services

__all__ = [
    "CLIENT_AUTHENTICATION",
    "CLIENT_AUTHENTICATION_ERRORS",
    "authenticated_client",
    "client_authenticated_body",
    "client_form",
    "token_error",
]


def token_error(exc: TokenError) -> JSONResponse:
    """RFC 6749 §5.2: JSON ``error`` and ``error_description``; ``invalid_client`` as 401
    with the authentication scheme Jati supports."""
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="jati"'
    if isinstance(exc, TemporarilyUnavailable):  # RFC 6585 §4 / RFC 9110 §15.6.4, §10.2.3
        headers["Retry-After"] = str(exc.retry_after)
    return oauth_error_response(exc.error, exc.description, status=exc.status, headers=headers)


_URLENCODED = "application/x-www-form-urlencoded"
#: As many parameters as Starlette's form parser accepts.
_MAX_FORM_FIELDS = 1000
_NUL_PARAMETER = "a parameter holds a NUL character"


async def client_form(request: Request) -> dict[str, str]:
    """The ``application/x-www-form-urlencoded`` body (RFC 6749 §3.2), each parameter once.

    That media type is parsed here directly (as Starlette's form parser does: ``+`` is a
    space, percent-escapes are UTF-8), the token endpoint being the busiest route; any
    other body goes through Starlette's parser, as before. A body holding a NUL is refused
    (no Jati value holds one, and PostgreSQL text cannot:
    :mod:`identity.service.web.input_guard`).

    Raises:
        TokenError: ``invalid_request``: too many parameters, or one holds a NUL.
    """
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == _URLENCODED:
        body = await request.body()
        if urlencoded_holds_nul(body):
            raise TokenError("invalid_request", _NUL_PARAMETER)
        try:
            pairs = parse_qsl(
                body.decode("latin-1"), keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS
            )
        except ValueError:
            raise TokenError("invalid_request", "too many parameters") from None
        return single_values(pairs)
    form = await request.form()
    if not form_is_clean(form):
        raise TokenError("invalid_request", _NUL_PARAMETER)
    return single_values([(k, v) for k, v in form.multi_items() if isinstance(v, str)])


async def authenticated_client(request: Request, form: dict[str, str], path: str) -> RelyingApp:
    """The client that sent the request to the endpoint at ``path``, authenticated."""
    authenticator: ClientAuthenticator = services(request).client_authenticator
    issuer: str = services(request).issuer
    return await authenticator.authenticate(
        request.headers.get("authorization"),
        form,
        endpoint=issuer + path,
        address=client_address(request),
    )


#: How a client authenticates in the body (RFC 6749 §2.3.1 ``client_secret_post``, RFC 7523
#: §2.2 ``private_key_jwt``); ``client_secret_basic`` uses the Authorization header instead.
CLIENT_AUTHENTICATION: tuple[Parameter, ...] = (
    ("client_id", False, text_parameter(128, "client_secret_post, private_key_jwt")),
    ("client_secret", False, text_parameter(256, "client_secret_post")),
    (
        "client_assertion_type",
        False,
        {"type": "string", "enum": ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]},
    ),
    (
        "client_assertion",
        False,
        text_parameter(8192, "private_key_jwt: a signed JWT (RFC 7523 §3)"),
    ),
)


def _none_of(*names: str) -> dict[str, Any]:
    return {"not": {"anyOf": [{"required": [name]} for name in names]}}


#: RFC 6749 §2.3: exactly one way to authenticate: Basic (nothing in the body),
#: ``client_secret_post``, or ``private_key_jwt``; more than one is ``invalid_request``.
_ONE_METHOD: list[dict[str, Any]] = [
    _none_of("client_secret", "client_assertion", "client_assertion_type"),
    {"required": ["client_secret"], **_none_of("client_assertion", "client_assertion_type")},
    {
        "anyOf": [{"required": ["client_assertion"]}, {"required": ["client_assertion_type"]}],
        **_none_of("client_secret"),
    },
]


def client_authenticated_body(spec: tuple[Parameter, ...]) -> dict[str, Any]:
    """The form of a back-channel endpoint: ``spec`` and the client's authentication."""
    body = form_body((*spec, *CLIENT_AUTHENTICATION))
    body["content"][FORM]["schema"]["oneOf"] = _ONE_METHOD
    return body


#: What the OAuth back-channel endpoints answer to a client they could not authenticate,
#: and before trying (RFC 6749 §5.2; RFC 6585 §4).
CLIENT_AUTHENTICATION_ERRORS: dict[int | str, dict[str, Any]] = {
    401: oauth_error(
        "invalid_client: the client is unknown or its authentication failed, one opaque "
        "answer (WWW-Authenticate: Basic)"
    ),
    429: oauth_error(
        "temporarily_unavailable: too many failed authentications of this client id or "
        "from this address; nothing was checked",
        retry_after=True,
    ),
    503: oauth_error(
        "temporarily_unavailable: the hashing pool is full; nothing was checked",
        retry_after=True,
    ),
}
