"""The OpenAPI document is true (issue 17, defect 10): schemathesis against the app in process.

An outside run of schemathesis found 56 conformance failures in ``/openapi.json``:
undocumented status codes, schema-valid requests refused, undocumented content types and an
``Allow`` that disagreed with the document. This test runs schemathesis's engine (the one its
command line runs: examples, coverage and fuzzing phases) against the real app, built on this
test's database like every HTTP test, so it runs on SQLite and on PostgreSQL. It is bounded
(a fixed seed, :data:`EXAMPLES` per operation, no time-based phase, about 40 s on the
2-core machine) and deterministic. Every check runs: no server error, only documented status
codes, content types and headers, responses that match their schemas, the ``Allow`` of a 405,
schema-valid requests accepted and invalid ones refused; the few exclusions
(:data:`NOT_EXPRESSIBLE`) each say why. It fails on any failure, listing each once.

Credentials are cheap here and make the run go past 401: a citizen's access token (scope
``me``) for ``/me/*``, an auditor app's own token (``audit:read``) for ``/audit/*``, its
``client_secret_post`` credentials in the forms of ``/token``, ``/introspect`` and ``/revoke``
that use that method, and a registered relying app's ``client_id`` and ``redirect_uri`` for
``/authorize`` and ``/end_session``. An erasure through ``POST /me/requests`` erases the
citizen, whose token then answers 401; a fresh citizen takes over.
"""

from __future__ import annotations

import copy
import json
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.engine import events, from_schema
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER
from schemathesis.python import asgi

from audit.entry import Actor, ActorKind
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.consent_helpers import notice_content
from tests.oidc_helpers import make_app, purposes_for

ISSUER = "http://testserver"
PASSWORD = "kata sandi rahasia"
#: Fixed: the same cases every run (the engine seeds Hypothesis with it).
SEED = 20261128
#: Examples per operation in the fuzzing phase; the coverage phase adds its own (bounded by
#: each operation's schema).
EXAMPLES = 150
REDIRECT_URI = "https://dinsos.example.go.id/callback"
SETUP = Actor(ActorKind.SYSTEM, "conformance-test")

#: Checks left out at some operations, each for a reason the schema cannot express.
NOT_EXPRESSIBLE: list[dict[str, Any]] = [
    # The sealed request is a value only Jati makes: a well-formed one is still unknown.
    {"include-path": "/authorize/resume", "disable": ["positive_data_acceptance"]},
    {"include-path": "/login", "method": "GET", "disable": ["positive_data_acceptance"]},
    # An id_token_hint must be an ID token Jati signed.
    {"include-path": "/end_session", "disable": ["positive_data_acceptance"]},
    # Whether an index or size is in range depends on the log's current size, and the order
    # of two parameters (leaf_index < tree_size, first <= second, start < end) is beyond
    # JSON Schema.
    {"include-path-regex": "^/audit/(proof|leaves)", "disable": ["positive_data_acceptance"]},
    # Which 16 digits can be a NIK (a province code, a birth date that is real and not in
    # the future) is the identity service's rule, and depends on today's date.
    {"include-path": "/audit/events", "disable": ["positive_data_acceptance"]},
    # A code or a refresh token is a value only Jati makes (the auditor's client credentials
    # get a token).
    {"include-path": "/token", "disable": ["positive_data_acceptance"]},
    # Which fields a correction may change, and what each value must look like (an email
    # address, a phone number), is the identity service's rule, checked when it is applied.
    {"include-path": "/me/requests", "method": "POST", "disable": ["positive_data_acceptance"]},
    # Outside Jati: schemathesis 4.32 also sends no body at all as negative data, though the
    # form of POST /end_session is optional (requestBody.required: false: every logout
    # parameter is optional, RP-Initiated Logout 1.0 §2) and answered like an empty form.
    {"include-path": "/end_session", "method": "POST", "disable": ["negative_data_rejection"]},
]


class Credentials:
    """What the run authenticates with; the citizen is replaced once erased."""

    def __init__(self, app: FastAPI, client_id: str) -> None:
        self.app = app
        self.client_id = client_id
        auditor = app.state.services.clients.register(
            name="BPK",
            scope="audit:read",
            grant_type="client_credentials",
            token_endpoint_auth_method="client_secret_post",
        )
        self.auditor_secret = {
            "client_id": auditor.app.client_id,
            "client_secret": auditor.client_secret,
        }
        self.erasures = 0
        self.citizen_token = self._new_citizen()
        self.auditor_token: str = app.state.services.token_issuer.access_token(
            client_id="bpk-auditor", scope=["audit:read"], audience=ISSUER
        ).token

    def _new_citizen(self) -> str:
        nik = f"317101410190{self.erasures + 1:04d}"  # 1 January 1990, a woman
        citizen_id = self.app.state.services.citizens.register(
            nik=nik,
            name="Warga Uji",
            birthdate=date(1990, 1, 1),
            email="warga@contoh.go.id",
            password=PASSWORD,
            actor=SETUP,
        )
        token: str = self.app.state.services.token_issuer.citizen_api_token(
            client_id="kota-app", subject_id=citizen_id, scope=["me"], auth_time=None
        ).token
        return token

    def body_for(self, path: str, body: Any) -> Any:
        """A form of /authorize or /end_session names the registered app; a form of a
        back-channel endpoint that authenticates with client_secret_post, the auditor."""
        if not isinstance(body, dict):
            return body
        if path in ("/token", "/introspect", "/revoke") and "client_secret" in body:
            return {**body, **self.auditor_secret}
        if path == "/authorize":
            return {**body, "client_id": self.client_id, "redirect_uri": REDIRECT_URI}
        if path == "/end_session":
            return {**body, "client_id": self.client_id}
        return body

    def headers_for(self, path: str) -> dict[str, str]:
        if path.startswith("/me/"):
            return {"Authorization": f"Bearer {self.citizen_token}"}
        if path.startswith("/audit/"):
            return {"Authorization": f"Bearer {self.auditor_token}"}
        return {}

    def after(self, path: str, method: str, body: Any, status: int) -> None:
        erased = isinstance(body, dict) and body.get("kind") == "erasure"
        if (path, method, status) == ("/me/requests", "POST", 201) and erased:
            self.erasures += 1
            self.citizen_token = self._new_citizen()


@pytest.fixture
def app(make_settings: Callable[..., Settings], database: Database) -> Iterator[FastAPI]:
    app = make_app(make_settings(), database)
    try:
        yield app
    finally:
        asgi.shutdown_lifespans()  # schemathesis started the app's lifespan


def _relying_app(app: FastAPI) -> str:
    registration = app.state.services.clients.register(
        name="Dinas Sosial", scope="openid profile email", redirect_uris=[REDIRECT_URI]
    )
    client_id: str = registration.app.client_id
    for purpose in purposes_for(client_id):
        app.state.services.consent_ledger.register_purpose(purpose)
    app.state.services.consent_ledger.publish_notice(
        client_id, notice_content(controller="Dinas Sosial")
    )
    return client_id


def _config(client_id: str, examples: int = EXAMPLES) -> schemathesis.Config:
    registered = {"client_id": client_id, "redirect_uri": REDIRECT_URI}
    operations: list[dict[str, Any]] = [
        # Parameters of a registered app, so that refusals go to its redirect URI (303).
        {
            "include-path": "/authorize",
            "parameters": registered,  # in the query; a form body gets them in before_call
            # Once the client and its redirect URI are known, an invalid request is answered
            # at the app's redirect URI (RFC 6749 §4.1.2.1), with 303.
            "checks": {"negative_data_rejection": {"expected-statuses": ["4xx", 303]}},
        },
        {"include-path": "/end_session", "parameters": {"client_id": client_id}},
    ]
    for exclusion in NOT_EXPRESSIBLE:
        selector = {
            ("include-method" if k == "method" else k): v
            for k, v in exclusion.items()
            if k != "disable"
        }
        checks = {name: {"enabled": False} for name in exclusion["disable"]}
        operations.append({**selector, "checks": checks})
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # Hypothesis's health checks time the generation: on a loaded machine they could
            # fail a run whose every case passed.
            "suppress-health-check": ["all"],
            "checks": {"enabled": True},
            "generation": {"max-examples": examples, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "operations": operations,
        }
    )


def test_the_api_answers_as_its_openapi_document_says(app: FastAPI) -> None:
    client_id = _relying_app(app)
    credentials = Credentials(app, client_id)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(client_id))

    # Call hooks are global in schemathesis: registered for this run only.
    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        case.headers = {**(case.headers or {}), **credentials.headers_for(case.path)}
        if (
            case.method == "POST"
            and case.meta is not None
            and case.meta.generation.mode.is_positive
        ):
            case.body = credentials.body_for(case.path, case.body)

    def after_call(context: Any, case: Any, response: Any) -> None:
        credentials.after(case.path, case.method, case.body, response.status_code)

    hooks = [schemathesis.hook(before_call), schemathesis.hook(after_call)]
    try:
        failures, errors, cases, elapsed = _run(schema)
    finally:
        for hook in hooks:
            GLOBAL_HOOK_DISPATCHER.unregister(hook)
    report = "\n".join(f"{' | '.join(k)}\n    {v}" for k, v in sorted(failures.items()))
    assert errors == []
    assert not failures, f"{len(failures)} failures in {elapsed:.0f} s:\n{report}"
    assert cases > 500, json.dumps({"cases": cases})  # the run went past the first answers


def _run(schema: Any) -> tuple[dict[tuple[str, str, str], str], list[str], int, float]:
    """Run the engine; (failures by operation, kind and title; errors; cases; seconds)."""
    started = time.monotonic()
    failures: dict[tuple[str, str, str], str] = {}
    errors: list[str] = []
    cases = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    key = (event.recorder.label, type(failure).__name__, failure.title)
                    failures.setdefault(
                        key, f"{failure.message}\n    {check.failure_info.code_sample}"
                    )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(repr(getattr(event, "value", None) or getattr(event, "exception", "")))
    return failures, errors, cases, time.monotonic() - started


def test_the_run_catches_an_undocumented_status(app: FastAPI) -> None:
    """The run's positive control: with the 404 of an unknown status list left out of the
    document, the same run reports it."""
    document = copy.deepcopy(app.openapi())
    path = "/statuslists/{list_id}"
    document["paths"] = {path: document["paths"][path]}  # this operation alone
    del document["paths"][path]["get"]["responses"]["404"]
    app.openapi_schema = document  # what /openapi.json serves
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=_config("-", 5))
    failures, errors, _cases, _elapsed = _run(schema)
    assert errors == []
    assert ("GET /statuslists/{list_id}", "UndefinedStatusCode", "Undocumented status code") in (
        failures
    )


# ---------------------------------------------------------------- the document's own rules


def test_every_operation_has_one_id_of_its_own(app: FastAPI) -> None:
    """GET and POST of one endpoint were one route, and FastAPI gave both the same id (and,
    from a set's order, a different one each run)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns of a duplicate
        document = app.openapi()
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert {"authorize_get", "authorize_post", "userinfo_get", "userinfo_post"} <= set(ids)


def test_no_operation_documents_a_422(app: FastAPI) -> None:
    """Invalid parameters answer 400 problem documents (identity/service/web/problems.py)."""
    document = app.openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/login", "GET, POST"),  # the page's GET, the form's and the API's POST
        ("PUT", "/me/requests", "GET, POST"),  # two routes, one path
        ("DELETE", "/userinfo", "GET, POST"),
        ("PATCH", "/authorize", "GET, POST"),
        ("GET", "/token", "POST"),
    ],
)
def test_a_405_allows_every_method_of_the_path(
    app: FastAPI, method: str, path: str, allowed: str
) -> None:
    """RFC 9110 §15.5.6: Allow lists the resource's methods, not one route's (schemathesis
    found ``Allow: GET`` at ``/login``, whose document says POST)."""
    with TestClient(app) as client:
        response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/problem+json"


# ---------------------------------------------------------------- schemas as tight as the code


def test_audit_event_times_are_dates_not_numbers(app: FastAPI) -> None:
    """``since``/``until`` are ``format: date-time``; pydantic alone read ``0.5`` as Unix
    time and answered 200 (schemathesis: schema-violating request accepted)."""
    auditor = Credentials(app, "-").headers_for("/audit/events")
    with TestClient(app) as client:
        for value in ("0.5", "1700000000"):
            response = client.get("/audit/events", params={"until": value}, headers=auditor)
            assert response.status_code == 400, response.text
            assert response.json()["errors"][0]["location"] == "query.until"
        response = client.get(
            "/audit/events", params={"since": "2026-01-01T00:00:00Z"}, headers=auditor
        )
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("fields", [{}, None])
def test_a_request_of_another_kind_takes_no_fields_at_all(
    app: FastAPI, fields: dict[str, str] | None
) -> None:
    """The document says an access, erasure or restriction request is the kind alone: an
    empty or null ``fields`` is refused like a non-empty one, and nothing is recorded."""
    citizen = Credentials(app, "-").headers_for("/me/requests")
    with TestClient(app) as client:
        body = {"kind": "access", "fields": fields}
        response = client.post("/me/requests", json=body, headers=citizen)
        assert response.status_code == 400, response.text
        assert response.json()["detail"].startswith("fields:")
        assert client.get("/me/requests", headers=citizen).json() == {"requests": []}
