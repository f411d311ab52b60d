"""The relying apps' busiest endpoints served by Starlette's plain request handler.

An endpoint that takes only the :class:`~starlette.requests.Request` and returns a
:class:`~starlette.responses.Response` gets nothing from FastAPI's request handler: no
parameter to validate, no dependency to solve, no response model. That handler still costs
tens of microseconds a request (dependency solving, its exit stack), which the token
endpoint's refresh benchmark counts. :func:`serve_plainly` keeps such a route as it is for
matching and for the OpenAPI schema, and has Starlette's ``request_response`` serve it: a
:class:`Request` built from the scope, the endpoint awaited, its response sent. Errors still
reach the app's exception handlers (they are middleware).

A route's handler is only what serves it while the route itself sits in the app's route list
(``identity.service.app._add_routes``): ``include_router`` builds its own handler for each included
route. :func:`is_served_plainly` tells whether a route still holds the handler
:func:`serve_plainly` gave it.
"""

from __future__ import annotations

import inspect

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import BaseRoute, request_response

__all__ = ["is_served_plainly", "serve_plainly"]

# The route attribute holding the handler serve_plainly installed.
_PLAIN_HANDLER = "_jati_plain_handler"


def serve_plainly(router: APIRouter, *paths: str) -> None:
    """Serve the routes of ``router`` at ``paths`` with Starlette's request handler.

    Raises:
        ValueError: a path has no route, its endpoint takes more than the request, or the
            route has dependencies (Starlette's handler would not run them).
    """
    wanted = set(paths)
    found: set[str] = set()
    for route in router.routes:  # every route at the path: one per method, or one for all
        if not isinstance(route, APIRoute) or route.path not in wanted:
            continue
        parameters = list(inspect.signature(route.endpoint).parameters.values())
        if (
            len(parameters) != 1
            or parameters[0].annotation not in (Request, "Request")
            or not inspect.iscoroutinefunction(route.endpoint)
        ):
            raise ValueError(f"{route.path}: only an async endpoint(request) can be served plainly")
        if route.dependant.dependencies:
            raise ValueError(f"{route.path}: a route with dependencies cannot be served plainly")
        route.app = request_response(route.endpoint)
        setattr(route, _PLAIN_HANDLER, route.app)
        found.add(route.path)
    if wanted - found:
        raise ValueError(f"no route at {sorted(wanted - found)}")


def is_served_plainly(route: BaseRoute) -> bool:
    """Whether ``route`` holds the handler :func:`serve_plainly` gave it."""
    handler = getattr(route, _PLAIN_HANDLER, None)
    return handler is not None and getattr(route, "app", None) is handler
