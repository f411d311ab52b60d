"""Routes served by Starlette's plain request handler (identity.service.web.plain_routes): the plain
handler really serves them once added to an app the way Jati adds its routes, they answer as
before, stay in the OpenAPI schema, and their errors still reach the app's exception
handlers; only endpoints taking the request alone, with no dependencies, qualify."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.responses import JSONResponse, Response
from starlette.routing import request_response
from starlette.types import ASGIApp

from identity.service.app import _add_routes, create_app
from identity.service.settings import Settings
from identity.service.web import plain_routes
from identity.service.web.plain_routes import is_served_plainly, serve_plainly

RELYING_APP_PATHS = {"/token", "/userinfo", "/revoke", "/introspect"}


def _router() -> APIRouter:
    router = APIRouter()

    @router.post("/plain", summary="Served plainly")
    async def plain(request: Request) -> JSONResponse:
        form = await request.form()
        if form.get("fail"):
            raise HTTPException(status_code=418, detail="refused")
        return JSONResponse({"echo": form.get("x")}, headers={"Cache-Control": "no-store"})

    @router.get("/typed")
    async def typed(request: Request, n: int) -> JSONResponse:
        return JSONResponse({"n": n})

    def guard() -> None:
        raise HTTPException(status_code=403)

    @router.get("/guarded", dependencies=[Depends(guard)])
    async def guarded(request: Request) -> JSONResponse:
        return JSONResponse({})

    return router


def _app(router: APIRouter) -> FastAPI:
    """The app as Jati builds it: the router's routes in the app's own route list."""
    app = FastAPI()
    _add_routes(app, router)
    return app


def _route(router: APIRouter, path: str) -> APIRoute:
    (route,) = (r for r in router.routes if isinstance(r, APIRoute) and r.path == path)
    return route


def test_a_route_served_plainly_is_served_by_the_plain_handler_and_answers_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def spying_request_response(endpoint: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
        async def spy(request: Request) -> Response:
            calls.append(request.url.path)  # the endpoint, called by the plain handler
            return await endpoint(request)

        return request_response(spy)

    monkeypatch.setattr(plain_routes, "request_response", spying_request_response)
    router = _router()
    serve_plainly(router, "/plain")
    app = _app(router)
    assert is_served_plainly(_route(router, "/plain"))
    assert not is_served_plainly(_route(router, "/typed"))
    client = TestClient(app)

    response = client.post("/plain", data={"x": "1"})
    assert calls == ["/plain"]  # the plain handler served the request
    assert response.status_code == 200 and response.json() == {"echo": "1"}
    assert response.headers["cache-control"] == "no-store"
    assert client.post("/plain", data={"fail": "1"}).status_code == 418  # handlers still apply
    assert len(calls) == 2
    assert client.get("/plain").status_code == 405
    assert app.openapi()["paths"]["/plain"]["post"]["summary"] == "Served plainly"


def test_only_endpoints_taking_the_request_alone_are_served_plainly() -> None:
    router = _router()
    with pytest.raises(ValueError, match="only an async endpoint"):
        serve_plainly(router, "/typed")  # FastAPI must validate its query parameter
    with pytest.raises(ValueError, match="dependencies"):
        serve_plainly(router, "/guarded")  # Starlette's handler would skip the guard
    with pytest.raises(ValueError, match="no route"):
        serve_plainly(router, "/nowhere")
    assert not any(is_served_plainly(route) for route in router.routes)


def test_the_relying_apps_endpoints_are_served_plainly_in_jatis_app(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(), run_background=False)
    plain = {
        route.path
        for route in app.router.routes
        if isinstance(route, APIRoute) and is_served_plainly(route)
    }
    assert plain == RELYING_APP_PATHS
