"""Client authentication at the token, revocation and introspection endpoints (RFC 6749
§2.3), framework-free.

Three methods, and an app must use the one it registered (``token_endpoint_auth_method``):

- ``client_secret_basic`` (RFC 6749 §2.3.1): HTTP Basic with the form-urlencoded client id
  and secret;
- ``client_secret_post`` (RFC 6749 §2.3.1, OIDC Core §9): ``client_id`` and
  ``client_secret`` in the form body. Both secret methods are checked by
  :meth:`identity.oidc.client_registry.ClientRegistry.authenticate_secret_async` (argon2id,
  the same work for unknown clients, the same throttle, hashing pool and per-worker cache);
  a secret sent the way the app did not register is refused there like a wrong one.
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

Using more than one method at once (a Basic header with a ``client_secret`` or an assertion
in the body, or both of these) is ``invalid_request`` (RFC 6749 §2.3: "MUST NOT use more
than one authentication method in each request"); using none is ``invalid_client``. Every
failure of authentication is one opaque ``invalid_client`` (RFC 6749 §5.2); the reason goes
to the log, never the assertion or the secret.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Callable, Collection, Hashable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Generic, NoReturn, Protocol, TypeVar
from urllib.parse import unquote

from identity.errors import (
    InvalidClient,
    NotFound,
    Overloaded,
    TemporarilyUnavailable,
    Throttled,
    TokenError,
)
from identity.oidc.client_registry import ClientRegistry
from identity.oidc.client_throttle import RefusalDelay
from identity.oidc.clients import RelyingApp, TokenEndpointAuthMethod
from identity.relying_party import InvalidToken, Reason, TokenVerifier
from identity.relying_party.encoding import b64url_decode, json_object
from identity.storage.housekeeping import purge_due

__all__ = [
    "ASSERTION_TYPE",
    "MAX_ASSERTION_LIFETIME",
    "AssertionVerifier",
    "ClientAuthenticator",
    "VerifierCache",
    "basic_credentials",
    "posted_credentials",
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

    Malformed is anything but base64 of UTF-8 ``id:secret`` whose percent-escapes decode
    as UTF-8 to text without a NUL: a header value the server decoded as Latin-1 (bytes
    above 0x7F), base64 of other bytes, ``%FF`` or ``%00`` in a part.

    Raises:
        InvalidClient: not Basic, or malformed.
    """
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise InvalidClient("not HTTP Basic")
    try:
        # binascii.Error, UnicodeDecodeError and the error for a non-ASCII str are all
        # ValueErrors.
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        raw_id, sep, raw_secret = decoded.partition(":")
        client_id = unquote(raw_id, errors="strict")
        secret = unquote(raw_secret, errors="strict")
    except ValueError:
        raise InvalidClient("malformed Basic credentials") from None
    if not sep or not client_id or not secret or "\x00" in client_id + secret:
        raise InvalidClient("malformed Basic credentials")
    return client_id, secret


def posted_credentials(form: Mapping[str, str]) -> tuple[str, str]:
    """``client_secret_post`` credentials: ``client_id`` and ``client_secret`` from the form
    body (RFC 6749 §2.3.1), already percent-decoded by the form parser.

    Malformed is what :func:`basic_credentials` refuses too: a missing or empty part, a NUL,
    or text that is not UTF-8 (a lone surrogate), so that an odd secret is refused before
    any read or hash and never reaches the HMAC or argon2 as something they cannot encode.

    Raises:
        InvalidClient: missing or malformed.
    """
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if not client_id or not secret or "\x00" in client_id + secret:
        raise InvalidClient("malformed client_secret_post credentials")
    try:
        (client_id + secret).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidClient("malformed client_secret_post credentials") from None
    return client_id, secret


K = TypeVar("K", bound=Hashable)


class VerifierCache(Generic[K]):
    """Token verifiers built once per key (an app's keys and audience, an audience) and
    kept, each with its key cache; emptied when it would grow past ``max_entries``."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._max_entries = max_entries
        self._verifiers: dict[K, TokenVerifier] = {}

    def get(self, key: K, build: Callable[[], TokenVerifier]) -> TokenVerifier:
        """The verifier kept for ``key``, or the one ``build`` makes, then kept."""
        verifier = self._verifiers.get(key)
        if verifier is None:
            if len(self._verifiers) > self._max_entries:
                self._verifiers.clear()
            verifier = self._verifiers[key] = build()
        return verifier


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
        self._verifiers: VerifierCache[tuple[str, str, str]] = VerifierCache()

    def _verifier(self, app: RelyingApp, audience: str) -> TokenVerifier:
        key = (app.client_id, audience, json.dumps(app.jwks, sort_keys=True))
        return self._verifiers.get(
            key,
            lambda: TokenVerifier(
                issuer=app.client_id,
                audience=audience,
                jwks=app.jwks,
                leeway=LEEWAY,
                max_token_bytes=MAX_ASSERTION_CHARS,
                clock=self.clock,
            ),
        )

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
        refusals: holds a throttled answer a moment before it is sent
            (:class:`identity.oidc.client_throttle.RefusalDelay`).
    """

    def __init__(
        self,
        *,
        registry: ClientRegistry,
        assertions: AssertionVerifier,
        replay: ReplayStore,
        refusals: RefusalDelay | None = None,
    ) -> None:
        self.registry = registry
        self.assertions = assertions
        self.replay = replay
        self.refusals = refusals if refusals is not None else RefusalDelay()

    async def authenticate(
        self,
        authorization: str | None,
        form: Mapping[str, str],
        *,
        endpoint: str | None = None,
        address: str,
    ) -> RelyingApp:
        """The app authenticated by the request's ``Authorization`` header, its
        ``client_secret`` or its ``client_assertion``; ``address`` is the caller's, for the
        throttle of secret checks (:mod:`identity.oidc.client_throttle`).

        Raises:
            TokenError: ``invalid_client`` for any failure of authentication;
                ``invalid_request`` when more than one method is used;
                :class:`~identity.errors.TemporarilyUnavailable` (429 or 503, with
                ``retry_after``) when the secret was not checked: throttled, or the hashing
                pool is full.
        """
        basic = bool(authorization) and (authorization or "").lower().startswith("basic ")
        assertion = "client_assertion" in form or "client_assertion_type" in form
        secret_post = "client_secret" in form
        if basic + assertion + secret_post > 1:
            raise TokenError("invalid_request", "use exactly one client authentication method")
        try:
            if basic or secret_post:
                if basic:
                    method = TokenEndpointAuthMethod.CLIENT_SECRET_BASIC
                    client_id, secret = basic_credentials(authorization or "")
                    if form.get("client_id", client_id) != client_id:
                        _refuse("client_id differs from the Basic credentials")
                else:
                    method = TokenEndpointAuthMethod.CLIENT_SECRET_POST
                    client_id, secret = posted_credentials(form)
                return await self.registry.authenticate_secret_async(
                    client_id, secret, address=address, method=method
                )
            if assertion:
                return await asyncio.to_thread(self._by_assertion, form, endpoint)
        except InvalidClient:
            raise TokenError("invalid_client", "client authentication failed") from None
        except Overloaded as exc:
            raise TemporarilyUnavailable(
                "the service is busy; retry later", status=503, retry_after=exc.retry_after
            ) from None
        except Throttled as exc:
            await self.refusals.hold()  # a tarpit for callers that retry at once
            raise TemporarilyUnavailable(
                "too many failed client authentications; retry later",
                status=429,
                retry_after=exc.retry_after,
            ) from None
        log.info("client authentication failed: no client authentication")
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
