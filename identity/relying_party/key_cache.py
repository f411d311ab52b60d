"""The issuer's keys, read through OIDC Discovery and cached, with a rate-limited refresh.

- Discovery (OpenID Connect Discovery 1.0 §4): ``<issuer>/.well-known/openid-configuration``;
  its ``issuer`` must equal the configured issuer exactly (§4.3), and ``jwks_uri`` is read.
- The JWK Set is cached for its ``Cache-Control: max-age`` (clamped to [60 s, 1 day]).
- A token whose ``kid`` is not in the cache triggers at most one refresh per
  ``min_refresh_interval`` (default 60 s), whatever the number of such tokens: random kids
  from an attacker cost one request a minute, not one per token.
- If a refresh fails, the keys already held stay in use (an issuer outage must not lock every
  user out) and the failure is logged; with no keys at all, verification fails with
  ``keys_unavailable``.

Reads of the cache take no lock; a refresh is serialised by one.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from identity.relying_party.errors import InvalidToken, Reason
from identity.relying_party.keys import UnusableKey, VerificationKey, key_set

__all__ = ["DEFAULT_TIMEOUT", "JwksLoader", "KeyCache", "cache_max_age", "discovery_loader"]

log = logging.getLogger(__name__)

_MAX_DOCUMENT_BYTES = 256 * 1024
DEFAULT_TIMEOUT = 5.0
_MIN_MAX_AGE, _MAX_MAX_AGE, _DEFAULT_MAX_AGE = 60.0, 86_400.0, 300.0
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)

#: Loads a JWK Set: returns (the set, seconds it may be cached or None for the default).
JwksLoader = Callable[[], tuple[Mapping[str, Any], float | None]]


def cache_max_age(cache_control: str) -> float | None:
    """The ``max-age`` of a ``Cache-Control`` header (RFC 9111 §5.2.2.1), or None."""
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else None


def _fetch_json(url: str, timeout: float) -> tuple[Any, float | None]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body = response.read(_MAX_DOCUMENT_BYTES + 1)
        cache_control = response.headers.get("Cache-Control", "")
    if len(body) > _MAX_DOCUMENT_BYTES:
        raise ValueError(f"{url} answered more than {_MAX_DOCUMENT_BYTES} bytes")
    return json.loads(body), cache_max_age(cache_control)


def _check_url(url: str, issuer: str) -> None:
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and urlsplit(issuer).scheme == "http"
    )
    if not secure or not parts.hostname:
        raise ValueError("jwks_uri must be an https URL")


def discovery_loader(issuer: str, *, timeout: float = DEFAULT_TIMEOUT) -> JwksLoader:
    """A loader that reads discovery once, then the JWK Set at its ``jwks_uri``."""
    jwks_uri: str | None = None

    def load() -> tuple[Mapping[str, Any], float | None]:
        nonlocal jwks_uri
        if jwks_uri is None:
            metadata, _ = _fetch_json(issuer + "/.well-known/openid-configuration", timeout)
            if not isinstance(metadata, dict) or metadata.get("issuer") != issuer:
                raise ValueError("the discovery document names another issuer")
            uri = metadata.get("jwks_uri")
            if not isinstance(uri, str):
                raise ValueError("the discovery document has no jwks_uri")
            _check_url(uri, issuer)
            jwks_uri = uri
        try:
            document, max_age = _fetch_json(jwks_uri, timeout)
        except Exception:
            jwks_uri = None  # read discovery again next time: the URI may have moved
            raise
        if not isinstance(document, dict):
            raise ValueError("the JWK Set is not a JSON object")
        return document, max_age

    return load


class KeyCache:
    """Verification keys by ``kid``, loaded by ``loader`` and refreshed as described above."""

    def __init__(
        self,
        loader: JwksLoader | None,
        *,
        keys: Mapping[str, VerificationKey] | None = None,
        min_refresh_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loader = loader
        self._keys: Mapping[str, VerificationKey] = dict(keys or {})
        self._expires = float("inf") if loader is None else 0.0
        self._last_attempt = float("-inf")
        self._min_refresh_interval = min_refresh_interval
        self._clock = clock
        self._lock = threading.Lock()
        self.refreshes = 0  # loader calls, for tests and metrics

    def get(self, kid: str) -> VerificationKey:
        """The key for ``kid``; refreshes when the cache is stale or the kid is unknown
        (rate-limited); :class:`InvalidToken` when there is no such key."""
        if self._loader is not None and self._clock() >= self._expires:
            self.refresh(force=False)
        key = self._keys.get(kid)
        if key is None and self._loader is not None:
            self.refresh(force=True)
            key = self._keys.get(kid)
        if key is None:
            if not self._keys:
                raise InvalidToken(Reason.KEYS_UNAVAILABLE, "the issuer's keys cannot be read")
            raise InvalidToken(Reason.UNKNOWN_KEY, "no key of the issuer has this kid")
        return key

    def refresh(self, *, force: bool = True) -> bool:
        """Load the JWK Set unless one was loaded or tried within the rate limit (or, with
        ``force=False``, unless the cache is still fresh). True if new keys were loaded."""
        if self._loader is None:
            return False
        with self._lock:
            now = self._clock()
            if now - self._last_attempt < self._min_refresh_interval:
                return False
            if not force and now < self._expires:
                return False  # another thread refreshed while we waited
            self._last_attempt = now
            self.refreshes += 1
            try:
                document, max_age = self._loader()
                keys = key_set(document)
            except (OSError, ValueError, UnusableKey) as exc:
                log.warning("could not refresh the issuer's JWK Set: %s", type(exc).__name__)
                self._expires = now + self._min_refresh_interval
                return False
            age = _DEFAULT_MAX_AGE if max_age is None else max_age
            self._expires = now + min(max(age, _MIN_MAX_AGE), _MAX_MAX_AGE)
            self._keys = keys
            return True
