"""Jati's own bearer-token APIs honour revocation (RFC 7009): a citizen API token revoked by
its app, or whose token family was revoked (a refresh token replayed), and a revoked
auditor token answer 401 like an invalid token, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.oidc_helpers import OidcWorld, RelyingApp


@pytest.fixture
def city_app(world: OidcWorld) -> RelyingApp:
    app = world.register_app(name="Jakarta Kita", scope="openid me")
    world.login()
    world.consent(app)
    return app


def _me(world: OidcWorld, token: str) -> int:
    response = world.client.get("/me/consents", headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return response.status_code


def test_a_revoked_citizen_api_token_is_refused(world: OidcWorld, city_app: RelyingApp) -> None:
    tokens = world.tokens(city_app, scope="openid me")
    assert _me(world, tokens["access_token"]) == 200
    assert world.revoke(city_app, tokens["access_token"]).status_code == 200
    assert _me(world, tokens["access_token"]) == 401


def test_a_replayed_refresh_token_ends_the_family_s_api_tokens(
    world: OidcWorld, city_app: RelyingApp
) -> None:
    tokens = world.tokens(city_app, scope="openid me")
    assert world.refresh(city_app, tokens["refresh_token"]).status_code == 200
    assert _me(world, tokens["access_token"]) == 200
    assert world.refresh(city_app, tokens["refresh_token"]).status_code == 400  # replay
    assert _me(world, tokens["access_token"]) == 401


def test_a_revoked_auditor_token_is_refused(world: OidcWorld) -> None:
    auditor = world.register_auditor()
    response = world.token(auditor, {"grant_type": "client_credentials", "scope": "audit:read"})
    token = response.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/audit/events", headers=headers).status_code == 200
    assert world.revoke(auditor, token).status_code == 200
    assert world.client.get("/audit/events", headers=headers).status_code == 401
