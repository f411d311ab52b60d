"""The client registry: registers relying apps and authenticates them by secret
(framework-free).

Client authentication at the token endpoint (RFC 6749 §2.3; ``private_key_jwt`` is
:mod:`identity.oidc.client_auth`'s, against the JWK Set of :mod:`identity.oidc.client_jwks`):

- ``client_secret_basic`` (RFC 6749 §2.3.1; RFC 7591 §2's default) and ``client_secret_post``
  (the secret in the form body, RFC 6749 §2.3.1, OIDC Core §9): a 256-bit random secret,
  shown once and stored only as an argon2id hash
  (:class:`identity.citizens.passwords.PasswordService`);
  :meth:`ClientRegistry.authenticate_secret` checks it in the same shape for unknown and known
  apps and answers one opaque :class:`~identity.errors.InvalidClient`, also when the secret
  came by the other of the two ways (an app uses the one it registered); a secret verified in
  the last minute is answered from memory (:mod:`identity.oidc.client_secret_cache`); any other
  attempt is throttled per client id and per address before its hash
  (:mod:`identity.oidc.client_throttle`), and hashed on the bounded hashing pool. Both ways alike.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, Required, TypedDict, Unpack

from identity.citizens.passwords import PasswordService, Verification
from identity.errors import InvalidClient, InvalidClientMetadata, NotFound, Overloaded
from identity.login.throttle import AttemptKeys
from identity.oidc.client_metadata import (
    new_relying_app,
    replacement_redirect_uris,
    validate_client_secret,
)
from identity.oidc.client_secret_cache import VerifiedSecrets
from identity.oidc.client_throttle import ClientAuthThrottle
from identity.oidc.clients import (
    GrantType,
    Purpose,
    RelyingApp,
    TokenEndpointAuthMethod,
    quoted,
)

__all__ = [
    "ClientRegistry",
    "ClientStore",
    "Registration",
    "RegistrationMetadata",
    "generate_client_id",
    "generate_client_secret",
]

log = logging.getLogger(__name__)

MAX_CLIENT_ID_LENGTH = 128
_CLIENT_ID = re.compile(rf"[A-Za-z0-9._~-]{{1,{MAX_CLIENT_ID_LENGTH}}}")


def generate_client_id() -> str:
    """160 random bits, lower-case base32: opaque, URL-safe (RFC 6749 §2.2), and a valid
    audit actor id."""
    return base64.b32encode(secrets.token_bytes(20)).decode().lower()


def generate_client_secret() -> str:
    """256 random bits, base64url (43 characters)."""
    return secrets.token_urlsafe(32)


class RegistrationMetadata(TypedDict, total=False):
    """The metadata :meth:`ClientRegistry.register` takes: the keywords of
    :func:`~identity.oidc.client_metadata.new_relying_app` (which checks them) but
    ``client_id`` and ``created_at``."""

    name: Required[str]
    scope: Required[str | Iterable[str]]
    redirect_uris: Sequence[str]
    grant_type: GrantType | str
    sector_identifier: str | None
    jwks: Mapping[str, Any] | None
    purposes: Iterable[Purpose | str]
    claims: str | Iterable[str] | None
    id_token_signed_response_alg: str | None
    token_endpoint_auth_method: TokenEndpointAuthMethod | str | None


@dataclass(frozen=True, slots=True)
class Registration:
    """What :meth:`ClientRegistry.register` returns: the app, and the secret it generated.

    ``client_secret`` is set only when Jati generated it: show it to the operator once; only
    its hash is kept.
    """

    app: RelyingApp
    client_secret: str | None = field(default=None, repr=False)


class ClientStore(Protocol):
    """Where registered apps live (:class:`identity.storage.clients.SqlClientStore`)."""

    def add(self, app: RelyingApp, *, secret_hash: str | None) -> None: ...

    def get(self, client_id: str) -> RelyingApp | None: ...

    def get_with_secret_hash(self, client_id: str) -> tuple[RelyingApp, str | None] | None: ...

    def list(self) -> builtins.list[RelyingApp]: ...

    def replace_secret_hash(self, client_id: str, secret_hash: str) -> None: ...

    def replace_redirect_uris(self, client_id: str, redirect_uris: Sequence[str]) -> None: ...

    def set_disabled(self, client_id: str, at: datetime | None) -> None:
        """Disable the app at ``at`` (and revoke its refresh-token families in the same
        transaction), or put it back in service with None."""
        ...


@dataclass(frozen=True, slots=True)
class _SecretAttempt:
    """A secret check between its reservation and its outcome (the hash runs between)."""

    client_id: str
    method: TokenEndpointAuthMethod
    address: str | None
    keys: AttemptKeys | None
    now: datetime
    well_formed: bool
    app: RelyingApp | None
    stored_hash: str | None = field(repr=False)


class ClientRegistry:
    """Registers relying apps and authenticates them by secret.

    Args:
        store: where apps are kept.
        passwords: argon2id hashing for client secrets (the same profiles as passwords).
        clock: returns the current UTC time; read once per registration.
        verified_secrets: secrets verified a moment ago, answered from memory
            (:mod:`identity.oidc.client_secret_cache`; by default for
            :data:`~identity.oidc.client_secret_cache.SECRET_CACHE_TTL` seconds, ``ttl=0`` to
            verify every time).
        throttle: counts secret checks per client id and per address before their hash
            (:mod:`identity.oidc.client_throttle`); None only for operator tools and tests.
    """

    def __init__(
        self,
        *,
        store: ClientStore,
        passwords: PasswordService,
        clock: Callable[[], datetime],
        verified_secrets: VerifiedSecrets[RelyingApp] | None = None,
        throttle: ClientAuthThrottle | None = None,
    ) -> None:
        self.store = store
        self.passwords = passwords
        self.clock = clock
        self.verified_secrets: VerifiedSecrets[RelyingApp] = (
            verified_secrets if verified_secrets is not None else VerifiedSecrets()
        )
        self.throttle = throttle

    def register(
        self, *, client_secret: str | None = None, **metadata: Unpack[RegistrationMetadata]
    ) -> Registration:
        """Validate and store a new app; nothing is stored when any check fails.

        ``metadata`` are :func:`new_relying_app`'s keywords but the id and the time, which
        the registry gives. Authentication (``token_endpoint_auth_method``, by default
        implied): ``jwks`` -> ``private_key_jwt``; otherwise ``client_secret_basic`` (or
        ``client_secret_post`` when asked for) with ``client_secret`` (operator-supplied, not
        echoed back) or, when None, a generated 256-bit secret returned once in
        :attr:`Registration.client_secret`.

        Raises:
            InvalidClientMetadata: see :func:`new_relying_app` and
                :func:`validate_client_secret`; also when ``client_secret`` is given with
                ``jwks`` or with ``private_key_jwt``.
        """
        if client_secret is not None and (
            metadata.get("jwks") is not None
            or metadata.get("token_endpoint_auth_method") == TokenEndpointAuthMethod.PRIVATE_KEY_JWT
        ):
            raise InvalidClientMetadata(
                "choose one authentication: a JWKS (private_key_jwt) or a client secret"
            )
        app = new_relying_app(client_id=generate_client_id(), created_at=self.clock(), **metadata)
        generated: str | None = None
        secret_hash: str | None = None
        if app.token_endpoint_auth_method.uses_secret:
            if client_secret is None:
                generated = client_secret = generate_client_secret()
            secret_hash = self.passwords.hash(validate_client_secret(client_secret))
        self.store.add(app, secret_hash=secret_hash)
        log.debug(
            "relying app registered: %s (%s, %s)",
            app.client_id,
            app.grant_types[0].value,
            app.token_endpoint_auth_method.value,
        )
        return Registration(app=app, client_secret=generated)

    def rotate_secret(self, client_id: str) -> str:
        """A new generated secret for an app that authenticates with one, returned once;
        only its hash is kept. The old secret stops working at once, or within the secret
        cache's minute on a worker that verified it just before.

        Raises:
            NotFound: no such app.
            InvalidClientMetadata: the app authenticates without a secret (``private_key_jwt``).
        """
        app = self.found(client_id)
        if not app.token_endpoint_auth_method.uses_secret:
            raise InvalidClientMetadata("this app authenticates with its keys, not a secret")
        secret = generate_client_secret()
        self.store.replace_secret_hash(app.client_id, self.passwords.hash(secret))
        log.info("relying app secret rotated: %s", app.client_id)
        return secret

    def replace_redirect_uris(self, client_id: str, redirect_uris: Sequence[str]) -> RelyingApp:
        """Replace an app's redirect URIs, checked as at registration
        (:func:`~identity.oidc.client_metadata.replacement_redirect_uris`); its sector and so
        its citizens' pairwise ``sub`` stay. A pending authorization whose URI is no longer
        registered fails when it comes back (the URI is compared again at the token endpoint).

        Raises:
            NotFound: no such app (a disabled one included: it can still be edited).
            InvalidRedirectUri: the list refused; nothing changes.
        """
        app = self.find(client_id)
        if app is None:
            raise NotFound(f"no relying app with client_id {quoted(client_id)}")
        uris = replacement_redirect_uris(app, redirect_uris)
        self.store.replace_redirect_uris(app.client_id, uris)
        log.info("relying app redirect URIs replaced: %s (%d)", app.client_id, len(uris))
        return self.found(app.client_id)

    def disable(self, client_id: str) -> RelyingApp:
        """Take an app out of service at once: from then on every protocol path treats it as
        unknown (authorization, the token endpoint, userinfo, introspection, logout), its
        refresh tokens are revoked in the same transaction, and this worker forgets its
        verified secret (another worker's memory of it lasts at most the cache's minute).
        Its registration, purposes and consents are kept; disabling twice keeps the first
        time.

        Raises:
            NotFound: no such app.
        """
        app = self.found(client_id)
        if app.active:
            self.store.set_disabled(app.client_id, self.clock())
            log.info("relying app disabled: %s", app.client_id)
        self.verified_secrets.forget(app.client_id)
        return self.found(app.client_id)

    def enable(self, client_id: str) -> RelyingApp:
        """Put a disabled app back in service (its revoked refresh tokens stay revoked).

        Raises:
            NotFound: no such app.
        """
        app = self.found(client_id)
        if not app.active:
            self.store.set_disabled(app.client_id, None)
            log.info("relying app enabled: %s", app.client_id)
        return self.found(app.client_id)

    def exists(self, client_id: str) -> bool:
        """Whether an app with ``client_id`` is registered (in service or disabled)."""
        return self.find(client_id) is not None

    def find(self, client_id: str) -> RelyingApp | None:
        """The registered app with ``client_id``, disabled or not (for the console, and to
        name an app in a citizen's log); None if there is none."""
        return self.store.get(client_id) if _CLIENT_ID.fullmatch(client_id) else None

    def get(self, client_id: str) -> RelyingApp:
        """The app with ``client_id``, in service: every protocol path asks here.

        Raises:
            NotFound: no such app, or it is disabled (the same answer).
        """
        app = self.find(client_id)
        if app is None or not app.active:
            raise NotFound(f"no relying app with client_id {quoted(client_id)}")
        return app

    def found(self, client_id: str) -> RelyingApp:
        """The registered app with ``client_id``, disabled or not.

        Raises:
            NotFound: no such app.
        """
        app = self.find(client_id)
        if app is None:
            raise NotFound(f"no relying app with client_id {quoted(client_id)}")
        return app

    def authenticate_secret(
        self,
        client_id: str,
        client_secret: str,
        *,
        address: str | None = None,
        method: TokenEndpointAuthMethod = TokenEndpointAuthMethod.CLIENT_SECRET_BASIC,
    ) -> RelyingApp:
        """RFC 6749 §2.3.1: the app whose secret this is, sent the way ``method`` says
        (``client_secret_basic``: the Authorization header; ``client_secret_post``: the form
        body).

        Unknown apps, apps registered for another method (``private_key_jwt``, or the other
        of the two secret methods: an app sends its secret only the way it registered,
        RFC 6749 §2.3) and wrong secrets all cost one database read and one argon2
        verification (against a dummy hash when there is no stored one) and all raise the
        same :class:`~identity.errors.InvalidClient`; the reason is logged, never the
        secret. A hash made with older parameters is replaced (rehash on success). A secret
        verified less than a minute ago (the cache's ``ttl``) by the same method is answered
        from memory (:mod:`identity.oidc.client_secret_cache`: an HMAC under a process-random
        key, compared in constant time; a secret rotated away in the database works at most
        that much longer). Any other attempt from ``address`` is first counted per client id
        and per address (:mod:`identity.oidc.client_throttle`); without an address (operator
        tools) it is not.

        Raises:
            InvalidClient: any reason, one answer.
            Throttled: the client id or the address is locked; nothing was hashed.

        Danger: argon2 takes tens of milliseconds; from async code use
        :meth:`authenticate_secret_async`.
        """
        cached = self._cached(client_id, client_secret, method)
        if cached is not None:
            return cached
        attempt = self._begin(client_id, method, address, self._keys(client_id, address))
        verification = self.passwords.verify(attempt.stored_hash, client_secret)
        return self._settle(attempt, client_secret, verification)

    async def authenticate_secret_async(
        self,
        client_id: str,
        client_secret: str,
        *,
        address: str,
        method: TokenEndpointAuthMethod = TokenEndpointAuthMethod.CLIENT_SECRET_BASIC,
    ) -> RelyingApp:
        """:meth:`authenticate_secret` off the event loop. A secret verified a moment ago is
        answered at once (an HMAC and a dictionary look-up: no database, no throttle); a
        client id or address this worker knows to be locked is refused at once too. Anything
        else reserves its attempt and reads the app in a worker thread, hashes on the bounded
        hashing pool, and records the outcome in a worker thread.

        Raises:
            InvalidClient; Throttled (no hash); Overloaded: the hashing pool is full (the
                attempt is not counted).
        """
        cached = self._cached(client_id, client_secret, method)
        if cached is not None:
            return cached
        keys = self._keys(client_id, address)
        if self.throttle is not None and keys is not None:
            self.throttle.check_remembered(keys, now=self.clock())
        attempt = await asyncio.to_thread(self._begin, client_id, method, address, keys)
        try:
            verification = await self.passwords.verify_async(attempt.stored_hash, client_secret)
        except Overloaded:
            await asyncio.to_thread(self._cancel, attempt)
            raise
        return await asyncio.to_thread(self._settle, attempt, client_secret, verification)

    def _cached(
        self, client_id: str, client_secret: str, method: TokenEndpointAuthMethod
    ) -> RelyingApp | None:
        """The app a moment ago verified with this secret, if it registered ``method`` (the
        other way of sending it takes the full, counted path, and fails there)."""
        if _CLIENT_ID.fullmatch(client_id) is None:
            return None
        app = self.verified_secrets.app_for(client_id, client_secret)
        if app is None or app.token_endpoint_auth_method is not method:
            return None
        return app

    def _keys(self, client_id: str, address: str | None) -> AttemptKeys | None:
        if self.throttle is None or address is None:
            return None
        return self.throttle.keys(client_id, address, now=self.clock())

    def _begin(
        self,
        client_id: str,
        method: TokenEndpointAuthMethod,
        address: str | None,
        keys: AttemptKeys | None,
    ) -> _SecretAttempt:
        """Reserve the attempt (raises Throttled before any hash), then read the app."""
        now = self.clock()
        if self.throttle is not None and keys is not None:
            self.throttle.reserve(keys, now=now)
        well_formed = _CLIENT_ID.fullmatch(client_id) is not None
        found = self.store.get_with_secret_hash(client_id) if well_formed else None
        app, stored_hash = found if found is not None else (None, None)
        return _SecretAttempt(client_id, method, address, keys, now, well_formed, app, stored_hash)

    def _cancel(self, attempt: _SecretAttempt) -> None:
        """Give a reserved attempt back: its hash was refused (the hashing pool was full)."""
        if self.throttle is not None and attempt.keys is not None:
            self.throttle.cancelled(attempt.keys, now=attempt.now)

    def _settle(
        self, attempt: _SecretAttempt, client_secret: str, verification: Verification
    ) -> RelyingApp:
        """Count the outcome; on success store a rehash and remember the secret."""
        app, stored_hash = attempt.app, attempt.stored_hash
        counted = self.throttle is not None and attempt.keys is not None
        other_method = app is not None and app.token_endpoint_auth_method is not attempt.method
        disabled = app is not None and not app.active
        if app is None or stored_hash is None or other_method or disabled or not verification.ok:
            if not attempt.well_formed:
                reason = "malformed client_id"
            elif app is None:
                reason = "unknown client_id"
            elif disabled:
                reason = f"{app.client_id} is disabled"
            elif stored_hash is None or other_method:
                reason = (
                    f"{app.client_id} authenticates with {app.token_endpoint_auth_method},"
                    f" not {attempt.method}"
                )
            else:
                reason = f"wrong secret for {app.client_id}"
            log.info("client authentication failed: %s", reason)
            if counted:
                assert self.throttle is not None and attempt.keys is not None
                self.throttle.failed(attempt.keys, now=attempt.now)
            raise InvalidClient("invalid client credentials")
        if verification.new_hash is not None:
            self.store.replace_secret_hash(app.client_id, verification.new_hash)
        if counted:
            assert self.throttle is not None and attempt.keys is not None
            assert attempt.address is not None
            self.throttle.succeeded(
                attempt.client_id, attempt.address, attempt.keys, now=attempt.now
            )
        self.verified_secrets.remember(app.client_id, client_secret, app)
        return app

    def list(self) -> builtins.list[RelyingApp]:
        """Every registered app, oldest first (no secrets: apps never carry them)."""
        return self.store.list()
