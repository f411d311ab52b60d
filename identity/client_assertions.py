"""Client authentication at the token, revocation and introspection endpoints (RFC 6749
§2.3), framework-free.

Two methods, and an app must use the one it registered (``token_endpoint_auth_method``):

- ``client_secret_basic`` (RFC 6749 §2.3.1): HTTP Basic with the form-urlencoded client id
  and secret, checked by :meth:`identity.clients.ClientRegistry.authenticate_secret_async`
  (argon2id, the same work for unknown clients).
- ``private_key_jwt`` (OIDC Core §9, RFC 7523 §2.2 and §3): ``client_assertion_type`` =
  ``urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and a ``client_assertion`` JWT
  signed with a key of the app's registered JWK Set. The assertion is verified with the
  relying-party SDK's strict JWS code (:class:`identity.relying_party.TokenVerifier`: size
  limit, canonical base64url, JSON without duplicate names, ``alg`` in {EdDSA, Ed25519,
  ES256} and bound to the key, ``kid`` from the app's JWKS only, ``jku``/``x5u``/``jwk``/
  ``crit`` refused, ``typ`` absent or ``JWT``), then RFC 7523 §3:

  1. ``iss`` and ``sub`` are both the client id (items 1-2);
  2. ``aud`` is Jati's issuer, its token endpoint or the endpoint called (item 3);
  3. ``exp`` is present and at most 5 minutes ahead (item 4; a long-lived assertion is a
     long-lived credential), ``iat`` present and not in the future (item 6), with 30 s of
     clock skew;
  4. ``jti`` is present and never seen before from this client (item 7): each one is kept
     until its ``exp``, so a captured assertion cannot be replayed.

Using both methods at once, or neither, or ``client_secret_post``, is refused (RFC 6749
§2.3: "MUST NOT use more than one authentication method in each request"). Every failure is
one opaque ``invalid_client`` (RFC 6749 §5.2); the reason goes to the log, never the
assertion or the secret.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, NoReturn, Protocol
from urllib.parse import unquote

from identity.clients import ClientRegistry, RelyingApp, TokenEndpointAuthMethod
from identity.errors import InvalidClient, NotFound, TokenError
from identity.housekeeping import purge_due
from identity.relying_party import InvalidToken, Reason, TokenVerifier
from identity.relying_party.encoding import b64url_decode, json_object

__all__ = [
    "ASSERTION_TYPE",
    "MAX_ASSERTION_LIFETIME",
    "AssertionVerifier",
    "ClientAuthenticator",
    "basic_credentials",
    "unverified_claims",
]

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 300  # seconds between now and exp
MAX_ASSERTION_CHARS = 8192
MAX_JTI_CHARS = 256
LEEWAY = 30.0


class ReplayTransaction(Protocol):
    def remember_assertion(self, client_id: str, jti: str, *, expires_at: datetime) -> bool: ...
    def purge_revocations(self, now: datetime) -> int: ...


class ReplayStore(Protocol):
    def write(self) -> AbstractContextManager[ReplayTransaction]: ...


def basic_credentials(authorization: str) -> tuple[str, str]:
    """RFC 7617 Basic credentials whose parts are form-urlencoded (RFC 6749 §2.3.1).

    Raises:
        InvalidClient: not Basic, or malformed.
    """
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise InvalidClient("not HTTP Basic")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id or not secret:
        raise InvalidClient("malformed Basic credentials")
    return unquote(client_id), unquote(secret)


def unverified_claims(assertion: str) -> dict[str, Any]:
    """The claims of a compact JWS before verification, only to find which client's keys to
    verify it with (strict decoding; nothing here is trusted)."""
    parts = assertion.split(".")
    if len(parts) != 3:
        raise InvalidToken(Reason.MALFORMED, "not a compact JWS")
    return json_object(b64url_decode(parts[1]), "JWT claims set")


class AssertionVerifier:
    """Verifies ``private_key_jwt`` client assertions (RFC 7523 §3) for registered apps.

    Args:
        issuer: Jati's issuer (an accepted ``aud``, with its token endpoint).
        token_endpoint: the token endpoint URL.
        clock: seconds since the epoch.
    """

    def __init__(
        self, *, issuer: str, token_endpoint: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.issuer = issuer
        self.token_endpoint = token_endpoint
        self.clock = clock
        self._verifiers: dict[tuple[str, str, str], TokenVerifier] = {}

    def _verifier(self, app: RelyingApp, audience: str) -> TokenVerifier:
        jwks = json.dumps(app.jwks, sort_keys=True)
        key = (app.client_id, audience, jwks)
        verifier = self._verifiers.get(key)
        if verifier is None:
            if len(self._verifiers) > 10_000:
                self._verifiers.clear()
            verifier = TokenVerifier(
                issuer=app.client_id,
                audience=audience,
                jwks=app.jwks,
                leeway=LEEWAY,
                max_token_bytes=MAX_ASSERTION_CHARS,
                clock=self.clock,
            )
            self._verifiers[key] = verifier
        return verifier

    def verify(
        self, app: RelyingApp, assertion: str, *, endpoint: str | None = None
    ) -> tuple[str, int]:
        """The assertion's ``jti`` and ``exp`` if it authenticates ``app``.

        Raises:
            InvalidClient: any check failed (the reason is logged).
        """
        if app.token_endpoint_auth_method is not TokenEndpointAuthMethod.PRIVATE_KEY_JWT:
            _refuse(f"{app.client_id} authenticates with {app.token_endpoint_auth_method}")
        audiences: Collection[str] = dict.fromkeys(
            a for a in (self.token_endpoint, self.issuer, endpoint) if a
        )
        claims: dict[str, Any] | None = None
        for audience in audiences:
            try:
                claims = self._verifier(app, audience).verify_id_token(assertion)
                break
            except InvalidToken as exc:
                if exc.reason is not Reason.WRONG_AUDIENCE:
                    _refuse(f"client assertion of {app.client_id}: {exc.reason.value}")
        if claims is None:
            _refuse(f"client assertion of {app.client_id}: wrong_audience")
        if claims.get("sub") != app.client_id:
            _refuse(f"client assertion of {app.client_id}: sub is not the client id")
        jti = claims.get("jti")
        if type(jti) is not str or not jti or len(jti) > MAX_JTI_CHARS:
            _refuse(f"client assertion of {app.client_id}: jti missing or too long")
        exp = claims["exp"]  # the verifier checked it is a number in the future
        if exp > self.clock() + MAX_ASSERTION_LIFETIME + LEEWAY:
            _refuse(f"client assertion of {app.client_id}: exp too far ahead")
        return jti, int(exp)


def _refuse(reason: str) -> NoReturn:
    log.info("client authentication failed: %s", reason)
    raise InvalidClient("invalid client credentials")


class ClientAuthenticator:
    """Authenticates the calling client of a back-channel endpoint.

    Args:
        registry: the client registry (apps and the secret check).
        assertions: verifies ``private_key_jwt`` assertions.
        replay: where assertion ``jti`` values are remembered until they expire.
    """

    def __init__(
        self, *, registry: ClientRegistry, assertions: AssertionVerifier, replay: ReplayStore
    ) -> None:
        self.registry = registry
        self.assertions = assertions
        self.replay = replay

    async def authenticate(
        self, authorization: str | None, form: Mapping[str, str], *, endpoint: str | None = None
    ) -> RelyingApp:
        """The app authenticated by the request's ``Authorization`` header or its
        ``client_assertion``.

        Raises:
            TokenError: ``invalid_client`` for any failure of authentication;
                ``invalid_request`` when more than one method is used.
        """
        basic = bool(authorization) and (authorization or "").lower().startswith("basic ")
        assertion = "client_assertion" in form or "client_assertion_type" in form
        secret_post = "client_secret" in form
        if basic + assertion + secret_post > 1:
            raise TokenError("invalid_request", "use exactly one client authentication method")
        try:
            if basic:
                client_id, secret = basic_credentials(authorization or "")
                if form.get("client_id", client_id) != client_id:
                    _refuse("client_id differs from the Basic credentials")
                return await self.registry.authenticate_secret_async(client_id, secret)
            if assertion:
                return await asyncio.to_thread(self._by_assertion, form, endpoint)
        except InvalidClient:
            raise TokenError("invalid_client", "client authentication failed") from None
        if secret_post:
            log.info("client authentication failed: client_secret_post is not supported")
        raise TokenError("invalid_client", "client authentication failed")

    def _by_assertion(self, form: Mapping[str, str], endpoint: str | None) -> RelyingApp:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            _refuse("unsupported client_assertion_type")
        assertion = form.get("client_assertion", "")
        if not assertion or len(assertion) > MAX_ASSERTION_CHARS:
            _refuse("client_assertion missing or too large")
        try:
            unverified = unverified_claims(assertion)
        except InvalidToken:
            _refuse("malformed client assertion")
        client_id = unverified.get("sub")
        if type(client_id) is not str or not client_id:
            _refuse("client assertion without sub")
        if form.get("client_id", client_id) != client_id:
            _refuse("client_id differs from the assertion")
        try:
            app = self.registry.get(client_id)
        except NotFound:
            _refuse("client assertion for an unknown client")
        jti, exp = self.assertions.verify(app, assertion, endpoint=endpoint)
        now = datetime.fromtimestamp(self.assertions.clock(), UTC)
        with self.replay.write() as tx:
            if purge_due():
                tx.purge_revocations(now)
            fresh = tx.remember_assertion(
                app.client_id, jti, expires_at=datetime.fromtimestamp(exp + LEEWAY, UTC)
            )
        if not fresh:
            _refuse(f"client assertion of {app.client_id}: jti replayed")
        return app
