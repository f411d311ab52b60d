"""Token introspection (RFC 7662): client-authenticated, ``active: false`` for anything
withdrawn, expired, forged, unknown or another client's; a consent withdrawal made through
one worker is reported by introspection and enforced by a second worker's gate."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from consent.grants import GrantStatus
from identity.oidc.refresh_families import GRANTS_CLAIM
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.oidc_helpers import OidcWorld, RelyingApp, make_app


def token_under_grant(world: OidcWorld, rp: RelyingApp, citizen: str) -> tuple[str, str]:
    """An access token of ``rp`` resting on the citizen's consent to ``bansos-eligibility``;
    returns (the token, the grant's id)."""
    grants = world.consent(rp, citizen, newsletter=False)
    grant = next(g for g in grants if g.status is GrantStatus.ACTIVE)
    issued = world.app.state.services.token_issuer.access_token(
        client_id=rp.client_id,
        scope=["openid", "profile"],
        subject_id=citizen,
        sector_identifier="dinsos.example.go.id",
        extra={GRANTS_CLAIM: [grant.grant_id]},
    )
    return issued.token, grant.grant_id


def test_an_active_token_is_described(world: OidcWorld, rp: RelyingApp) -> None:
    token, _ = token_under_grant(world, rp, "citizen-1")
    body = world.introspect(rp, token)
    assert body["active"] is True
    assert body["client_id"] == rp.client_id and body["scope"] == "openid profile"
    assert body["token_type"] == "Bearer" and isinstance(body["exp"], int)


def test_a_withdrawn_grant_makes_its_tokens_inactive_and_a_second_worker_refuses(
    world: OidcWorld, rp: RelyingApp, make_settings: Callable[..., Settings], database: Database
) -> None:
    token, grant_id = token_under_grant(world, rp, "citizen-1")
    second_worker = make_app(make_settings(), database)  # same database, same data dir
    gate = second_worker.state.services.consent_gate
    assert gate.check("citizen-1", rp.client_id, "bansos-eligibility", ["name"]).allowed
    world.ledger.withdraw("citizen-1", grant_id)
    assert world.introspect(rp, token) == {"active": False}
    assert not gate.check("citizen-1", rp.client_id, "bansos-eligibility", ["name"]).allowed


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.e30."],
    ids=["garbage", "three-segments", "alg-none"],
)
def test_anything_that_does_not_verify_is_inactive(
    world: OidcWorld, rp: RelyingApp, token: str
) -> None:
    assert world.introspect(rp, token) == {"active": False}


def test_another_clients_token_is_inactive(world: OidcWorld, rp: RelyingApp) -> None:
    other = world.app.state.services.token_issuer.access_token(
        client_id="someone-else", scope=["openid"]
    )
    assert world.introspect(rp, other.token) == {"active": False}


def test_an_expired_token_is_inactive(world: OidcWorld, rp: RelyingApp) -> None:
    issuer = world.app.state.services.token_issuer
    real_clock = issuer._clock
    issuer._clock = lambda: real_clock() - 3600
    try:
        old = issuer.access_token(client_id=rp.client_id, scope=["openid"])
    finally:
        issuer._clock = real_clock
    assert world.introspect(rp, old.token) == {"active": False}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic !!!"}, {"Authorization": "Bearer x"}, "wrong-secret"],
    ids=["none", "malformed", "bearer", "wrong-secret"],
)
def test_client_authentication_is_required(
    world: OidcWorld, rp: RelyingApp, headers: object
) -> None:
    token, _ = token_under_grant(world, rp, "citizen-1")
    if headers == "wrong-secret":
        headers = rp.basic(secret="x" * 43)
    response = world.client.post("/introspect", data={"token": token}, headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}
    assert response.headers["www-authenticate"].startswith("Basic")


def test_a_missing_token_parameter_is_invalid_request(world: OidcWorld, rp: RelyingApp) -> None:
    response = world.client.post("/introspect", data={}, headers=rp.basic())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
