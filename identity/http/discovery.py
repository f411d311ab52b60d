"""OpenID Connect Discovery 1.0 metadata and the JWK Set (RFC 7517) of the token keys.

The metadata lists what is served: the code flow with PKCE S256, pairwise subjects, and
the token, userinfo, introspection, revocation and end-session endpoints.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from identity.clients import KNOWN_SCOPES, SCOPE_CLAIMS
from identity.signing_keys import SUPPORTED_ALGORITHMS
from identity.storage.keys import SqlKeyStore, jwks
from identity.tokens import ACR_MULTI_FACTOR, ACR_PASSWORD

router = APIRouter(tags=["OpenID Connect"])

JWKS_PATH = "/jwks.json"
JWKS_MAX_AGE = 300  # seconds; the next key is published well before it signs


def issuer_of(request: Request) -> str:
    """The configured issuer: never taken from the request's Host header."""
    issuer: str = request.app.state.issuer
    return issuer


@router.get("/.well-known/openid-configuration", summary="OpenID Connect Discovery metadata")
async def openid_configuration(request: Request) -> JSONResponse:
    issuer = issuer_of(request)
    return JSONResponse(
        {
            "issuer": issuer,
            "jwks_uri": issuer + JWKS_PATH,
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": list(SUPPORTED_ALGORITHMS),
            **provider_metadata(issuer),
        },
        headers={"Cache-Control": "public, max-age=3600"},
    )


def provider_metadata(issuer: str) -> dict[str, object]:
    """The OpenID Provider's endpoints and capabilities (OIDC Discovery 1.0 §3, RFC 8414
    §2, RFC 9207 §3)."""
    auth_methods = ["client_secret_basic", "private_key_jwt"]
    assertion_algs = ["EdDSA", "Ed25519", "ES256"]
    claims = {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp"}
    return {
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "userinfo_endpoint": issuer + "/userinfo",
        "introspection_endpoint": issuer + "/introspect",
        "revocation_endpoint": issuer + "/revoke",
        "end_session_endpoint": issuer + "/end_session",
        "scopes_supported": list(KNOWN_SCOPES),
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": sorted(claims | {c for v in SCOPE_CLAIMS.values() for c in v}),
        "acr_values_supported": [ACR_PASSWORD, ACR_MULTI_FACTOR],
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["id", "en"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }


@router.get(JWKS_PATH, summary="Public keys that sign Jati's tokens (JWK Set)")
async def jwk_set(request: Request) -> JSONResponse:
    store: SqlKeyStore = request.app.state.key_store
    now = datetime.now(UTC)
    keys = await asyncio.to_thread(store.list_keys)
    if not keys:
        await asyncio.to_thread(store.ensure, SUPPORTED_ALGORITHMS, now=now)
        keys = await asyncio.to_thread(store.list_keys)
    return JSONResponse(
        jwks(keys, now=now),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"},
    )
