"""OpenID Connect Discovery 1.0 metadata and the JWK Set (RFC 7517) of the token keys.

The metadata lists only what is served today; the OIDC issue adds the authorization,
token and userinfo endpoints as they arrive.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from identity.signing_keys import SUPPORTED_ALGORITHMS
from identity.storage.keys import SqlKeyStore, jwks

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
        },
        headers={"Cache-Control": "public, max-age=3600"},
    )


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
