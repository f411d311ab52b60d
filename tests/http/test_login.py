"""``POST /login`` in the app: credentials, throttling with Retry-After, malformed bodies, logs.

Also the privacy check of DESIGN.md §3 for the citizen flows: registration, login, an audited
read and erasure run with every logger at DEBUG, and no seeded personal value (nor the
password) appears in any log record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from audit.entry import Actor, ActorKind, LegalBasis
from identity.citizens.fields import PERSONAL_FIELDS
from identity.citizens.passwords import Verification
from identity.citizens.service import CitizenService
from identity.errors import CitizenErased
from identity.service.app import create_app
from identity.service.logging_setup import JsonFormatter
from identity.service.settings import Settings
from identity.storage.database import Database

PROBLEM_JSON = "application/problem+json"
NIK = "3171015708900001"
PASSWORD = "kata sandi rahasia"
SEED: dict[str, Any] = {
    "nik": NIK,
    "name": "Siti Rahayu Wulandari",
    "birthdate": date(1990, 8, 17),
    "email": "siti.wulandari@example.id",
    "phone": "+62 812-3456-7890",
    "address": "Jl. Merdeka Barat No. 17, Gambir",
}
OFFICIAL = Actor(kind=ActorKind.OFFICIAL, id="dukcapil-officer-7")


@pytest.fixture
def app(make_settings: Callable[..., Settings], database: Database) -> FastAPI:
    return create_app(make_settings(), database=database, run_background=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def citizens(app: FastAPI) -> CitizenService:
    service: CitizenService = app.state.services.citizens
    return service


def register(app: FastAPI, **overrides: Any) -> str:
    values: dict[str, Any] = {**SEED, "password": PASSWORD, "actor": OFFICIAL}
    values.update(overrides)
    return citizens(app).register(**values)


class CountingVerify:
    """Wraps the service's password check: counts calls and records if one ran on the loop."""

    def __init__(self, service: CitizenService) -> None:
        self.original = service.passwords.verify
        self.calls = 0
        self.on_event_loop = 0
        service.passwords.verify = self  # type: ignore[method-assign]

    def __call__(self, stored_hash: str | None, password: str) -> Verification:
        self.calls += 1
        try:
            asyncio.get_running_loop()
            self.on_event_loop += 1
        except RuntimeError:
            pass
        return self.original(stored_hash, password)


def login(client: TestClient, nik: str = NIK, password: str = PASSWORD) -> Any:
    return client.post("/login", json={"nik": nik, "password": password})


def test_a_citizen_logs_in(app: FastAPI, client: TestClient) -> None:
    register(app)
    spy = CountingVerify(citizens(app))
    response = login(client)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["authenticated"] is True and body["amr"] == ["pwd"]
    assert isinstance(body["auth_time"], int) and body["auth_time"] > 1_700_000_000
    assert set(body) == {"authenticated", "auth_time", "amr"}
    assert response.headers["cache-control"] == "no-store"
    assert spy.calls == 1 and spy.on_event_loop == 0  # argon2 ran in a worker thread


def test_unknown_nik_and_wrong_password_get_the_same_401(app: FastAPI, client: TestClient) -> None:
    register(app)
    spy = CountingVerify(citizens(app))
    wrong = login(client, password="not the password")
    unknown = login(client, nik="3171011708900002")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM_JSON
    strip = {"request_id"}
    assert {k: v for k, v in wrong.json().items() if k not in strip} == {
        k: v for k, v in unknown.json().items() if k not in strip
    }
    assert wrong.json()["detail"] == "the NIK or the password is wrong"
    assert NIK not in wrong.text and "not the password" not in wrong.text
    assert spy.calls == 2  # the unknown NIK is checked against the dummy hash


def test_too_many_failures_answer_429_with_retry_after_without_hashing(
    app: FastAPI, client: TestClient
) -> None:
    register(app)
    spy = CountingVerify(citizens(app))
    for _ in range(5):
        assert login(client, password="not the password").status_code == 401
    assert spy.calls == 5
    throttled = login(client)  # even the right password now waits
    assert throttled.status_code == 429
    assert throttled.headers["content-type"] == PROBLEM_JSON
    retry_after = int(throttled.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert throttled.json()["status"] == 429
    assert "try again in" in throttled.json()["detail"]
    assert spy.calls == 5  # no hash for a throttled attempt


def test_the_address_limit_applies_across_accounts(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    app = create_app(
        make_settings(login_address_max_failures=3), database=database, run_background=False
    )
    with TestClient(app) as client:
        for serial in (2, 3, 4):
            assert login(client, nik=f"317101170890000{serial}").status_code == 401
        response = login(client, nik="3171011708900005")
        assert response.status_code == 429 and "retry-after" in response.headers


@pytest.mark.parametrize(
    "body",
    [
        {"nik": NIK},
        {"password": PASSWORD},
        {"nik": NIK, "password": ""},
        {"nik": 3171015708900001, "password": PASSWORD},
        {"nik": NIK * 3, "password": PASSWORD},
        {"nik": NIK, "password": "x" * 5000},
        [NIK, PASSWORD],
    ],
)
def test_malformed_bodies_are_400_and_never_echo_values(
    app: FastAPI, client: TestClient, body: Any
) -> None:
    register(app)
    response = client.post("/login", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert NIK not in response.text and PASSWORD not in response.text
    assert "xxxxxxxx" not in response.text
    assert response.json()["errors"]


def test_a_body_that_is_not_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/login",
        content=f'{{"nik": "{NIK}", "password": "{PASSWORD}"',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert NIK not in response.text and PASSWORD not in response.text


def test_an_erased_citizen_cannot_log_in(app: FastAPI, client: TestClient) -> None:
    citizen_id = register(app)
    citizens(app).erase(citizen_id, actor=OFFICIAL)
    assert login(client).status_code == 401


def test_no_personal_data_in_any_log_record(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQL and its parameters too
    citizen_id = register(app)
    assert login(client).status_code == 200
    assert login(client, password="wrong " + PASSWORD).status_code == 401
    assert client.post("/login", json={"nik": NIK, "password": 7}).status_code == 400
    data = citizens(app).read_personal_data(
        citizen_id,
        PERSONAL_FIELDS,
        actor=OFFICIAL,
        purpose="population-record-check",
        legal_basis=LegalBasis.PUBLIC_TASK,
    )
    logging.getLogger("tests").info("read %r", data)  # a careless log of the result
    citizens(app).erase(citizen_id, actor=OFFICIAL)
    with pytest.raises(CitizenErased):
        citizens(app).read_personal_data(
            citizen_id, ["name"], actor=OFFICIAL, purpose="x", legal_basis=LegalBasis.CONSENT
        )
    for _ in range(6):
        login(client, password="wrong " + PASSWORD)
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any("sqlalchemy" in line for line in lines), "SQL statements were captured"
    assert any("login failed" in line for line in lines)
    values = [str(v) for v in SEED.values()] + ["1990-08-17", PASSWORD, "Siti Rahayu"]
    for line in lines:
        for value in values:
            assert value not in line, f"{value!r} leaked into a log line"
