"""What the OpenID Provider's browser-facing endpoints share: ``/authorize``
(:mod:`identity.http.authorize`) and ``/end_session`` (:mod:`identity.http.end_session`).

- Their parameters come in the query (GET) or as a form (POST) (OIDC Core §3.1.2.1,
  RP-Initiated Logout 1.0 §2): :func:`request_parameters`, and :func:`add_get_and_post`
  declares the two operations.
- Every outcome the browser follows is a 303 (RFC 9110 §15.4.4), ``no-store`` and
  ``Referrer-Policy: no-referrer``: :func:`see_other`.
- An error that must not be sent to any redirect URI (RFC 6749 §4.1.2.1) is shown to the
  user as a problem document carrying the RFC code: :func:`authorization_problem`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from identity.errors import AuthorizationError
from identity.oidc.authorization_response import Redirect
from identity.service.web.input_guard import form_is_clean
from identity.service.web.oauth_responses import NO_STORE, oauth_problem_response
from identity.service.web.openapi import Parameter, form_body, query_parameters

__all__ = ["add_get_and_post", "authorization_problem", "request_parameters", "see_other"]

_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def see_other(redirect: Redirect) -> RedirectResponse:
    return RedirectResponse(
        redirect.location,
        status_code=303,
        headers={**NO_STORE, "Referrer-Policy": "no-referrer"},
    )


def authorization_problem(exc: AuthorizationError) -> Response:
    """An error that must not be sent to any redirect URI (RFC 6749 §4.1.2.1): shown to the
    user as a problem document carrying the RFC code."""
    return oauth_problem_response(
        "Invalid authorization request", exc.error, exc.description, headers=NO_STORE
    )


async def request_parameters(request: Request) -> list[tuple[str, str]]:
    """The request's parameters: the query for GET, the form body for POST (OIDC Core
    §3.1.2.1); files are not parameters. A query holding a NUL never gets here
    (:mod:`identity.service.web.input_guard`); a form holding one is refused alike. A POST
    without a body has no parameters.

    Raises:
        AuthorizationError: ``invalid_request``, not redirected: a parameter holds a NUL,
            or the body is not a form.
    """
    if request.method == "POST":
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type not in _FORM_TYPES:
            if await request.body():  # a body the endpoint cannot read is not "no parameters"
                raise AuthorizationError(
                    "invalid_request",
                    "send the parameters as a form (application/x-www-form-urlencoded)",
                    redirectable=False,
                )
            return []
        form = await request.form()
        if not form_is_clean(form):
            raise AuthorizationError(
                "invalid_request", "a parameter holds a NUL character", redirectable=False
            )
        return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return list(request.query_params.multi_items())


def add_get_and_post(
    router: APIRouter,
    path: str,
    endpoint: Callable[..., Any],
    *,
    summary: str,
    form_summary: str,
    responses: dict[int | str, dict[str, Any]],
    parameters: tuple[Parameter, ...],
    status_code: int | None = None,
    form_required: bool = True,
) -> None:
    """One endpoint that takes its parameters in the query (GET) or as a form (POST), as two
    documented operations (``<name>_get``, ``<name>_post``) with the same answers."""
    name = endpoint.__name__
    common: dict[str, Any] = {"response_class": Response, "responses": responses}
    if status_code is not None:
        common["status_code"] = status_code
    router.add_api_route(
        path, endpoint, methods=["GET"], operation_id=f"{name}_get", summary=summary,
        openapi_extra={"parameters": query_parameters(parameters)}, **common,
    )  # fmt: skip
    router.add_api_route(
        path, endpoint, methods=["POST"], operation_id=f"{name}_post", summary=form_summary,
        openapi_extra={"requestBody": form_body(parameters, required=form_required)},
        **common,
    )  # fmt: skip
