"""Token Status Lists for relying apps: fetch, verify, cache and read an issuer's lists.

``StatusListCache(issuer=..., keys=...).status(uri, idx)`` answers the status value (§7:
0 VALID, 1 INVALID, 2 SUSPENDED, 3 application specific) of entry ``idx`` of the list at
``uri``, following draft-ietf-oauth-status-list §8.3:

1. The ``uri`` must be on the issuer's own origin (scheme, host and port of ``issuer``):
   a credential could otherwise make this app fetch any URL (server-side request forgery),
   and a list signed by the issuer but served from elsewhere is not what Jati issues. The
   default loader also insists on https (plain http only to a loopback address), sends
   ``Accept: application/statuslist+jwt`` (§8.1), follows redirects only within that origin
   (§11.4), reads at most 8 MiB, and wants the ``application/statuslist+jwt`` content type
   back (§8.2).
2. The Status List Token is a JWT checked like every token of this SDK (RFC 8725): size
   first; compact JWS; ``alg`` in the allow-list; ``kid`` present; ``jku``, ``x5u``, ``jwk``,
   ``x5c``, ``crit``, ... refused; ``typ`` exactly ``statuslist+jwt`` (§5.1); the signature
   by one of the issuer's keys (the :class:`KeyCache` shared with the token verifier).
3. Claims (§5.1, §8.3 step 4): ``sub`` equal to ``uri``; ``iss``, if present, equal to the
   issuer (the draft no longer requires ``iss``; Jati sets it); ``iat`` a number not in the
   future; ``exp``, if present, not passed; ``ttl``, if present, a positive number;
   ``status_list`` with ``bits`` in {1, 2, 4, 8} and ``lst``, inflated with a bound of
   :data:`MAX_LIST_BYTES` (a few kilobytes of ``lst`` cannot become gigabytes).
4. The decoded list is cached per ``uri`` for ``min(ttl, HTTP max-age, exp - now)`` (§13.7,
   capped at a day; 5 minutes when the token names none), then fetched
   again. §8.2 gives ``exp`` and ``ttl`` priority over HTTP caching headers: a longer
   max-age never extends them; a shorter one is honoured, since it only makes the list
   fresher.
5. Fail closed: a list that cannot be fetched or verified raises
   ``InvalidToken(Reason.STATUS_UNAVAILABLE)`` (the app must not accept a credential whose
   status it cannot know), and a failed fetch is not retried for
   :data:`RETRY_AFTER_FAILURE` seconds (an issuer outage costs one request per list per
   interval, not one per presentation). An index outside the list raises
   ``InvalidToken(Reason.INVALID_CLAIM)`` (§8.3 step 6).

A lookup in a list already held is a dictionary read, a clock read and a shift: O(1).
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from identity.relying_party.encoding import b64url_decode, check_issuer, json_object
from identity.relying_party.errors import InvalidToken, Reason
from identity.relying_party.inflate import InflateFailure, NotOneZlibStream, inflate_bounded
from identity.relying_party.jose_header import compact_dots, parse_header
from identity.relying_party.key_cache import DEFAULT_TIMEOUT, KeyCache, cache_max_age

__all__ = [
    "MAX_LIST_BYTES",
    "RETRY_AFTER_FAILURE",
    "StatusListCache",
    "StatusListLoader",
    "status_list_loader",
]

log = logging.getLogger(__name__)

#: uri -> (the compact Status List Token, HTTP max-age in seconds or None).
StatusListLoader = Callable[[str], tuple[str, float | None]]

_STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
_STATUS_LIST_TYPES = frozenset({"statuslist+jwt", _STATUS_LIST_MEDIA_TYPE})
_ALLOWED_BITS = frozenset({1, 2, 4, 8})
#: Largest Status List Token accepted (a 2**24-entry list, 2 bits, random: ~5.6 MB).
_MAX_TOKEN_BYTES = 8 * 1024 * 1024
#: Largest inflated list accepted: 16 MiB, 2**26 entries of 2 bits.
MAX_LIST_BYTES = 16 * 1024 * 1024
_DEFAULT_CACHE_SECONDS = 300.0
_MIN_CACHE_SECONDS = 1.0
_MAX_CACHE_SECONDS = 86_400.0
RETRY_AFTER_FAILURE = 5.0
_MAX_LISTS = 1024
_NUMBER = (int, float)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port  # ValueError for a malformed port
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port or default


def _same_origin(uri: str, issuer: str) -> bool:
    try:
        parts = urlsplit(uri)
        if parts.username is not None or parts.password is not None or parts.fragment:
            return False
        return bool(parts.hostname) and _origin(uri) == _origin(issuer)
    except ValueError:
        return False


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_transport(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
        return
    raise ValueError("a status list is fetched over https (plain http only on loopback)")


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only within the origin of the first URL (draft §11.4)."""

    def __init__(self, origin_url: str) -> None:
        self._origin_url = origin_url

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if not _same_origin(newurl, self._origin_url):
            raise urllib.error.HTTPError(newurl, code, "redirect to another origin", headers, fp)
        _check_transport(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _fetch(uri: str, timeout: float) -> tuple[str, float | None]:
    _check_transport(uri)
    opener = urllib.request.build_opener(_SameOriginRedirects(uri))
    request = urllib.request.Request(uri, headers={"Accept": _STATUS_LIST_MEDIA_TYPE})  # noqa: S310
    with opener.open(request, timeout=timeout) as response:
        content_type = response.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != _STATUS_LIST_MEDIA_TYPE:
            raise ValueError("the status list answer is not application/statuslist+jwt")
        body = response.read(_MAX_TOKEN_BYTES + 1)
        cache_control = response.headers.get("Cache-Control", "")
    if len(body) > _MAX_TOKEN_BYTES:
        raise ValueError(f"the status list answer is over {_MAX_TOKEN_BYTES} bytes")
    try:
        token = body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise ValueError("the status list answer is not a compact JWS") from None
    return token, cache_max_age(cache_control)


def status_list_loader(*, timeout: float = DEFAULT_TIMEOUT) -> StatusListLoader:
    """The default loader: HTTP(S) GET as described in the module docstring."""

    def load(uri: str) -> tuple[str, float | None]:
        return _fetch(uri, timeout)

    return load


#: A decoded list as held: (bytes, bits, mask, size, refresh_at). A plain tuple, unpacked in
#: one step on the hot path (faster than attribute reads).
_List = tuple[bytes, int, int, int, float]


def _unavailable(message: str) -> InvalidToken:
    return InvalidToken(Reason.STATUS_UNAVAILABLE, message)


def _header(segment: str) -> tuple[str, str]:
    """(alg, kid) of a Status List Token's JOSE header: the checks of every JWS here
    (:func:`parse_header`), ``typ`` exactly ``statuslist+jwt`` (§5.1)."""
    try:
        alg, kid, typ = parse_header(segment)
    except InvalidToken as exc:
        raise _unavailable(f"status list: {exc}") from None
    if typ not in _STATUS_LIST_TYPES:
        raise _unavailable("status list: typ is not statuslist+jwt")
    return alg, kid


_INFLATE_FAILURES = {
    InflateFailure.NOT_ZLIB: "status list: lst is not a ZLIB stream",
    InflateFailure.TOO_LARGE: f"status list: lst inflates to over {MAX_LIST_BYTES} bytes",
    InflateFailure.TRUNCATED: "status list: lst is not one complete ZLIB stream",
    InflateFailure.TRAILING_DATA: "status list: lst is not one complete ZLIB stream",
}


def _inflate(lst: object, bits: int) -> bytes:
    if type(lst) is not str or not lst:
        raise _unavailable("status list: lst is not a string")
    compressed = b64url_decode(lst)
    try:
        data = inflate_bounded(compressed, MAX_LIST_BYTES)  # the ZLIB format (RFC 1950) only
    except NotOneZlibStream as exc:
        raise _unavailable(_INFLATE_FAILURES[exc.failure]) from None
    if not data:
        raise _unavailable("status list: lst holds no entries")
    return data


class StatusListCache:
    """Status values of an issuer's Token Status Lists, verified and cached per ``ttl``.

    Args:
        issuer: the issuer URL (no trailing slash); lists are read only on its origin and
            verified with its keys.
        keys: the issuer's keys (the :class:`KeyCache` of a ``TokenVerifier``).
        loader: where a list comes from: ``uri -> (token, max-age)``; default HTTP(S).
        timeout: seconds for each HTTP request of the default loader.
        clock: seconds since the epoch (tests inject one).
        leeway: seconds of clock skew allowed on ``iat`` and ``exp``.
    """

    def __init__(
        self,
        *,
        issuer: str,
        keys: KeyCache,
        loader: StatusListLoader | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
        leeway: float = 30.0,
    ) -> None:
        check_issuer(issuer)
        if not 0 <= leeway <= 300:
            raise ValueError("leeway is between 0 and 300 seconds")
        self.issuer = issuer
        self.keys = keys
        self._load = loader or status_list_loader(timeout=timeout)
        self._clock = clock
        self.leeway = leeway
        self._lists: dict[str, _List] = {}
        self._failed_until: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.fetches = 0  # loader calls, for tests and metrics

    def status(self, uri: str, idx: int) -> int:
        """The status value of entry ``idx`` of the list at ``uri`` (draft §8.3).

        Raises:
            InvalidToken: ``status_unavailable`` if the list cannot be read or verified;
                ``invalid_claim`` for an index that is not a non-negative integer within
                the list.
        """
        found = self._lists.get(uri)
        if found is None or self._clock() >= found[4]:
            found = self._refresh(uri)
        data, bits, mask, size, _ = found
        if type(idx) is not int or not 0 <= idx < size:
            raise InvalidToken(Reason.INVALID_CLAIM, "status_list idx is not in the list")
        position = idx * bits
        return (data[position >> 3] >> (position & 7)) & mask

    # -- cold path ---------------------------------------------------------------------

    def _refresh(self, uri: str) -> _List:
        if type(uri) is not str or not _same_origin(uri, self.issuer):
            raise _unavailable("status list uri is not on the issuer's origin")
        with self._guard:
            if len(self._locks) >= _MAX_LISTS and uri not in self._locks:
                self._locks.clear()  # a holder keeps its lock; at worst two fetches race
            lock = self._locks.setdefault(uri, threading.Lock())
        with lock:
            now = self._clock()
            found = self._lists.get(uri)
            if found is not None and now < found[4]:
                return found  # another thread fetched it while we waited
            self._lists.pop(uri, None)
            if now < self._failed_until.get(uri, float("-inf")):
                raise _unavailable("status list: the last fetch failed; retrying later")
            try:
                found = self._fetch_and_verify(uri, now)
            except InvalidToken as exc:
                error = (
                    exc
                    if exc.reason is Reason.STATUS_UNAVAILABLE
                    else _unavailable(f"status list: {exc}")
                )
                self._failed(uri, now, str(error))
                raise error from None
            except (OSError, ValueError, http.client.HTTPException) as exc:  # network, size
                self._failed(uri, now, f"status list unavailable: {type(exc).__name__}")
                raise _unavailable("status list could not be fetched") from None
            with self._guard:
                self._failed_until.pop(uri, None)
                if len(self._lists) >= _MAX_LISTS:
                    self._lists.pop(next(iter(self._lists)))
                self._lists[uri] = found
            return found

    def _failed(self, uri: str, now: float, why: str) -> None:
        log.warning("%s; retry in %gs", why, RETRY_AFTER_FAILURE)  # never the token itself
        with self._guard:
            if len(self._failed_until) >= _MAX_LISTS:
                self._failed_until.pop(next(iter(self._failed_until)))
            self._failed_until[uri] = now + RETRY_AFTER_FAILURE

    def _fetch_and_verify(self, uri: str, now: float) -> _List:
        self.fetches += 1
        token, max_age = self._load(uri)
        if type(token) is not str or len(token) > _MAX_TOKEN_BYTES:
            raise _unavailable("status list: the token is not a string of acceptable size")
        first, second = compact_dots(token)
        if first < 0:
            raise _unavailable("status list: not a compact JWS (three segments)")
        alg, kid = _header(token[:first])
        key = self.keys.get(kid)
        if alg not in key.algorithms:
            raise _unavailable("status list: alg does not match the key's type")
        if not key.verify(b64url_decode(token[second + 1 :]), token[:second].encode("ascii")):
            raise _unavailable("status list: the signature does not verify")
        claims = json_object(b64url_decode(token[first + 1 : second]), "JWT claims set")
        return self._decoded(claims, uri, now, max_age)

    def _decoded(
        self, claims: dict[str, Any], uri: str, now: float, max_age: float | None
    ) -> _List:
        if claims.get("sub") != uri:
            raise _unavailable("status list: sub is not the uri of the credential")
        if "iss" in claims and claims["iss"] != self.issuer:
            raise _unavailable("status list: iss is not the expected issuer")
        iat: Any = claims.get("iat")
        exp: Any = claims.get("exp")
        ttl: Any = claims.get("ttl")
        if type(iat) not in _NUMBER:
            raise _unavailable("status list: iat is missing")
        if iat > now + self.leeway:
            raise _unavailable("status list: iat is in the future")
        if exp is not None and (type(exp) not in _NUMBER or exp + self.leeway <= now):
            raise _unavailable("status list: the token has expired")
        nbf: Any = claims.get("nbf")
        if nbf is not None and (type(nbf) not in _NUMBER or nbf > now + self.leeway):
            raise _unavailable("status list: nbf is in the future")
        if ttl is not None and (type(ttl) not in _NUMBER or ttl <= 0):
            raise _unavailable("status list: ttl is not a positive number")
        status_list = claims.get("status_list")
        if type(status_list) is not dict:
            raise _unavailable("status list: status_list is missing")
        bits = status_list.get("bits")
        if type(bits) is not int or bits not in _ALLOWED_BITS:
            raise _unavailable("status list: bits is not 1, 2, 4 or 8")
        data = _inflate(status_list.get("lst"), bits)
        seconds = [s for s in (ttl, max_age) if s is not None]
        keep = min(seconds) if seconds else _DEFAULT_CACHE_SECONDS
        keep = max(_MIN_CACHE_SECONDS, min(float(keep), _MAX_CACHE_SECONDS))
        refresh_at = now + keep
        if exp is not None:
            refresh_at = min(refresh_at, exp + self.leeway)
        return data, bits, (1 << bits) - 1, len(data) * 8 // bits, refresh_at
