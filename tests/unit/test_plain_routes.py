"""Routes served by Starlette's plain request handler (identity.http.plain_routes): they
answer as before, stay in the OpenAPI schema, and their errors still reach the app's
exception handlers; only endpoints taking the request alone qualify."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.testclient import TestClient
from starlette.responses import JSONResponse

from identity.http import introspection, oidc
from identity.http.plain_routes import serve_plainly


def _app() -> tuple[FastAPI, APIRouter]:
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

    app = FastAPI()
    app.include_router(router)
    return app, router


def test_a_route_served_plainly_answers_as_before_and_stays_documented() -> None:
    app, router = _app()
    serve_plainly(router, "/plain")
    client = TestClient(app)
    response = client.post("/plain", data={"x": "1"})
    assert response.status_code == 200 and response.json() == {"echo": "1"}
    assert response.headers["cache-control"] == "no-store"
    assert client.post("/plain", data={"fail": "1"}).status_code == 418  # handlers still apply
    assert client.get("/plain").status_code == 405
    assert app.openapi()["paths"]["/plain"]["post"]["summary"] == "Served plainly"


def test_only_endpoints_taking_the_request_alone_are_served_plainly() -> None:
    _, router = _app()
    with pytest.raises(ValueError, match="only an async endpoint"):
        serve_plainly(router, "/typed")  # FastAPI must validate its query parameter
    with pytest.raises(ValueError, match="no route"):
        serve_plainly(router, "/nowhere")


def test_the_relying_apps_endpoints_are_served_plainly() -> None:
    plain = {
        route.path
        for r in (oidc.router, introspection.router)
        for route in r.routes
        if getattr(getattr(route, "app", None), "__module__", "") == "starlette.routing"
    }
    assert plain == {"/token", "/userinfo", "/revoke", "/introspect"}
