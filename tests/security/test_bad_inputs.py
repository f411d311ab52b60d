"""Issue 17 defect 4, "four inputs answer 500": values that no column can hold, refused at the
door with the endpoint's own 4xx (an RFC 9457 problem document; RFC 6749 §5.2 JSON at the
OAuth endpoints), recording nothing (every table's row count is unchanged).

1. A lone surrogate (JSON's ``"\\ud800"``) in a correction: it has no UTF-8 form, so the
   sealed write failed after the request was recorded, which then stayed ``received``.
2. A paging cursor past the signed 64-bit range: OverflowError on SQLite, "bigint out of
   range" on PostgreSQL.
3. Basic credentials that are not base64 of UTF-8 ``id:secret`` with well-formed
   percent-escapes (RFC 7617, RFC 6749 §2.3.1): ``invalid_client`` (401, ``WWW-Authenticate:
   Basic``), never 500.
4. A NUL in a path or query parameter: PostgreSQL text cannot hold one. A path with a NUL
   names no resource (404, as a malformed id); a query with one is malformed (400).

Then the same classes on every route the app serves (listed from ``create_app``, the pages'
nested routers included). Run on SQLite and, with ``JATI_TEST_DATABASE_URL``, on PostgreSQL
(where the NUL cases failed).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route

from consent.requests.records import RequestOutcome, RequestStatus
from identity.service.web.problems import PROBLEM_JSON, PROBLEM_TYPE_BASE
from identity.storage.database import Database
from tests.helpers import row_counts
from tests.oidc_helpers import ISSUER, OidcWorld, RelyingApp

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
OAUTH_ENDPOINTS = ("/token", "/introspect", "/revoke")


def citizen_token(world: OidcWorld) -> dict[str, str]:
    token = world.app.state.services.token_issuer.citizen_api_token(
        client_id="kota-app", subject_id=world.citizen_id, scope=["me"], auth_time=None
    ).token
    return {"Authorization": f"Bearer {token}"}


def auditor_token(world: OidcWorld) -> dict[str, str]:
    auditor = world.register_auditor()
    token = world.app.state.services.token_issuer.access_token(
        client_id=auditor.client_id, scope=["audit:read"], audience=ISSUER
    ).token
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith(PROBLEM_TYPE_BASE) and problem["title"]
    return problem


def assert_oauth_error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == JSON
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == error
    if status == 401:  # RFC 6749 §5.2: the scheme the client used
        assert response.headers["www-authenticate"].startswith("Basic")


# ---------------------------------------------------------------- 1. lone surrogates


@pytest.mark.parametrize("field", ["name", "address"])
def test_a_lone_surrogate_in_a_correction_is_refused_and_records_nothing(
    world: OidcWorld, database: Database, field: str
) -> None:
    before = row_counts(database)
    body = b'{"kind":"correction","fields":{"%s":"Siti\\ud800"}}' % field.encode()
    response = world.client.post(
        "/me/requests", content=body, headers={**citizen_token(world), "content-type": JSON}
    )
    problem = assert_problem(response, 400)
    assert problem["type"] == PROBLEM_TYPE_BASE + "invalid_subject_request"
    assert "Siti" not in response.text  # named, never echoed
    assert row_counts(database) == before
    assert world.app.state.services.subject_requests.requests_of(world.citizen_id) == []


def test_a_correction_that_fails_after_it_was_recorded_is_not_left_received(
    world: OidcWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever slips past validation, the request is closed: its values are not kept, so a
    # correction left "received" could never be carried out.
    def broken(*args: object, **kwargs: object) -> tuple[str, ...]:
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(world.app.state.services.citizens, "correct", broken)
    response = world.client.post(
        "/me/requests",
        json={"kind": "correction", "fields": {"name": "Siti Rahayu Baru"}},
        headers=citizen_token(world),
    )
    assert_problem(response, 500)
    (request,) = world.app.state.services.subject_requests.requests_of(world.citizen_id)
    assert request.status is RequestStatus.REFUSED
    assert request.outcome == RequestOutcome("refused", reason="internal_error")


# ---------------------------------------------------------------- 2. integers out of range


@pytest.mark.parametrize("after", [str(INT64_MAX + 1), str(10**21)])
def test_an_access_log_cursor_past_64_bits_is_refused(
    world: OidcWorld, database: Database, after: str
) -> None:
    before = row_counts(database)
    response = world.client.get(f"/me/access-log?after={after}", headers=citizen_token(world))
    problem = assert_problem(response, 400)
    assert [e["location"] for e in problem["errors"]] == ["query.after"]
    assert row_counts(database) == before


def test_every_integer_parameter_is_bounded_to_64_bits(world: OidcWorld) -> None:
    unbounded = []
    for path, operations in world.app.openapi()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", ()):
                schema = parameter.get("schema", {})
                if schema.get("type") != "integer":
                    continue
                low = schema.get("minimum", INT64_MIN - 1)
                high = schema.get("maximum", INT64_MAX + 1)
                if not INT64_MIN <= low <= high <= INT64_MAX:
                    unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    assert unbounded == []


# ---------------------------------------------------------------- 3. Basic credentials

#: Authorization header values (bytes as sent), each malformed in its own way.
BAD_BASIC = {
    "latin-1 bytes": b"Basic \xe9\xe9",
    "base64 of non-UTF-8": b"Basic " + base64.b64encode(b"\xff\xfe:\xff"),
    "bad percent-escape": b"Basic " + base64.b64encode(b"%ff%fe:%c3"),
    "escaped surrogate": b"Basic " + base64.b64encode(b"%ED%A0%80:secret"),
    "escaped NUL": b"Basic " + base64.b64encode(b"app%00x:secret"),
}


@pytest.mark.parametrize("endpoint", OAUTH_ENDPOINTS)
@pytest.mark.parametrize("header", list(BAD_BASIC.values()), ids=list(BAD_BASIC))
def test_malformed_basic_credentials_are_invalid_client(
    world: OidcWorld, database: Database, endpoint: str, header: bytes
) -> None:
    before = row_counts(database)
    response = world.client.post(
        endpoint,
        data={"grant_type": "client_credentials", "token": "x"},
        headers={"Authorization": header},
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert row_counts(database) == before


def test_a_known_client_with_a_badly_escaped_secret_is_invalid_client(
    world: OidcWorld, rp: RelyingApp, database: Database
) -> None:
    before = row_counts(database)
    for secret in (b"%ff", b"%00"):
        header = b"Basic " + base64.b64encode(rp.client_id.encode() + b":" + secret)
        for endpoint in OAUTH_ENDPOINTS:
            response = world.client.post(
                endpoint, data={"token": "x", "grant_type": "client_credentials"},
                headers={"Authorization": header},
            )  # fmt: skip
            assert_oauth_error(response, 401, "invalid_client")
    assert row_counts(database) == before


@pytest.mark.parametrize("endpoint", OAUTH_ENDPOINTS)
def test_a_nul_in_an_oauth_form_is_invalid_request(
    world: OidcWorld, rp: RelyingApp, database: Database, endpoint: str
) -> None:
    before = row_counts(database)
    for body in (b"token=a%00b&grant_type=refresh_token&refresh_token=a%00b", b"token=a\x00b"):
        response = world.client.post(
            endpoint, content=body, headers={**rp.basic(), "content-type": FORM}
        )
        assert_oauth_error(response, 400, "invalid_request")
    response = world.client.post(endpoint, files={"token": (None, b"a\x00b")}, headers=rp.basic())
    assert_oauth_error(response, 400, "invalid_request")
    assert row_counts(database) == before


def test_a_repeated_made_up_parameter_is_not_named_back(
    world: OidcWorld, rp: RelyingApp, database: Database
) -> None:
    """T5: a name the client made up could be a NIK or an email address."""
    before = row_counts(database)
    body = b"grant_type=refresh_token&siti%40contoh.go.id=1&siti%40contoh.go.id=2"
    response = world.client.post(
        "/token", content=body, headers={**rp.basic(), "content-type": FORM}
    )
    assert_oauth_error(response, 400, "invalid_request")
    assert "siti" not in response.text
    repeated = b"grant_type=refresh_token&grant_type=refresh_token"
    response = world.client.post(
        "/token", content=repeated, headers={**rp.basic(), "content-type": FORM}
    )
    assert "grant_type" in response.json()["error_description"]  # a known name still is
    assert row_counts(database) == before


# ---------------------------------------------------------------- 4. NUL in paths and queries


@pytest.mark.parametrize("parameter", ["actor", "purpose", "subject_id"])
def test_a_nul_in_an_audit_query_is_refused_and_not_recorded(
    world: OidcWorld, database: Database, parameter: str
) -> None:
    headers = auditor_token(world)
    assert world.client.get(f"/audit/events?{parameter}=ab", headers=headers).status_code == 200
    before = row_counts(database)  # an answered query is recorded: the refused one is not
    response = world.client.get(f"/audit/events?{parameter}=a%00b", headers=headers)
    problem = assert_problem(response, 400)
    assert problem["error"] == "invalid_request"
    assert row_counts(database) == before


@pytest.mark.parametrize(
    ("method", "template"),
    [("GET", "/me/consents/{}/receipt"), ("POST", "/me/consents/{}/withdraw")],
)
def test_a_nul_in_a_consent_id_answers_as_a_malformed_id(
    world: OidcWorld, rp: RelyingApp, database: Database, method: str, template: str
) -> None:
    world.consent(rp)
    headers = citizen_token(world)
    malformed = world.client.request(method, template.format("not-a-grant"), headers=headers)
    before = row_counts(database)
    response = world.client.request(method, template.format("a%00b"), headers=headers)
    problem = assert_problem(response, malformed.status_code)
    assert malformed.status_code == 404
    assert problem["title"] == malformed.json()["title"]
    assert row_counts(database) == before


# ---------------------------------------------------------------- every route


def every_route(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route the app serves, nested routers included."""
    found: list[tuple[str, str]] = []

    def walk(routes: Iterable[Any]) -> None:
        for route in routes:
            nested = getattr(route, "original_router", None)  # FastAPI's included router
            if nested is not None:
                walk(nested.routes)
            elif isinstance(route, APIRoute | Route):
                found.extend((m, route.path) for m in sorted(route.methods or ()) if m != "HEAD")

    walk(app.router.routes)
    return found


def _signed_in(world: OidcWorld) -> dict[str, str]:
    """A session for the pages and a citizen token for the API: every handler would run."""
    world.login()
    return citizen_token(world)


def test_the_route_list_includes_the_pages_and_every_api(world: OidcWorld) -> None:
    paths = {path for _, path in every_route(world.app)}
    assert {
        "/token",
        "/me/consents/{grant_id}/receipt",
        "/audit/events",
        "/account/consents/{grant_id}/withdraw",
        "/account/credentials/{credential_id}/revoke",
        "/notices/{client_id}/{version}",
        "/statuslists/{list_id}",
        "/login",
    } <= paths


def test_a_nul_in_any_path_parameter_answers_404_and_records_nothing(
    world: OidcWorld, database: Database
) -> None:
    headers = _signed_in(world)
    before = row_counts(database)
    checked = []
    for method, template in every_route(world.app):
        if "{" not in template:
            continue
        path = re.sub(r"\{[^}]+\}", "a%00b", template)
        response = world.client.request(method, path, headers=headers, follow_redirects=False)
        assert_problem(response, 404)
        checked.append(template)
    assert len(checked) >= 6
    assert row_counts(database) == before


def test_a_nul_in_any_query_is_refused_in_the_routes_own_format(
    world: OidcWorld, database: Database
) -> None:
    headers = _signed_in(world)
    before = row_counts(database)
    for method, template in every_route(world.app):
        path = re.sub(r"\{[^}]+\}", "abc", template)
        response = world.client.request(
            method, path + "?lang=id&q=a%00b", headers=headers, follow_redirects=False
        )
        if template in OAUTH_ENDPOINTS:
            assert_oauth_error(response, 400, "invalid_request")
        else:
            assert assert_problem(response, 400)["error"] == "invalid_request"
    assert row_counts(database) == before
