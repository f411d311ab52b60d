"""Every console route against every wrong visitor (issue 20, "Role tests ... Try each"):
without a console session, and with a citizen's session, each answers 401; signed in with
another role, 403. The routes are read from the app itself, so a new console route fails
here until it says which roles it serves."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.console_helpers import OPERATOR, activate, sign_in
from tests.oidc_helpers import OidcWorld
from tests.pages_helpers import csrf_of, submit_login

OPERATOR_ROUTES = {
    "/console/status", "/console/apps", "/console/apps/{client_id}",
    "/console/apps/{client_id}/redirect-uris", "/console/apps/{client_id}/disable",
    "/console/apps/{client_id}/enable", "/console/apps/{client_id}/rotate-secret",
    "/console/apps/{client_id}/purposes", "/console/apps/{client_id}/notice",
    "/console/apps/{client_id}/notice/changes/{version}", "/console/keys",
    "/console/keys/rotate",
}  # fmt: skip
AUDITOR_ROUTES = {
    "/console/search", "/console/entry/{leaf_index}", "/console/log-integrity",
    "/console/charts",
}  # fmt: skip
DPO_ROUTES = {
    "/console/requests", "/console/requests/{request_id}/complete",
    "/console/requests/{request_id}/lift",
}  # fmt: skip
#: Which roles each route serves.
ROLES: dict[str, set[str]] = {
    **{path: {"operator"} for path in OPERATOR_ROUTES},
    **{path: {"auditor"} for path in AUDITOR_ROUTES},
    **{path: {"dpo"} for path in DPO_ROUTES},
    "/console/breach": {"dpo", "auditor"},
}
#: Open to anyone (signing in and out) or to every role (the home page).
OPEN = {"/console", "/console/activate", "/console/activate/setup", "/console/login",
        "/console/logout"}  # fmt: skip


def _routes(world: OidcWorld) -> list[tuple[str, str]]:
    return sorted(
        (route.path, method)
        for route in world.app.routes
        if isinstance(route, APIRoute) and route.path.startswith("/console")
        for method in route.methods
        if method != "HEAD"
    )


def _url(path: str, rp: Any) -> str:
    return (path.replace("{client_id}", rp.client_id).replace("{leaf_index}", "0")
            .replace("{version}", "1").replace("{request_id}", "a" * 26))  # fmt: skip


def _answer(world: OidcWorld, method: str, url: str) -> int:
    if method == "GET":
        return world.client.get(url, follow_redirects=False).status_code
    token = csrf_of(world.client.get("/console/login").text)
    data = {"csrf_token": token, "code": "000000", "action": "preview"}
    return world.client.post(url, data=data, follow_redirects=False).status_code


def test_every_console_route_says_which_roles_it_serves(world: OidcWorld) -> None:
    paths = {path for path, _method in _routes(world)}
    assert paths - set(ROLES) - OPEN == set()
    assert set(ROLES) - paths == set()  # and the table names no route that is gone


def test_every_console_route_refuses_no_session_and_a_citizens(world: OidcWorld, rp: Any) -> None:
    guarded = [(p, m) for p, m in _routes(world) if p in ROLES]
    for path, method in guarded:
        assert _answer(world, method, _url(path, rp)) == 401, (method, path)
    assert submit_login(world).status_code == 303  # a citizen's session is not a console one
    for path, method in guarded:
        assert _answer(world, method, _url(path, rp)) == 401, (method, path)


@pytest.mark.parametrize("role", ["operator", "dpo", "auditor"])
def test_every_console_route_refuses_another_role(world: OidcWorld, rp: Any, role: str) -> None:
    apps = (rp.client_id,) if role == "dpo" else ()
    member, code = world.app.state.services.staff.add(
        name="Staf", email=f"{role}@kominfo.example.go.id", role=role, apps=apps, actor=OPERATOR
    )
    assert sign_in(world, member.email, activate(world, member.email, code)).status_code == 303
    for path, method in _routes(world):
        if path in ROLES and role not in ROLES[path]:
            assert _answer(world, method, _url(path, rp)) == 403, (role, method, path)
    assert world.app.state.services.clients.get(rp.client_id).active  # nothing was done
