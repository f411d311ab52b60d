"""Jati's own APIs accept only Jati's access tokens for Jati, with the scope they need
(RFC 6750, RFC 9068): the audit API's ``audit:read`` routes, with real issued tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from identity.oidc.tokens import TokenIssuer
from identity.service.settings import Settings
from identity.storage.database import Database
from tests.oidc_helpers import make_app

ISSUER = "http://testserver"
URL = "/audit/events"


@pytest.fixture
def app_client(
    make_settings: Callable[..., Settings], database: Database
) -> Iterator[tuple[TestClient, TokenIssuer]]:
    app = make_app(make_settings(), database)
    with TestClient(app) as client:
        yield client, app.state.services.token_issuer


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _as_auditor(app_client: tuple[TestClient, TokenIssuer], scope: str) -> Any:
    """GET the audit API with an auditor's access token for Jati holding ``scope``."""
    client, issuer = app_client
    token = issuer.access_token(client_id="auditor-1", scope=[scope], audience=ISSUER)
    return client.get(URL, headers=_auth(token.token))


def test_an_auditor_token_with_audit_read_is_accepted(
    app_client: tuple[TestClient, TokenIssuer],
) -> None:
    response = _as_auditor(app_client, "audit:read")
    assert response.status_code == 200, response.text


def test_a_token_without_the_scope_is_forbidden(
    app_client: tuple[TestClient, TokenIssuer],
) -> None:
    response = _as_auditor(app_client, "openid")
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="audit:read"'
    )


@pytest.mark.parametrize(
    "make",
    [
        # a relying app's token (audience: the app) is not a token for Jati's API
        lambda issuer: issuer.access_token(client_id="app", scope=["audit:read"]).token,
        # an ID token is not an access token
        lambda issuer: (
            issuer.id_token(
                client_id=ISSUER,
                subject_id="c",
                sector_identifier="s",
                auth_time=0,
                acr="a",
                amr=["pwd"],
            ).token
        ),
        lambda _issuer: "not-a-jwt",
    ],
    ids=["other-audience", "id-token", "garbage"],
)
def test_other_tokens_are_unauthorized(
    app_client: tuple[TestClient, TokenIssuer], make: Callable[[TokenIssuer], str]
) -> None:
    client, issuer = app_client
    response = client.get(URL, headers=_auth(make(issuer)))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert response.headers["content-type"] == "application/problem+json"


def test_a_token_signed_with_the_es256_key_is_accepted_too(
    make_settings: Callable[..., Settings], database: Database
) -> None:
    app = make_app(make_settings(token_signing_alg="ES256"), database)
    with TestClient(app) as client:
        token = app.state.services.token_issuer.access_token(
            client_id="auditor-1", scope=["audit:read"], audience=ISSUER
        ).token
        assert token.startswith("eyJhbGciOiJFUzI1NiI")  # {"alg":"ES256"
        assert client.get(URL, headers=_auth(token)).status_code == 200


def test_discovery_names_the_configured_issuer_whatever_the_host_header(
    app_client: tuple[TestClient, TokenIssuer],
) -> None:
    client, _ = app_client
    response = client.get("/.well-known/openid-configuration", headers={"Host": "attacker.example"})
    assert response.json()["issuer"] == ISSUER


# ------------------------------------------------------------------ citizen API tokens


def _citizen_route(client: TestClient) -> None:
    app = client.app

    @app.get("/test/whoami")  # type: ignore[attr-defined, untyped-decorator]
    def whoami(request: Request) -> dict[str, str]:
        return {"citizen": request.app.state.authorize_citizen(request)}


def test_a_citizen_api_token_names_its_citizen_to_jati_only(
    app_client: tuple[TestClient, TokenIssuer],
) -> None:
    client, issuer = app_client
    _citizen_route(client)
    token = issuer.citizen_api_token(
        client_id="kota-app", subject_id="citizen-42", scope=["me"], auth_time=None
    ).token
    response = client.get("/test/whoami", headers=_auth(token))
    assert response.status_code == 200
    assert response.json() == {"citizen": "citizen-42"}
    sub = jwt.decode(token, options={"verify_signature": False})["sub"]
    assert "citizen-42" not in sub  # the app holding the token cannot read the id


@pytest.mark.parametrize(
    "make",
    [
        # an auditor's client-credentials token with scope me still names no citizen
        lambda issuer: issuer.access_token(client_id="c", scope=["me"], audience=ISSUER).token,
        # a relying app's pairwise token is not for Jati's API
        lambda issuer: (
            issuer.access_token(
                client_id="c", scope=["me"], subject_id="x", sector_identifier="s"
            ).token
        ),
    ],
    ids=["client-credentials", "relying-app-token"],
)
def test_tokens_that_name_no_citizen_are_refused_by_the_citizen_api(
    app_client: tuple[TestClient, TokenIssuer], make: Callable[[TokenIssuer], str]
) -> None:
    client, issuer = app_client
    _citizen_route(client)
    assert client.get("/test/whoami", headers=_auth(make(issuer))).status_code == 401


def test_a_citizen_token_cannot_read_the_audit_api(
    app_client: tuple[TestClient, TokenIssuer],
) -> None:
    client, issuer = app_client
    token = issuer.citizen_api_token(
        client_id="kota-app", subject_id="citizen-42", scope=["me"], auth_time=None
    ).token
    assert client.get(URL, headers=_auth(token)).status_code == 403


def test_an_auditor_token_cannot_use_the_citizen_api(
    app_client: tuple[TestClient, TokenIssuer],
) -> None:
    client, issuer = app_client
    _citizen_route(client)
    token = issuer.access_token(client_id="auditor", scope=["audit:read"], audience=ISSUER)
    assert client.get("/test/whoami", headers=_auth(token.token)).status_code == 403
