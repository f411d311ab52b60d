"""Health, readiness, metrics, request ids and problem documents (issue: foundation)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import Query
from fastapi.testclient import TestClient

from identity.errors import ConfigurationError, NotFound
from identity.service.app import create_app
from identity.service.settings import Settings
from identity.storage.database import Database


@pytest.fixture
def client(make_settings: Callable[..., Settings], database: Database) -> TestClient:
    return TestClient(create_app(make_settings(), database=database))


def test_healthz_answers_without_the_database(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "sqlite:////nonexistent-dir/for/jati.db",
    ],
)
def test_readyz_reports_a_database_that_is_down(tmp_path: Path, url: str) -> None:
    settings = Settings(data_dir=tmp_path, database_url=url)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/database_unreachable")
    assert "Retry-After" in response.headers


def test_readyz_reports_pending_migrations(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    with TestClient(create_app(make_settings())) as client:  # never migrated
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["type"].endswith("/migrations_pending")


def test_every_response_has_a_request_id(client: TestClient) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert first != second and len(first) == 32
    echoed = client.get("/healthz", headers={"X-Request-ID": "caller-chosen-id-1"})
    assert echoed.headers["x-request-id"] == "caller-chosen-id-1"
    # An id that could smuggle data into logs is replaced, not echoed.
    for smuggled in ("x" * 200, "3171011708450001", "req-081234567890"):
        replaced = client.get("/healthz", headers={"X-Request-ID": smuggled})
        assert replaced.headers["x-request-id"] != smuggled


def test_metrics_count_requests_by_route_template_never_raw_path(client: TestClient) -> None:
    nik = "3171011708450001"
    client.get("/healthz")
    assert client.get(f"/citizens/{nik}").status_code == 404
    body = client.get("/metrics").text
    assert 'route="/healthz"' in body
    assert 'route="<unmatched>"' in body
    assert nik not in body
    assert "jati_http_request_duration_seconds_bucket" in body


def test_unknown_route_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404 and body["request_id"] == response.headers["x-request-id"]


def test_domain_errors_and_bad_parameters_map_through_one_table(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    app = create_app(make_settings(), database=database)

    @app.get("/test/not-found")
    async def not_found() -> None:
        raise NotFound("no such consent")

    @app.get("/test/config")
    async def config() -> None:
        raise ConfigurationError(["JATI_MASTER_KEY secret value abc"])

    @app.get("/test/param")
    async def param(size: int = Query(ge=1)) -> dict[str, int]:
        return {"size": size}

    client = TestClient(app, raise_server_exceptions=False)
    missing = client.get("/test/not-found")
    assert missing.status_code == 404 and missing.json()["detail"] == "no such consent"
    hidden = client.get("/test/config")
    assert hidden.status_code == 500 and "detail" not in hidden.json()
    bad = client.get("/test/param", params={"size": "3171011708450001x"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert "3171011708450001" not in bad.text
    assert client.get("/test/param", params={"size": "0"}).status_code == 400


def test_production_app_refuses_unsafe_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        create_app(Settings(env="production", data_dir=tmp_path))


def test_an_unexpected_error_is_a_500_problem_with_the_request_id(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    app = create_app(make_settings(), database=database)

    @app.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail 3171011708450001")

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/test/boom", headers={"X-Request-ID": "trace-me-12345"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "trace-me-12345"
    assert response.json()["request_id"] == "trace-me-12345"
    assert "secret detail" not in response.text
