"""Token introspection (RFC 7662): client-authenticated, ``active: false`` for anything
withdrawn, expired, forged, unknown or another client's; a consent withdrawal made through
one worker is reported by introspection and enforced by a second worker's gate."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from consent.grants import GrantStatus
from consent.ledger import ConsentLedger
from identity.keys.signing_keys import SUPPORTED_ALGORITHMS
from identity.oidc.refresh_families import GRANTS_CLAIM
from identity.service.app import create_app
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.consent_helpers import APP, PURPOSES, ConsentWorld, notice_content


@dataclass
class World:
    app: FastAPI
    client: TestClient
    ledger: ConsentLedger
    consent: ConsentWorld
    client_id: str
    secret: str

    def basic(self, client_id: str | None = None, secret: str | None = None) -> dict[str, str]:
        raw = f"{client_id or self.client_id}:{secret or self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def introspect(self, token: str, **headers: str) -> dict[str, object]:
        response = self.client.post(
            "/introspect", data={"token": token}, headers=headers or self.basic()
        )
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body: dict[str, object] = response.json()
        return body

    def token_under_grant(self, citizen: str) -> tuple[str, str]:
        grants = self.ledger.record(self.consent.attempt(citizen))
        grant = next(g for g in grants if g.status is GrantStatus.ACTIVE)
        issued = self.app.state.services.token_issuer.access_token(
            client_id=self.client_id,
            scope=["openid", "profile"],
            subject_id=citizen,
            sector_identifier="dinsos.example.go.id",
            extra={GRANTS_CLAIM: [grant.grant_id]},
        )
        return issued.token, grant.grant_id


def _app(settings: Settings, database: Database) -> FastAPI:
    app = create_app(settings, database=database, run_background=False)
    app.state.services.key_store.ensure(SUPPORTED_ALGORITHMS, now=datetime.now(UTC))
    return app


@pytest.fixture
def world(make_settings: Callable[..., Settings], database: Database) -> Iterator[World]:
    app = _app(make_settings(), database)
    registration = app.state.services.clients.register(
        name="Dinas Sosial",
        scope="openid profile",
        redirect_uris=["https://dinsos.example.go.id/callback"],
    )
    ledger: ConsentLedger = app.state.services.consent_ledger
    for purpose in PURPOSES:
        ledger.register_purpose(purpose)
    notice = ledger.publish_notice(APP, notice_content())
    consent = ConsentWorld(ledger=ledger, store=ledger.store, notice=notice, generations=None)  # type: ignore[arg-type]
    with TestClient(app) as client:
        yield World(
            app, client, ledger, consent, registration.app.client_id, registration.client_secret
        )


def test_an_active_token_is_described(world: World) -> None:
    token, _ = world.token_under_grant("citizen-1")
    body = world.introspect(token)
    assert body["active"] is True
    assert body["client_id"] == world.client_id and body["scope"] == "openid profile"
    assert body["token_type"] == "Bearer" and isinstance(body["exp"], int)


def test_a_withdrawn_grant_makes_its_tokens_inactive_and_a_second_worker_refuses(
    world: World, make_settings: Callable[..., Settings], database: Database
) -> None:
    token, grant_id = world.token_under_grant("citizen-1")
    second_worker = _app(make_settings(), database)  # same database, same data dir
    gate = second_worker.state.services.consent_gate
    assert gate.check("citizen-1", APP, "bansos-eligibility", ["name"]).allowed
    world.ledger.withdraw("citizen-1", grant_id)
    assert world.introspect(token) == {"active": False}
    assert not gate.check("citizen-1", APP, "bansos-eligibility", ["name"]).allowed


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.e30."],
    ids=["garbage", "three-segments", "alg-none"],
)
def test_anything_that_does_not_verify_is_inactive(world: World, token: str) -> None:
    assert world.introspect(token) == {"active": False}


def test_another_clients_token_is_inactive(world: World) -> None:
    other = world.app.state.services.token_issuer.access_token(
        client_id="someone-else", scope=["openid"]
    )
    assert world.introspect(other.token) == {"active": False}


def test_an_expired_token_is_inactive(world: World) -> None:
    issuer = world.app.state.services.token_issuer
    real_clock = issuer._clock
    issuer._clock = lambda: real_clock() - 3600
    try:
        old = issuer.access_token(client_id=world.client_id, scope=["openid"])
    finally:
        issuer._clock = real_clock
    assert world.introspect(old.token) == {"active": False}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic !!!"}, {"Authorization": "Bearer x"}, "wrong-secret"],
    ids=["none", "malformed", "bearer", "wrong-secret"],
)
def test_client_authentication_is_required(world: World, headers: object) -> None:
    token, _ = world.token_under_grant("citizen-1")
    if headers == "wrong-secret":
        headers = world.basic(secret="x" * 43)
    response = world.client.post("/introspect", data={"token": token}, headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}
    assert response.headers["www-authenticate"].startswith("Basic")


def test_a_missing_token_parameter_is_invalid_request(world: World) -> None:
    response = world.client.post("/introspect", data={}, headers=world.basic())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
