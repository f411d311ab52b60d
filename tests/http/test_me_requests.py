"""The citizen API's data-subject requests over HTTP, with real tokens (DESIGN.md §4).

``POST /me/requests`` for each kind (UU PDP Art. 14 recorded requests: access Art. 7/32,
correction Art. 6/30, erasure Art. 8/43-45 carried out at once as PP 71/2019 self-service
deletion, restriction Art. 11/41), ``GET /me/requests[/{id}]`` and ``GET /me/export``. A
citizen never reads or acts on another citizen's requests (tried with tampered ids); a
refused request answers 400 without echoing a value and records nothing; erasure leaves no
seeded value in the database and the audit log still verifies; nothing personal is logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis
from audit.storage.store import SqlAuditStore
from audit.storage.verification import verify_stored_log
from consent.requests.service import RequestService
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.consent_helpers import APP, PURPOSES
from tests.oidc_helpers import AppHarness, make_app, register_citizen
from tests.personal_data import SAMPLE, citizen, seeded
from tests.storage.test_citizens import assert_absent, stored_secrets

ISSUER = "http://testserver"
PASSWORD = "kata sandi warga kota"
ALICE = dict(SAMPLE)  # seeded at import by tests/personal_data.py
BOB = citizen(
    nik="3174051203800001",  # DKI Jakarta, a man born 1980-03-12
    name="Budi Santoso Wibowo",
    birthdate="1980-03-12",
    email="budi.wibowo@contoh.go.id",
    phone="+62 815-1111-2222",
    address="Jl. Gajah Mada No. 100, Taman Sari",
)
NEW_EMAIL, NEW_PHONE = seeded("siti.pindah@contoh.go.id", "+62 877 1234 5678")
#: Values sent in refused requests: they must not reach a log line either.
seeded("3171014101900099", "siti-at-contoh.go.id", "siti@contoh.go.id", "nilai rahasia")
seeded("Siti Nurhaliza", "bukan-email-siti")


@dataclass
class CitizenApi(AppHarness):
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def post(self, who: str, body: Any) -> Response:
        return self.client.post("/me/requests", json=body, headers=self.headers(who))

    def get(self, who: str, path: str) -> Response:
        return self.client.get(path, headers=self.headers(who))

    def requests(self, who: str) -> list[dict[str, Any]]:
        response = self.get(who, "/me/requests")
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["requests"]
        return found

    def export(self, who: str, **params: str) -> dict[str, Any]:
        response = self.client.get("/me/export", params=params, headers=self.headers(who))
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-type"] == "application/json"
        document: dict[str, Any] = json.loads(response.content)
        return document

    @property
    def service(self) -> RequestService:
        service: RequestService = self.app.state.services.subject_requests
        return service


@pytest.fixture
def api(make_settings: Callable[..., Settings], database: Database) -> Iterator[CitizenApi]:
    app = make_app(make_settings(), database)
    with TestClient(app) as client:
        harness = CitizenApi(app, client, database)
        for who, person in (("alice", ALICE), ("bob", BOB)):
            harness.ids[who] = register_citizen(
                harness.services.citizens, person, password=PASSWORD
            )
            harness.tokens[who] = app.state.services.token_issuer.citizen_api_token(
                client_id="kota-app", subject_id=harness.ids[who], scope=["me"], auth_time=None
            ).token
        yield harness


def assert_problem(response: Response, status: int, *never: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    for value in never:
        assert value not in response.text
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------- authorization


ROUTES = [
    ("GET", "/me/requests"),
    ("POST", "/me/requests"),
    ("GET", "/me/requests/aaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ("GET", "/me/export"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_a_citizen_token(api: CitizenApi, method: str, path: str) -> None:
    # Authorization comes before the body: a bad body without a token is still a 401.
    body = {"kind": "nonsense", "extra": 1} if method == "POST" else None
    response = api.client.request(method, path, json=body)
    assert_problem(response, 401)
    auditor = api.app.state.services.token_issuer.access_token(
        client_id="auditor-1", scope=["audit:read"], audience=ISSUER
    ).token
    headers = {"Authorization": f"Bearer {auditor}"}
    assert_problem(api.client.request(method, path, json=body, headers=headers), 403)
    no_citizen = api.app.state.services.token_issuer.access_token(
        client_id="c", scope=["me"], audience=ISSUER
    ).token
    headers = {"Authorization": f"Bearer {no_citizen}"}
    assert_problem(api.client.request(method, path, json=body, headers=headers), 401)
    assert api.service.register.listing() == []


# ---------------------------------------------------------------- each kind


def test_access_request_and_its_export(api: CitizenApi) -> None:
    response = api.post("alice", {"kind": "access"})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert response.headers["location"] == f"/me/requests/{created['id']}"
    assert created["kind"] == "access" and created["status"] == "completed"
    received = datetime.fromisoformat(created["received_at"])
    assert (datetime.fromisoformat(created["due_by"]) - received).total_seconds() == 72 * 3600
    assert created["export"] == f"/me/export?request_id={created['id']}"
    api.log.sequence(checkpoint=True)

    document = api.export("alice", request_id=created["id"])
    assert document["format"] == "jati-subject-export/1"
    assert document["request"]["id"] == created["id"]
    assert document["personal_data"] == ALICE
    assert document["erased_at"] is None and document["restricted_at"] is None
    assert [r["id"] for r in document["requests"]] == [created["id"]]
    assert document["consents"] == []
    record = document["processing_record"]
    assert [(r["action"], r["purpose"]) for r in record] == [
        ("create", "citizen-registration"),
        ("create", "data-subject-access"),
        ("update", "data-subject-access"),
    ]
    assert record[0]["actor"] == {"kind": "official", "id": "dukcapil-officer-7"}
    assert [r["leaf_index"] for r in record] == sorted(r["leaf_index"] for r in record)
    assert all(r["request_id"] == created["id"] for r in record[1:])

    api.log.sequence(checkpoint=True)
    again = api.export("alice", request_id=created["id"])  # the read is in the record now
    reads = [r for r in again["processing_record"] if r["action"] == "read"]
    assert [(r["purpose"], r["legal_basis"], r["request_id"]) for r in reads] == [
        ("data-subject-access", "c", created["id"])
    ]
    assert reads[0]["actor"] == {"kind": "citizen", "id": "self"}
    assert reads[0]["data_items"] == sorted(ALICE)


def test_an_export_without_a_request_records_one(api: CitizenApi) -> None:
    document = api.export("alice")
    assert document["request"]["kind"] == "access"
    assert [r["id"] for r in api.requests("alice")] == [document["request"]["id"]]


def test_correction_is_applied_at_once_and_never_echoed(api: CitizenApi) -> None:
    response = api.post(
        "alice", {"kind": "correction", "fields": {"email": NEW_EMAIL, "phone": NEW_PHONE}}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "completed"
    assert created["fields"] == ["email", "phone"]
    assert NEW_EMAIL not in response.text and NEW_PHONE not in response.text
    assert NEW_EMAIL not in json.dumps(api.requests("alice"))
    data = api.export("alice")["personal_data"]
    assert (data["email"], data["phone"], data["name"]) == (NEW_EMAIL, NEW_PHONE, ALICE["name"])


@pytest.mark.parametrize(
    ("body", "part"),
    [
        ({"kind": "deletion"}, "kind"),
        ({"kind": "correction"}, "fields"),
        ({"kind": "correction", "fields": {}}, "fields"),
        ({"kind": "correction", "fields": {"nik": "3171014101900099"}}, "fields"),
        ({"kind": "correction", "fields": {"birthdate": "1990-01-02"}}, "fields"),
        ({"kind": "correction", "fields": {"email": "siti-at-contoh.go.id"}}, "fields.email"),
        ({"kind": "correction", "fields": {"phone": "0812"}}, "fields.phone"),
        ({"kind": "correction", "fields": {"email": ["siti@contoh.go.id"]}}, "fields"),
        ({"kind": "correction", "fields": {"Siti Nurhaliza": "nilai rahasia"}}, "fields"),
        ({"kind": "erasure", "fields": {"email": "siti@contoh.go.id"}}, "fields"),
    ],
)
def test_a_request_that_cannot_be_accepted_answers_400_and_records_nothing(
    api: CitizenApi, body: dict[str, Any], part: str
) -> None:
    queued = api.log.store.queue_status().length
    problem = assert_problem(
        api.post("alice", body), 400, *_strings(body.get("fields")), "Siti Nurhaliza"
    )
    assert problem["type"].endswith("/invalid_subject_request")
    assert problem["detail"].startswith(f"{part}:")
    assert api.requests("alice") == []
    assert api.log.store.queue_status().length == queued
    assert api.export("alice")["personal_data"] == ALICE


def _strings(fields: Any) -> list[str]:
    if not isinstance(fields, dict):
        return []
    found = [k for k in fields if k not in ("email", "phone", "nik", "birthdate")]
    for value in fields.values():
        found += value if isinstance(value, list) else [str(value)]
    return found


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "access", "extra": "siti@contoh.go.id"},
        {"kind": "access", "siti@contoh.go.id": 1},  # a made-up member is not named back
        {"fields": {}},
        {"kind": 7},
        {"kind": "x" * 100},
        "access",
    ],
)
def test_a_malformed_body_answers_400_without_echo(api: CitizenApi, body: Any) -> None:
    problem = assert_problem(api.post("alice", body), 400, "siti@contoh.go.id", "x" * 100)
    assert problem["type"].endswith("/invalid_request")
    assert api.requests("alice") == []


def test_restriction_is_recorded_for_every_release_path(api: CitizenApi) -> None:
    response = api.post("alice", {"kind": "restriction"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "completed"
    assert created["outcome"]["action"] == "restricted"
    restrictions = api.service.restrictions
    assert restrictions.is_restricted(api.ids["alice"])
    assert not restrictions.is_restricted(api.ids["bob"])
    assert api.export("alice")["restricted_at"] == created["completed_at"]


def test_a_restriction_is_honoured_by_the_consent_gate_at_once(api: CitizenApi) -> None:
    ledger = api.app.state.services.consent_ledger
    ledger.register_purpose(PURPOSES[2])  # population administration, basis (e): not asked
    gate = api.app.state.services.consent_gate
    purpose = PURPOSES[2].code
    assert gate.check(api.ids["alice"], APP, purpose, ["name"]).allowed
    assert api.post("alice", {"kind": "restriction"}).status_code == 201
    decision = gate.check(api.ids["alice"], APP, purpose, ["name"])  # the cache was told
    assert (decision.allowed, decision.reason) == (False, "restricted")
    assert gate.check(api.ids["bob"], APP, purpose, ["name"]).allowed


def test_erasure_is_carried_out_at_once_and_leaves_no_personal_data(api: CitizenApi) -> None:
    api.post("alice", {"kind": "correction", "fields": {"email": NEW_EMAIL}})
    api.export("alice")
    api.log.sequence(checkpoint=True)
    secrets = stored_secrets(api.database, api.ids["alice"])

    response = api.post("alice", {"kind": "erasure"})
    assert response.status_code == 201, response.text
    erasure = response.json()
    assert erasure["status"] == "completed" and erasure["due_by"] is None
    outcome = erasure["outcome"]
    assert outcome["action"] == "erased"
    assert set(outcome["fields"]) >= {"nik", "name", "birthdate", "email", "phone", "address"}
    kept = {item["item"]: item for item in outcome["kept"]}
    assert {"audit-log", "request-register", "tombstone"} <= set(kept)
    for item in kept.values():
        assert item["basis"] and item["description_id"] and item["description_en"]
    assert "never your personal data" in kept["audit-log"]["description_en"]

    personal = [v for k, v in ALICE.items() if k != "birthdate"] + [ALICE["birthdate"]]
    assert_absent(api.database, [*personal, NEW_EMAIL, PASSWORD], secrets)

    # The erased citizen's token is refused from now on (test_erasure_ends_tokens.py); the
    # register and the export, asked directly, show the erasure.
    assert_problem(api.get("alice", "/me/export"), 401)
    assert_problem(api.post("alice", {"kind": "erasure"}), 401)
    alice = api.ids["alice"]
    after = api.service.export(alice)
    assert after.personal_data.values is None and after.personal_data.erased_at is not None
    assert [r.kind.value for r in after.requests].count("erasure") == 1
    assert api.export("bob")["personal_data"] == BOB  # the other citizen is untouched

    again = api.service.submit(alice, "erasure")
    assert again.status.value == "refused"
    assert again.outcome is not None and again.outcome.reason == "subject_erased"
    refused = api.service.submit(alice, "correction", changes={"email": NEW_EMAIL})
    assert refused.status.value == "refused"

    api.log.sequence(checkpoint=True)
    report = verify_stored_log(api.log, api.log.store)  # type: ignore[arg-type]
    assert report.ok, report.findings


# ---------------------------------------------------------------- isolation


def test_a_citizen_never_sees_or_uses_another_citizens_requests(api: CitizenApi) -> None:
    bobs = api.post("bob", {"kind": "access"}).json()
    alices = api.post("alice", {"kind": "access"}).json()
    assert [r["id"] for r in api.requests("alice")] == [alices["id"]]
    assert [r["id"] for r in api.requests("bob")] == [bobs["id"]]
    assert api.get("alice", f"/me/requests/{alices['id']}").json()["id"] == alices["id"]

    tampered = [bobs["id"], bobs["id"].upper(), bobs["id"] + "a", f"..%2F{bobs['id']}", "0"]
    for request_id in tampered:
        assert_problem(api.get("alice", f"/me/requests/{request_id}"), 404, BOB["name"])
        response = api.client.get(
            "/me/export", params={"request_id": request_id}, headers=api.headers("alice")
        )
        assert_problem(response, 404, BOB["name"], BOB["nik"])
    long_id = api.client.get(
        "/me/export", params={"request_id": "a" * 65}, headers=api.headers("alice")
    )
    assert_problem(long_id, 400)
    # Bob's request still reads as his, with nothing of Alice's in his export.
    document = api.export("bob", request_id=bobs["id"])
    assert document["personal_data"] == BOB
    assert ALICE["nik"] not in json.dumps(document)
    assert alices["id"] not in json.dumps(document)


# ---------------------------------------------------------------- a long record


def test_a_long_processing_record_is_streamed_whole(api: CitizenApi) -> None:
    subject = api.app.state.services.pseudonymizer.pseudonym(api.ids["alice"])
    store = SqlAuditStore(engine=api.database.engine)
    now = api.log.clock()
    with api.database.write() as session:
        for n in range(1234):
            store.append(
                session,
                AuditEntry(
                    time=now,
                    actor=Actor(ActorKind.RELYING_APP, "bansos-app"),
                    action=Action.DISCLOSE,
                    subject=subject,
                    data_items=("name",),
                    purpose="bansos-eligibility",
                    legal_basis=LegalBasis.CONSENT,
                    consent_id=f"grant-{n}",
                ),
                queued_at=now,
            )
    api.log.sequence(checkpoint=True)
    record = api.export("alice")["processing_record"]
    disclosures = [r for r in record if r["action"] == "disclose"]
    assert len(disclosures) == 1234
    assert [r["consent_id"] for r in disclosures] == [f"grant-{n}" for n in range(1234)]


# ---------------------------------------------------------------- logs


def test_no_personal_value_or_token_reaches_a_log_line(
    api: CitizenApi, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        api.post("alice", {"kind": "correction", "fields": {"email": NEW_EMAIL}})
        api.post("alice", {"kind": "correction", "fields": {"email": "bukan-email-siti"}})
        api.post("alice", {"kind": "restriction"})
        api.export("alice")
        api.post("alice", {"kind": "erasure"})
    lines = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    for value in [*ALICE.values(), NEW_EMAIL, "bukan-email-siti", api.tokens["alice"]]:
        assert value not in lines


def test_erasure_over_the_api_ends_sessions_and_forgets_the_second_factor(
    api: CitizenApi,
) -> None:
    from datetime import datetime

    from sqlalchemy import text

    from identity.oidc.tokens import ACR_PASSWORD

    citizen = api.ids["alice"]
    cookie, _ = api.app.state.services.sessions.create(
        citizen, auth_time=datetime.now(UTC), amr=["pwd"], acr=ACR_PASSWORD
    )
    api.app.state.services.second_factor.begin_enrolment(citizen)
    with api.database.read() as session:
        assert session.execute(text("SELECT count(*) FROM identity_totp")).scalar_one() == 1
    assert api.post("alice", {"kind": "erasure"}).status_code == 201
    assert api.app.state.services.sessions.get(cookie) is None
    with api.database.read() as session:
        assert session.execute(text("SELECT count(*) FROM identity_totp")).scalar_one() == 0
