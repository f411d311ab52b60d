"""The OpenAPI document (``GET /openapi.json``): FastAPI's, generated from the routes, made
true to what the service answers.

Each route declares with ``responses=`` every status it can answer, and how each looks when
it is not a problem document: a redirect's ``Location`` (:func:`redirect`), an RFC 6749
§5.2 JSON error (:func:`oauth_error`), an HTML page (:func:`html_page`). The conventions
that hold for every route are applied here, once, by :func:`install_openapi`:

- A 4xx or 5xx response declared without content is an RFC 9457 problem document
  (:mod:`identity.service.web.problems`, the one table): ``application/problem+json`` with the
  :data:`PROBLEM_SCHEMA`; a 429 problem carries ``Retry-After``.
- FastAPI documents 422 for every route with parameters or a body; Jati never answers 422:
  invalid parameters answer 400 problem documents that name them
  (:func:`identity.service.web.problems.install_problem_handlers`). The 422 goes, and a route that
  takes parameters and declared no 400 gets one.
- Unsupported methods answer 405 with an ``Allow`` header that lists every method of the
  path (:func:`identity.service.web.problems.allowed_methods`); like every framework's, that
  answer is not repeated on each operation.

``tests/http/test_openapi_conformance.py`` runs schemathesis against the in-process app to
keep the document and the service in step.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

from identity.service.web.problems import PROBLEM_JSON

__all__ = [
    "FORM",
    "OAUTH_ERROR_SCHEMA",
    "PROBLEM_SCHEMA",
    "Parameter",
    "form_body",
    "html_page",
    "install_openapi",
    "no_content",
    "oauth_error",
    "page_or_problem",
    "problem",
    "query_parameters",
    "redirect",
    "text_parameter",
]

FORM = "application/x-www-form-urlencoded"
_COMPONENTS = "#/components/schemas/"

#: RFC 9457 §3.1, with the members Jati adds: ``request_id`` (every problem), ``errors``
#: (invalid parameters, by location), ``error``/``error_description`` (an authorization or
#: logout request refused: the RFC 6749 code).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["location", "message"],
                "properties": {"location": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "error": {"type": "string"},
        "error_description": {"type": ["string", "null"]},
    },
}

#: RFC 6749 §5.2 (token, revocation, introspection, userinfo's RFC 6750 §3, and OpenID for
#: Verifiable Credential Issuance 1.0 §8.3.1.2).
OAUTH_ERROR_SCHEMA: dict[str, Any] = {
    "title": "OAuthError",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "pattern": "^[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]+$"},
        "error_description": {"type": "string"},
    },
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again (RFC 9110 §10.2.3)",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
_LOCATION = {
    "Location": {
        "description": "where the browser goes next",
        "required": True,
        "schema": {"type": "string"},
    }
}


#: A parameter of a route that reads its request itself: (name, required, JSON Schema).
Parameter = tuple[str, bool, dict[str, Any]]


def text_parameter(max_length: int, description: str) -> dict[str, Any]:
    """A printable ASCII value (RFC 6749 Appendix A: VSCHAR), at most ``max_length``; empty
    is allowed, and means the parameter was not sent (RFC 6749 §3.1)."""
    return {
        "type": "string",
        "pattern": "^[\\x20-\\x7e]*$",
        "maxLength": max_length,
        "description": description,
    }


def query_parameters(spec: tuple[Parameter, ...]) -> list[dict[str, Any]]:
    """``spec`` as OpenAPI query parameters (for ``openapi_extra``)."""
    return [
        {"name": name, "in": "query", "required": required, "schema": schema}
        for name, required, schema in spec
    ]


def form_body(spec: tuple[Parameter, ...], *, required: bool = True) -> dict[str, Any]:
    """``spec`` as an ``application/x-www-form-urlencoded`` request body."""
    schema = {
        "type": "object",
        "properties": {name: schema for name, _required, schema in spec},
        "required": [name for name, needed, _schema in spec if needed],
    }
    return {"required": required, "content": {FORM: {"schema": schema}}}


def problem(description: str) -> dict[str, Any]:
    """A problem document (the content is added by :func:`install_openapi`)."""
    return {"description": description}


def oauth_error(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    """An RFC 6749 §5.2 JSON error answer (``application/json``)."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _COMPONENTS + "OAuthError"}}},
    }
    if retry_after:
        response["headers"] = dict(_RETRY_AFTER)
    return response


def redirect(description: str) -> dict[str, Any]:
    """A redirect (302, 303) with its ``Location``."""
    return {"description": description, "headers": dict(_LOCATION)}


def html_page(description: str) -> dict[str, Any]:
    """An HTML page (the citizen's browser is the caller)."""
    return {
        "description": description,
        "content": {"text/html": {"schema": {"type": "string"}}},
    }


def page_or_problem(description: str) -> dict[str, Any]:
    """An HTML page, or a problem document when the request is refused before the page
    (:mod:`identity.service.web.input_guard`)."""
    return {
        "description": description,
        "content": {
            "text/html": {"schema": {"type": "string"}},
            PROBLEM_JSON: {"schema": {"$ref": _COMPONENTS + "Problem"}},
        },
    }


def no_content(description: str) -> dict[str, Any]:
    """An answer with an empty body and no media type (the route's ``response_class`` is
    :class:`~starlette.responses.Response`)."""
    return {"description": description}


def install_openapi(
    app: FastAPI, *, pages: Mapping[str, Mapping[str, dict[str, Any]]] | None = None
) -> None:
    """Serve FastAPI's document with the conventions above applied (see the module text).

    ``pages``: path -> method -> operation, for the few pages (hidden from the document
    like every page) that share a path with an API operation, so that the document lists
    every method the path answers.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = FastAPI.openapi(app)  # generates, and caches on the app
            for path, operations in (pages or {}).items():
                document["paths"].setdefault(path, {}).update(copy.deepcopy(operations))
            _apply_conventions(document)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _apply_conventions(document: dict[str, Any]) -> None:
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["OAuthError"] = OAUTH_ERROR_SCHEMA
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            _apply_to_operation(operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _apply_to_operation(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation["responses"]
    if responses.pop("422", None) is not None and "400" not in responses:
        responses["400"] = problem("invalid parameters, each named in errors")
    for status, response in responses.items():
        if not status.isdigit() or int(status) < 400 or "content" in response:
            continue
        response["content"] = {PROBLEM_JSON: {"schema": {"$ref": _COMPONENTS + "Problem"}}}
        if status == "429":  # Throttled always says when to come back
            response.setdefault("headers", dict(_RETRY_AFTER))
    operation["responses"] = dict(sorted(responses.items()))
