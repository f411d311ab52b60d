"""Token introspection (RFC 7662) for relying apps, with consent withdrawal honoured.

``POST /introspect`` (``application/x-www-form-urlencoded``: ``token``, optional
``token_type_hint``), the caller authenticated as a registered client with HTTP Basic
(``client_secret_basic``, RFC 6749 §2.3.1; ``private_key_jwt`` arrives with the token
endpoint). The answer is ``{"active": false}`` and nothing else (§2.2) for a token that
does not verify, has expired, was issued under a consent grant since withdrawn or expired
(UU PDP Art. 9, 40), or was not issued to the calling client (a client may not scan other
clients' tokens, §4). An active token answers its ``scope``, ``client_id``, ``sub``,
``aud``, ``iss``, ``exp``, ``iat``, ``jti`` and ``token_type``. Responses are
``Cache-Control: no-store`` (§2.2 is silent; the token state may change any time).

Client authentication failures answer 401 ``invalid_client`` with ``WWW-Authenticate:
Basic`` (RFC 6749 §5.2); a missing ``token`` parameter answers 400 ``invalid_request``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from consent.ledger import ConsentLedger
from identity.clients import ClientRegistry
from identity.errors import InvalidClient
from identity.relying_party import InvalidToken, TokenVerifier
from identity.relying_party.key_cache import JwksLoader

log = logging.getLogger(__name__)
router = APIRouter(tags=["OpenID Connect"])

GRANTS_CLAIM = "consent_grants"  # the consent grants an access token was issued under
MAX_TOKEN_CHARS = 8192
_INACTIVE = {"active": False}
_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _basic_credentials(request: Request) -> tuple[str, str]:
    """RFC 7617 Basic credentials; client id and secret are form-urlencoded (RFC 6749
    §2.3.1)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        raise InvalidClient("client authentication is required (HTTP Basic)")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id or not secret:
        raise InvalidClient("malformed Basic credentials")
    return unquote(client_id), unquote(secret)


class Introspector:
    """Decides whether a token is active for the calling client."""

    def __init__(self, *, issuer: str, jwks_loader: JwksLoader, ledger: ConsentLedger) -> None:
        self.issuer = issuer
        self._loader = jwks_loader
        self._ledger = ledger
        self._verifiers: dict[str, TokenVerifier] = {}

    def _verifier(self, client_id: str) -> TokenVerifier:
        verifier = self._verifiers.get(client_id)
        if verifier is None:
            if len(self._verifiers) > 10_000:
                self._verifiers.clear()
            verifier = TokenVerifier(
                issuer=self.issuer,
                audience=client_id,
                jwks_loader=self._loader,
                min_refresh_interval=5.0,
            )
            self._verifiers[client_id] = verifier
        return verifier

    def introspect(self, token: str, client_id: str) -> Mapping[str, Any]:
        try:
            claims = self._verifier(client_id).verify_access_token(token)
        except InvalidToken as exc:
            log.info("introspection: inactive token (%s)", exc.reason.value)
            return _INACTIVE
        if claims.get("client_id") != client_id:
            log.info("introspection: a token of another client")
            return _INACTIVE
        grants = claims.get(GRANTS_CLAIM) or []
        if not isinstance(grants, list) or not all(
            isinstance(g, str) and self._ledger.is_grant_active(g) for g in grants
        ):
            log.info("introspection: inactive token (consent withdrawn or expired)")
            return _INACTIVE
        answer: dict[str, Any] = {
            name: claims[name]
            for name in ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti")
            if name in claims
        }
        return {"active": True, "token_type": "Bearer", **answer}


@router.post("/introspect", summary="Token introspection (RFC 7662)")
async def introspect(request: Request) -> JSONResponse:
    registry: ClientRegistry = request.app.state.clients
    try:
        client_id, secret = _basic_credentials(request)
        app = await registry.authenticate_secret_async(client_id, secret)
    except InvalidClient:
        return JSONResponse(  # RFC 6749 §5.2: the scheme the client used, one opaque error
            {"error": "invalid_client"},
            status_code=401,
            headers={**_HEADERS, "WWW-Authenticate": 'Basic realm="jati"'},
        )
    form = await request.form()
    token = form.get("token")
    if not isinstance(token, str) or not token:
        return JSONResponse(
            {"error": "invalid_request", "error_description": "the token parameter is required"},
            status_code=400,
            headers=_HEADERS,
        )
    if len(token) > MAX_TOKEN_CHARS:
        return JSONResponse(_INACTIVE, headers=_HEADERS)
    introspector: Introspector = request.app.state.introspector
    answer = await asyncio.to_thread(introspector.introspect, token, app.client_id)
    return JSONResponse(dict(answer), headers=_HEADERS)
