"""OpenID Connect Discovery 1.0 and RFC 8414 metadata, and the JWK Set (RFC 7517) of the
token keys.

The metadata lists what is served: the code flow with PKCE S256, pairwise subjects, and
the token, userinfo, introspection, revocation and end-session endpoints. One document is
served at both ``/.well-known/openid-configuration`` (OIDC Discovery §4) and
``/.well-known/oauth-authorization-server`` (RFC 8414 §3; OpenID members are allowed there,
§2, and the ``issuer`` is the same, §3.3), for clients that look for either.

``id_token_signing_alg_values_supported`` names every algorithm an app may register as its
``id_token_signed_response_alg``, ``RS256`` among them (OIDC Discovery §3 requires it); each
has its keys in the JWK Set, published under that same ``alg``
(:mod:`identity.keys.jws_algorithms`). Userinfo and introspection answer plain JSON, so no
signing algorithm is advertised for them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from identity.keys.jws_algorithms import ID_TOKEN_ALGORITHMS
from identity.keys.signing_keys import SUPPORTED_ALGORITHMS, SigningKeyList, jwks
from identity.oidc.clients import KNOWN_SCOPES, SCOPE_CLAIMS, TokenEndpointAuthMethod
from identity.oidc.tokens import ACR_MULTI_FACTOR, ACR_PASSWORD
from identity.service.web.state import services

router = APIRouter(tags=["OpenID Connect"])

JWKS_PATH = "/jwks.json"
JWK_SET_MEDIA_TYPE = "application/jwk-set+json"  # RFC 7517 §8.5.1
JWKS_MAX_AGE = 300  # seconds; the next key is published well before it signs
OIDC_METADATA_PATH = "/.well-known/openid-configuration"
OAUTH_METADATA_PATH = "/.well-known/oauth-authorization-server"
METADATA_CACHE = {"Cache-Control": "public, max-age=3600"}


class JwkSetResponse(JSONResponse):
    """A JWK Set, with its registered media type (RFC 7517 §8.5.1)."""

    media_type = JWK_SET_MEDIA_TYPE


def issuer_of(request: Request) -> str:
    """The configured issuer: never taken from the request's Host header."""
    issuer: str = services(request).issuer
    return issuer


def server_metadata(issuer: str) -> dict[str, object]:
    """The one metadata document: OIDC Discovery 1.0 §3 and RFC 8414 §2 members."""
    return {
        "issuer": issuer,
        "jwks_uri": issuer + JWKS_PATH,
        "response_types_supported": ["code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGORITHMS),
        **provider_metadata(issuer),
    }


@router.get(OIDC_METADATA_PATH, summary="OpenID Connect Discovery metadata")
async def openid_configuration(request: Request) -> JSONResponse:
    return JSONResponse(server_metadata(issuer_of(request)), headers=METADATA_CACHE)


@router.get(OAUTH_METADATA_PATH, summary="OAuth 2.0 Authorization Server Metadata (RFC 8414)")
async def oauth_authorization_server(request: Request) -> JSONResponse:
    return JSONResponse(server_metadata(issuer_of(request)), headers=METADATA_CACHE)


def provider_metadata(issuer: str) -> dict[str, object]:
    """The OpenID Provider's endpoints and capabilities (OIDC Discovery 1.0 §3, RFC 8414
    §2, RFC 9207 §3)."""
    auth_methods = [m.value for m in TokenEndpointAuthMethod]  # the same at all three
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
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }


@router.get(
    JWKS_PATH,
    summary="Public keys that sign Jati's tokens (JWK Set)",
    response_class=JwkSetResponse,
    responses={
        200: {
            "description": "the JWK Set (RFC 7517 §5)",
            "content": {
                JWK_SET_MEDIA_TYPE: {
                    "schema": {
                        "type": "object",
                        "required": ["keys"],
                        "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
                    }
                }
            },
        }
    },
)
async def jwk_set(request: Request) -> JwkSetResponse:
    store: SigningKeyList = services(request).key_store
    now = datetime.now(UTC)
    keys = await asyncio.to_thread(store.list_keys)
    if not keys:
        await asyncio.to_thread(store.ensure, SUPPORTED_ALGORITHMS, now=now)
        keys = await asyncio.to_thread(store.list_keys)
    return JwkSetResponse(
        jwks(keys, now=now),
        headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"},
    )
