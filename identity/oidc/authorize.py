"""The authorization endpoint's logic (RFC 6749 §4.1, OIDC Core §3.1.2), framework-free.

An authorization request is checked in the order the standards make safe:

1. **Client and redirect URI first** (RFC 6749 §3.1.2.4, §4.1.2.1; OIDC Core §3.1.2.1):
   ``client_id`` must name an authorization-code app and ``redirect_uri`` must equal one of
   its registered URIs as an exact string (RFC 9700 §4.1.3). If either fails, nothing is
   sent to any URI: the error is shown to the user (:class:`AuthorizationError` with
   ``redirectable=False``). A repeated parameter (RFC 6749 §3.1) counts as a failure here
   when it is one of these two.
2. **Everything else is answered at the redirect URI** (RFC 6749 §4.1.2.1, OIDC Core
   §3.1.2.6) with ``error``, ``error_description``, the request's ``state`` and ``iss``
   (RFC 9207 §2): ``response_type=code`` only (``unsupported_response_type``); scope with
   ``openid``, known, registered for the app, ``nik`` only with a registered purpose
   covering it (``invalid_scope``); PKCE ``S256`` mandatory (RFC 7636 §4.3, RFC 9700
   §2.1.1; ``plain`` and a missing method refused); ``prompt`` from ``none``, ``login``,
   ``consent`` (``none`` alone); ``max_age`` a non-negative integer; ``request``,
   ``request_uri`` and ``registration`` refused with their OIDC codes; ``acr_values`` and
   the ``claims`` parameter read by :mod:`identity.login.acr` (a malformed ``claims`` is
   ``invalid_request``; essential ``acr`` values none of which Jati knows,
   ``unmet_authentication_requirements``).
3. The valid request is sealed (:class:`RequestSealer`, 10 minutes) and **decided**:
   without a live session, or when ``prompt=login`` or ``max_age`` ask for a fresh login,
   the browser goes to the login page; when the app asked for a stronger ``acr`` than the
   session's and the citizen has a second factor, to the second-factor page (a step-up,
   OIDC Core §5.5.1.1: the citizen gives a code before anything is issued); when an
   essential ``acr`` is still not met, ``unmet_authentication_requirements``; when a
   purpose whose basis is consent (UU PDP Art. 20(2)(a)) has no active grant under the
   app's current notice, or ``prompt=consent``, to the consent screen; ``prompt=none``
   turns a login or a step-up into ``login_required`` and the consent screen into
   ``consent_required``. Otherwise a code is issued (:mod:`identity.oidc.codes`),
   its ``acr`` what the session did (:meth:`identity.login.acr.AcrRequest.asserted`), and the
   browser goes back to the app.

The pages redirect to ``/authorize/resume?req=<sealed request>`` after a login or a
consent decision, which runs step 3 again. A login made after the request was created
satisfies ``prompt=login`` and ``max_age``; a consent decision recorded after it satisfies
``prompt=consent`` and ends the asking: purposes the citizen refused are then left out,
never asked again in a loop.

**Nothing is stored for a pending request** (issue 17: 2,000 unauthenticated calls used to
leave 8.9 MB of rows). The request travels sealed as the ``req`` value through the login
page, the second factor, the consent screen and ``/authorize/resume``, so any worker can
resume it and a caller without a session makes Jati store nothing. A sealed request can be
replayed until it expires; before a login that only shows a page again. Its end is
recorded: a request answered to an authenticated citizen (a code, or an error sent to the
app) is written as *answered* (without its state, nonce and hint) in the transaction that
answers it, until it expires, and an answered request is never continued: one request, one
code, as RFC 6749 §4.1.2 expects of the code it yields.

**Claims and purposes.** The claims asked for follow from the scopes (OIDC Core §5.4),
cut to what the app may receive. The purposes are the app's registered purposes whose data
items cover one of those claims (claims map to data items through
:data:`identity.oidc.claims_release.CLAIM_FIELDS`); a Jati-specific ``purpose`` parameter
(space-separated codes) narrows them. Only purposes the consent gate allows at the time the
code is issued travel with the code; their claims are later released through
:class:`identity.oidc.claims_release.ClaimRelease`, never otherwise.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from audit import AuditAppender, Pseudonymizer
from audit.entry import Action, Actor, ActorKind, AuditEntry, LegalBasis, Outcome
from consent.gate import Decision
from consent.ledger import Grant, GrantStatus
from consent.notices import Notice
from consent.purposes import Purpose
from identity.errors import AuthorizationError, NotFound
from identity.keys.derived_keys import derive_key
from identity.login.acr import AcrRequest, acr_request
from identity.login.sessions import Session
from identity.oidc.claims_release import CLAIM_FIELDS
from identity.oidc.clients import KNOWN_SCOPES, GrantType, RelyingApp, claims_for_scopes
from identity.oidc.codes import (
    CODE_LIFETIME,
    AuthorizationCode,
    CodeTransaction,
    ReleasedPurpose,
    new_code,
)
from identity.oidc.pkce import S256, valid_challenge
from identity.storage.housekeeping import purge_due

__all__ = [
    "AUTHENTICATION_PURPOSE",
    "CONSENT_PATH",
    "LOGIN_PATH",
    "MAX_SEALED_CHARS",
    "PROMPT_VALUES",
    "REQUEST_LIFETIME",
    "REQUEST_SEALING_KEY",
    "RESUME_PATH",
    "SECOND_FACTOR_PATH",
    "AuthorizationRequests",
    "PendingAuthorization",
    "Redirect",
    "RequestSealer",
    "StoredRequest",
    "authorization_response",
    "error_response",
    "fields_of",
    "issuance_entries",
    "redirect_target",
    "validate_request",
]

log = logging.getLogger(__name__)

LOGIN_PATH = "/login"
SECOND_FACTOR_PATH = "/login/otp"
CONSENT_PATH = "/consent"
RESUME_PATH = "/authorize/resume"
REQUEST_LIFETIME = timedelta(minutes=10)
PROMPT_VALUES = ("none", "login", "consent")
#: Purpose and basis recorded for a login that releases no claim (as a citizen's own login).
AUTHENTICATION_PURPOSE = "authentication"
#: Key of the sealed pending requests (64 bytes: AES-256-SIV, RFC 5297).
REQUEST_SEALING_KEY = b"jati/identity/authorization-request-key/v1"
#: The longest ``req`` value opened: the largest request Jati accepts seals to less.
MAX_SEALED_CHARS = 16384

MAX_STATE_CHARS = 1024
MAX_NONCE_CHARS = 512
MAX_LOGIN_HINT_CHARS = 256
MAX_MAX_AGE = 10**9
MAX_UI_LOCALES = 10
#: RFC 5646 §4.4.1: a language tag of up to 35 characters must be supported.
MAX_UI_LOCALE_CHARS = 35
MAX_PARAMETERS = 64
MAX_PARAMETER_CHARS = 4096
#: Opaque client values (state, nonce, login_hint): printable ASCII without spaces' cousins.
_PRINTABLE = re.compile(r"[\x20-\x7e]+")
#: The parameters an authorization request may carry (those Jati reads, and those it refuses
#: by name): only these are ever named back in an error description.
_KNOWN_PARAMETERS = frozenset(
    {
        "response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
        "code_challenge", "code_challenge_method", "response_mode", "prompt", "max_age",
        "ui_locales", "login_hint", "acr_values", "claims", "purpose",
        "request", "request_uri", "registration",
    }
)  # fmt: skip
_LOCALE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_PURPOSE_CODE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_SEALED = re.compile(r"[A-Za-z0-9_-]+")
#: The decompressed plaintext of a sealed request is at most this long.
_MAX_SEALED_PLAINTEXT = 65536
_UNKNOWN_REQUEST = "this sign-in request is unknown or has expired; start again from the app"
#: Parameters OIDC Core §3.1.2.6 answers with a dedicated code, because Jati supports none.
_UNSUPPORTED = {
    "request": ("request_not_supported", "request objects are not supported"),
    "request_uri": ("request_uri_not_supported", "request_uri is not supported"),
    "registration": ("registration_not_supported", "registration is not supported"),
}


# ------------------------------------------------------------------ values


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    """A valid authorization request waiting for a login or a consent decision.

    ``claims`` are the OIDC claim names asked for (OIDC Core §5.4 from the scopes, cut to
    the app's allowed claims); ``purposes`` the app's purposes (:mod:`consent.purposes`)
    whose data items cover one of them. ``prompt`` is a set of ``none``/``login``/
    ``consent``; ``login_hint`` may be a NIK: never log it (it travels sealed); ``acr``
    the authentication classes asked for (:mod:`identity.login.acr`). ``id`` is
    the request's random identity (what a pending login is bound to, what is recorded once
    the request is answered); ``sealed`` is the whole request sealed
    (:class:`RequestSealer`): the ``req`` value the pages carry, empty until sealed.
    """

    id: str
    client: RelyingApp
    redirect_uri: str
    scopes: tuple[str, ...]
    claims: tuple[str, ...]
    purposes: tuple[Purpose, ...]
    state: str | None
    nonce: str | None
    code_challenge: str
    prompt: frozenset[str]
    max_age: int | None
    login_hint: str | None = field(repr=False)
    ui_locales: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    sealed: str = field(default="", repr=False)
    acr: AcrRequest = field(default_factory=AcrRequest)

    @property
    def consent_purposes(self) -> tuple[Purpose, ...]:
        """The purposes whose basis is consent: the ones the consent screen asks about."""
        return tuple(p for p in self.purposes if p.needs_consent)

    def claims_of(self, purpose: Purpose) -> tuple[str, ...]:
        """The asked claims a purpose covers."""
        return tuple(c for c in self.claims if CLAIM_FIELDS.get(c) in purpose.item_names)


@dataclass(frozen=True, slots=True)
class StoredRequest:
    """A pending request as sealed in ``req`` (the app by id, purposes by code), and as
    recorded once answered (then without ``state``, ``nonce`` and ``login_hint``)."""

    id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    claims: tuple[str, ...]
    purpose_codes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str
    prompt: tuple[str, ...]
    max_age: int | None
    login_hint: str | None = field(repr=False)
    ui_locales: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    acr: AcrRequest = field(default_factory=AcrRequest)


@dataclass(frozen=True, slots=True)
class Redirect:
    """Where to send the browser next (HTTP 303, RFC 9110 §15.4.4)."""

    location: str


# ------------------------------------------------------------------ collaborators


class RequestTransaction(CodeTransaction, Protocol):
    bind: Any

    def mark_answered(self, request: StoredRequest) -> bool:
        """Record the request as answered until it expires; False if it already was."""
        ...

    def is_answered(self, request_id: str) -> bool: ...
    def purge_requests(self, now: datetime) -> int: ...


class RequestStore(Protocol):
    def write(self) -> Any: ...  # AbstractContextManager[RequestTransaction]
    def read(self) -> Any: ...


class ClientLookup(Protocol):
    def get(self, client_id: str) -> RelyingApp: ...


class ConsentRecords(Protocol):
    """What the decision needs of :class:`consent.ledger.ConsentLedger`."""

    def purposes(self, app_id: str) -> list[Purpose]: ...
    def current_notice(self, app_id: str) -> Notice | None: ...
    def grants_of(self, subject_id: str) -> list[Grant]: ...


class SecondFactors(Protocol):
    """What the decision needs of :class:`identity.login.totp.SecondFactor`."""

    def is_enabled(self, citizen_id: str) -> bool: ...


class Gate(Protocol):
    def check(
        self, subject_id: str, app_id: str, purpose: str, data_items: Collection[str]
    ) -> Decision: ...


class RequestSealer:
    """Seals a pending request into the ``req`` value the pages carry, and opens it.

    AES-256-SIV (RFC 5297) under a key derived from the master key
    (:data:`REQUEST_SEALING_KEY`): confidential (the ``login_hint`` may be a NIK, the
    ``nonce`` and ``state`` are the app's) and tamper-evident, so the request the pages
    carry is the one ``/authorize`` validated. SIV needs no nonce to stay safe, however
    many requests an attacker makes an unauthenticated Jati seal (AES-GCM's random 96-bit
    nonces would cap the key at about 2^32 seals); two seals never repeat, since every
    plaintext holds its request's random 256-bit id.

    The plaintext is compact JSON compressed with zlib, so that a usual request seals to
    about 500 characters, and one padded to every limit (state, nonce, hint) to about the
    length of the query the app sent (at most a third more, base64's). Compression lets the
    length follow the content; every value but the id comes from the request the browser
    itself carried, so the length says nothing new.

    The expiry is inside the seal; :meth:`open` does not check it (the caller compares it
    with its clock).
    """

    __slots__ = ("_siv",)

    def __init__(self, master_key: bytes) -> None:
        self._siv = AESSIV(derive_key(master_key, REQUEST_SEALING_KEY, 64))

    def __repr__(self) -> str:
        return "RequestSealer(<key hidden>)"

    def seal(self, request: StoredRequest) -> str:
        fields = {
            "i": request.id,
            "c": request.client_id,
            "r": request.redirect_uri,
            "s": " ".join(request.scopes),
            "l": " ".join(request.claims),
            "p": " ".join(request.purpose_codes),
            "st": request.state,
            "n": request.nonce,
            "cc": request.code_challenge,
            "pr": " ".join(request.prompt),
            "ma": request.max_age,
            "h": request.login_hint,
            "u": " ".join(request.ui_locales),
            "t": _microseconds(request.created_at),
            "e": _microseconds(request.expires_at),
            "a": " ".join(request.acr.values),
            "ae": 1 if request.acr.essential else None,
        }
        plaintext = json.dumps(
            {k: v for k, v in fields.items() if v is not None and v != ""},
            separators=(",", ":"),
        ).encode("utf-8")
        sealed = self._siv.encrypt(zlib.compress(plaintext, 9), None)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, value: str) -> StoredRequest | None:
        """The request sealed in ``value``, or None (malformed, altered, sealed under
        another key, or too long)."""
        if not value or len(value) > MAX_SEALED_CHARS or not _SEALED.fullmatch(value):
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            inflater = zlib.decompressobj()
            plaintext = inflater.decompress(self._siv.decrypt(raw, None), _MAX_SEALED_PLAINTEXT)
            if not inflater.eof:
                return None
            body = json.loads(plaintext)
            return StoredRequest(
                id=str(body["i"]),
                client_id=str(body["c"]),
                redirect_uri=str(body["r"]),
                scopes=_words(body.get("s")),
                claims=_words(body.get("l")),
                purpose_codes=_words(body.get("p")),
                state=_text_or_none(body.get("st")),
                nonce=_text_or_none(body.get("n")),
                code_challenge=str(body["cc"]),
                prompt=_words(body.get("pr")),
                max_age=int(body["ma"]) if "ma" in body else None,
                login_hint=_text_or_none(body.get("h")),
                ui_locales=_words(body.get("u")),
                created_at=_from_microseconds(body["t"]),
                expires_at=_from_microseconds(body["e"]),
                acr=AcrRequest(_words(body.get("a")), essential=body.get("ae") == 1),
            )
        except (InvalidTag, ValueError, KeyError, TypeError, OverflowError, zlib.error):
            return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _microseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _from_microseconds(value: Any) -> datetime:
    if not isinstance(value, int):
        raise TypeError("a time is a whole number of microseconds")
    return _EPOCH + timedelta(microseconds=value)


def _words(value: Any) -> tuple[str, ...]:
    return tuple(str(value).split(" ")) if value else ()


def _text_or_none(value: Any) -> str | None:
    return str(value) if value is not None else None


# ------------------------------------------------------------------ parsing and validation


def fields_of(claims: Iterable[str]) -> frozenset[str]:
    """The data items (personal fields) the claims map to."""
    return frozenset(CLAIM_FIELDS[c] for c in claims if c in CLAIM_FIELDS)


def _single(params: Sequence[tuple[str, str]]) -> tuple[dict[str, str], str | None]:
    """Parameters as a dict, and the name of a repeated one (RFC 6749 §3.1: none may appear
    twice). A repeated ``client_id`` or ``redirect_uri`` makes the request unanswerable at
    any URI; any other is refused at the redirect URI, once that is known to be the app's
    (the caller's step 2)."""
    if len(params) > MAX_PARAMETERS:
        raise AuthorizationError("invalid_request", "too many parameters", redirectable=False)
    seen: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in params:
        if name in seen:
            repeated.add(name)
        seen[name] = value
    if repeated & {"client_id", "redirect_uri"}:
        raise AuthorizationError(
            "invalid_request", "client_id or redirect_uri is repeated", redirectable=False
        )
    return seen, min(repeated) if repeated else None


def _client(params: Mapping[str, str], clients: ClientLookup) -> tuple[RelyingApp, str]:
    client_id = params.get("client_id", "")
    if not client_id:
        raise AuthorizationError("invalid_request", "client_id is required", redirectable=False)
    try:
        app = clients.get(client_id)
    except NotFound:
        log.info("authorization request refused: unknown client_id")
        raise AuthorizationError(
            "invalid_request", "unknown client_id", redirectable=False
        ) from None
    if GrantType.AUTHORIZATION_CODE not in app.grant_types:
        log.info("authorization request refused: %s is not a code-flow app", app.client_id)
        raise AuthorizationError(
            "unauthorized_client", "this client does not use the code flow", redirectable=False
        )
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        raise AuthorizationError("invalid_request", "redirect_uri is required", redirectable=False)
    if not app.allows_redirect_uri(redirect_uri):
        log.info("authorization request refused: unregistered redirect_uri for %s", app.client_id)
        raise AuthorizationError(
            "invalid_request",
            "redirect_uri is not registered for this client (exact match)",
            redirectable=False,
        )
    return app, redirect_uri


def _opaque(params: Mapping[str, str], name: str, limit: int) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if len(value) > limit or not _PRINTABLE.fullmatch(value):
        raise AuthorizationError("invalid_request", f"{name} is malformed or too long")
    return value


def _scopes(
    params: Mapping[str, str], app: RelyingApp, purposes: Sequence[Purpose]
) -> tuple[str, ...]:
    tokens = params.get("scope", "").split(" ")
    scopes = sorted({t for t in tokens if t})
    if "openid" not in scopes:
        raise AuthorizationError("invalid_scope", "the openid scope is required")
    for scope in scopes:
        if scope not in KNOWN_SCOPES:
            raise AuthorizationError("invalid_scope", "unknown scope")
        if not app.allows_scope(scope):
            raise AuthorizationError("invalid_scope", f"scope {scope} is not registered")
    if "nik" in scopes and not any("nik" in p.item_names for p in purposes):
        raise AuthorizationError(
            "invalid_scope", "the nik scope needs a registered purpose covering the NIK"
        )
    return tuple(scopes)


def _prompt(params: Mapping[str, str]) -> frozenset[str]:
    values = [v for v in params.get("prompt", "").split(" ") if v]
    prompt = frozenset(values)
    if len(prompt) != len(values) or not prompt <= set(PROMPT_VALUES):
        raise AuthorizationError("invalid_request", "prompt is none, login or consent")
    if "none" in prompt and len(prompt) > 1:
        raise AuthorizationError("invalid_request", "prompt=none cannot be combined")
    return prompt


def _max_age(params: Mapping[str, str]) -> int | None:
    raw = params.get("max_age")
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_MAX_AGE:
        raise AuthorizationError("invalid_request", "max_age is a number of seconds")
    return int(raw)


def _ui_locales(params: Mapping[str, str]) -> tuple[str, ...]:
    tags = [t for t in params.get("ui_locales", "").split(" ") if t]
    usable = (t for t in tags if len(t) <= MAX_UI_LOCALE_CHARS and _LOCALE.fullmatch(t))
    return tuple(usable)[:MAX_UI_LOCALES]


def _purposes(
    params: Mapping[str, str], registered: Sequence[Purpose], claims: Iterable[str]
) -> tuple[Purpose, ...]:
    asked_items = fields_of(claims)
    chosen = [p for p in registered if p.item_names & asked_items]
    raw = params.get("purpose")
    if raw:
        codes = [c for c in raw.split(" ") if c]
        known = {p.code for p in registered}
        if not codes or any(not _PURPOSE_CODE.fullmatch(c) or c not in known for c in codes):
            raise AuthorizationError("invalid_request", "purpose names an unknown purpose")
        chosen = [p for p in chosen if p.code in codes]
    return tuple(sorted(chosen, key=lambda p: p.code))


def validate_request(
    params: Sequence[tuple[str, str]],
    *,
    clients: ClientLookup,
    purposes_of: Callable[[str], Sequence[Purpose]],
    request_id: str,
    now: datetime,
    lifetime: timedelta = REQUEST_LIFETIME,
) -> PendingAuthorization:
    """Check an authorization request (the module docstring's steps 1 and 2).

    Raises:
        AuthorizationError: ``redirectable=False`` for a bad client or redirect URI;
            otherwise the code to send to the redirect URI. :func:`redirect_target` reads
            the redirect URI and state that a redirectable error is sent with.
    """
    if any(len(v) > MAX_PARAMETER_CHARS for _, v in params):
        raise AuthorizationError("invalid_request", "a parameter is too long", redirectable=False)
    single, repeated = _single(params)
    app, redirect_uri = _client(single, clients)
    if repeated is not None:  # named only when it is one of the parameters Jati reads
        named = f" {repeated}" if repeated in _KNOWN_PARAMETERS else ""
        raise AuthorizationError("invalid_request", f"repeated parameter{named}")
    for name, (error, description) in _UNSUPPORTED.items():
        if name in single:
            raise AuthorizationError(error, description)
    response_type = single.get("response_type")
    if not response_type:
        raise AuthorizationError("invalid_request", "response_type is required")
    if response_type != "code":
        raise AuthorizationError("unsupported_response_type", "only response_type=code")
    if single.get("response_mode", "query") != "query":
        raise AuthorizationError("invalid_request", "only response_mode=query")
    registered = purposes_of(app.client_id)
    scopes = _scopes(single, app, registered)
    challenge = single.get("code_challenge")
    if not challenge:
        raise AuthorizationError("invalid_request", "PKCE is required: code_challenge (S256)")
    if single.get("code_challenge_method") != S256:
        raise AuthorizationError("invalid_request", "code_challenge_method must be S256")
    if not valid_challenge(challenge):
        raise AuthorizationError("invalid_request", "code_challenge is not an S256 challenge")
    state = _opaque(single, "state", MAX_STATE_CHARS)
    allowed = set(app.allowed_claims)
    claims = tuple(sorted(c for c in claims_for_scopes(scopes) if c in allowed))
    return PendingAuthorization(
        id=request_id,
        client=app,
        redirect_uri=redirect_uri,
        scopes=scopes,
        claims=claims,
        purposes=_purposes(single, registered, claims),
        state=state,
        nonce=_opaque(single, "nonce", MAX_NONCE_CHARS),
        code_challenge=challenge,
        prompt=_prompt(single),
        max_age=_max_age(single),
        login_hint=_opaque(single, "login_hint", MAX_LOGIN_HINT_CHARS),
        ui_locales=_ui_locales(single),
        created_at=now,
        expires_at=now + lifetime,
        acr=acr_request(single.get("acr_values"), single.get("claims")),
    )


def redirect_target(params: Sequence[tuple[str, str]]) -> tuple[str, str | None]:
    """(redirect URI, state) of a request whose client and redirect URI were checked; the
    state only when it is well-formed (a malformed one is not echoed)."""
    single = dict(params)
    state = single.get("state") or None
    if state is not None and (len(state) > MAX_STATE_CHARS or not _PRINTABLE.fullmatch(state)):
        state = None
    return single["redirect_uri"], state


# ------------------------------------------------------------------ responses


def _with_query(uri: str, values: Mapping[str, str | None]) -> str:
    """Add parameters to a registered redirect URI, keeping its own query (RFC 6749 §3.1.2:
    "MUST retain" it)."""
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def error_response(
    redirect_uri: str, issuer: str, error: str, description: str, state: str | None
) -> Redirect:
    """RFC 6749 §4.1.2.1 / OIDC Core §3.1.2.6 error at the redirect URI, with ``iss``
    (RFC 9207 §2)."""
    return Redirect(
        _with_query(
            redirect_uri,
            {
                "error": error,
                "error_description": description or None,
                "state": state,
                "iss": issuer,
            },
        )
    )


def authorization_response(
    redirect_uri: str, issuer: str, code: str, state: str | None
) -> Redirect:
    """RFC 6749 §4.1.2 with ``iss`` (RFC 9207 §2)."""
    return Redirect(_with_query(redirect_uri, {"code": code, "state": state, "iss": issuer}))


# ------------------------------------------------------------------ the service


@dataclass(frozen=True, slots=True)
class _ConsentState:
    released: tuple[ReleasedPurpose, ...]
    missing: tuple[Purpose, ...]
    decided: bool


class AuthorizationRequests:
    """Pending authorization requests and the decision that ends each one
    (``app.state.authorization_requests``).

    Args:
        store: the OIDC store (answered requests and codes, with the audit entry of each
            code in the same transaction).
        clients: the client registry.
        consent: the consent ledger (purposes, current notice, the citizen's grants).
        gate: the consent gate (the same decision that later releases the claims).
        second_factors: whether a citizen has a second factor (a step-up is possible).
        audit: appends an audit entry in the store's transaction.
        pseudonymizer: the citizen's audit pseudonym.
        sealer: seals a pending request into the ``req`` value the pages carry.
        issuer: Jati's issuer URL (``iss`` of responses, base of the pages' URLs).
        clock: the current UTC time.
    """

    def __init__(
        self,
        *,
        store: RequestStore,
        clients: ClientLookup,
        consent: ConsentRecords,
        gate: Gate,
        second_factors: SecondFactors,
        audit: AuditAppender,
        pseudonymizer: Pseudonymizer,
        sealer: RequestSealer,
        issuer: str,
        clock: Callable[[], datetime],
        request_lifetime: timedelta = REQUEST_LIFETIME,
        code_lifetime: timedelta = CODE_LIFETIME,
    ) -> None:
        self.store = store
        self.clients = clients
        self.consent = consent
        self.gate = gate
        self.second_factors = second_factors
        self.audit = audit
        self.pseudonymizer = pseudonymizer
        self.sealer = sealer
        self.issuer = issuer
        self.clock = clock
        self.request_lifetime = request_lifetime
        self.code_lifetime = code_lifetime

    # -- what the pages read ------------------------------------------------------------

    def get(self, req: str) -> PendingAuthorization | None:
        """The pending request sealed in ``req``, or None when it does not open, has
        expired, was answered already or its app is gone."""
        stored = self.sealer.open(req or "")
        if stored is None or self.clock() >= stored.expires_at:
            return None
        with self.store.read() as tx:
            if tx.is_answered(stored.id):
                return None
        return self._pending(stored, req)

    def purposes_to_ask(
        self, pending: PendingAuthorization, citizen_id: str
    ) -> tuple[Purpose, ...]:
        """The consent purposes of the request that have no active grant under the app's
        current notice for this citizen (what the consent screen must ask; it may show
        and ask the others too)."""
        return self._consent_state(pending, citizen_id).missing

    def login_url(self, req: str) -> str:
        return f"{self.issuer}{LOGIN_PATH}?{urlencode({'req': req})}"

    def second_factor_url(self, req: str) -> str:
        """The second-factor page, for a step-up of the signed-in citizen."""
        return f"{self.issuer}{SECOND_FACTOR_PATH}?{urlencode({'req': req})}"

    def consent_url(self, req: str) -> str:
        return f"{self.issuer}{CONSENT_PATH}?{urlencode({'req': req})}"

    def resume_url(self, req: str) -> str:
        """Where the pages send the browser after a login or a consent decision."""
        return f"{self.issuer}{RESUME_PATH}?{urlencode({'req': req})}"

    # -- the endpoint ---------------------------------------------------------------------

    def authorize(self, params: Sequence[tuple[str, str]], session: Session | None) -> Redirect:
        """Handle ``/authorize``: validate, seal, decide. Nothing is written unless the
        request is answered at once to the citizen of ``session``.

        Raises:
            AuthorizationError: only with ``redirectable=False`` (bad client or redirect
                URI); every other error is a :class:`Redirect` to the app.
        """
        now = self.clock()
        request_id = secrets.token_urlsafe(32)
        try:
            pending = validate_request(
                params,
                clients=self.clients,
                purposes_of=self.consent.purposes,
                request_id=request_id,
                now=now,
                lifetime=self.request_lifetime,
            )
        except AuthorizationError as exc:
            if not exc.redirectable:
                raise
            redirect_uri, state = redirect_target(params)
            log.info("authorization request refused: %s", exc.error)
            return error_response(redirect_uri, self.issuer, exc.error, exc.description, state)
        pending = replace(pending, sealed=self.sealer.seal(self._stored(pending)))
        return self._decide(pending, session, now)

    def resume(self, req: str, session: Session | None, *, denied: bool = False) -> Redirect:
        """Handle ``/authorize/resume``: decide again after a login or a consent decision;
        ``denied``: the citizen cancelled (``access_denied`` to the app).

        Raises:
            AuthorizationError: (not redirectable) the request is unknown, expired or
                answered already.
        """
        pending = self.get(req)
        if pending is None:
            raise AuthorizationError("invalid_request", _UNKNOWN_REQUEST, redirectable=False)
        now = self.clock()
        if denied:
            return self._fail(
                pending, "access_denied", "the citizen declined", session=session, now=now
            )
        return self._decide(pending, session, now)

    # -- the decision ---------------------------------------------------------------------

    def _decide(
        self, pending: PendingAuthorization, session: Session | None, now: datetime
    ) -> Redirect:
        if self._needs_login(pending, session, now):
            if "none" in pending.prompt:
                return self._fail(
                    pending, "login_required", "the citizen is not signed in", session=None, now=now
                )
            return Redirect(self.login_url(pending.sealed))
        assert session is not None
        acr = pending.acr
        if acr.wants_more_than(session.acr) and self.second_factors.is_enabled(session.citizen_id):
            if "none" in pending.prompt:
                return self._fail(
                    pending, "login_required", "the requested acr needs the second factor",
                    session=session, now=now,
                )  # fmt: skip
            return Redirect(self.second_factor_url(pending.sealed))
        if not acr.met_by(session.acr):
            return self._fail(
                pending, "unmet_authentication_requirements",
                "the essential acr cannot be met for this citizen", session=session, now=now,
            )  # fmt: skip
        state = self._consent_state(pending, session.citizen_id)
        ask = bool(pending.consent_purposes) and not state.decided
        if ask and (state.missing or "consent" in pending.prompt):
            if "none" in pending.prompt:
                return self._fail(
                    pending, "consent_required", "consent is needed", session=session, now=now
                )
            return Redirect(self.consent_url(pending.sealed))
        return self._issue_code(pending, session, state.released, now)

    @staticmethod
    def _needs_login(pending: PendingAuthorization, session: Session | None, now: datetime) -> bool:
        if session is None:
            return True
        fresh = session.auth_time >= pending.created_at  # logged in during this request
        if "login" in pending.prompt and not fresh:
            return True
        if pending.max_age is not None and not fresh:
            return now - session.auth_time > timedelta(seconds=pending.max_age)
        return False

    def _consent_state(self, pending: PendingAuthorization, citizen_id: str) -> _ConsentState:
        """What the consent gate allows now, what is still to ask, and whether the citizen
        decided during this request.

        A consent purpose whose latest grant the citizen refused or withdrew under the
        app's current notice is not asked again (no nagging: the app may ask with
        ``prompt=consent``); a new notice version asks again (UU PDP Art. 21(2)).
        """
        app_id = pending.client.client_id
        notice: Notice | None = None
        grants: list[Grant] = []
        if pending.consent_purposes:
            notice = self.consent.current_notice(app_id)
            grants = [g for g in self.consent.grants_of(citizen_id) if g.app_id == app_id]
        latest: dict[str, Grant] = {}
        for grant in sorted(grants, key=lambda g: g.events[-1].at):
            latest[grant.purpose_code] = grant
        released: list[ReleasedPurpose] = []
        missing: list[Purpose] = []
        asked = fields_of(pending.claims)
        for purpose in pending.purposes:
            items = sorted(purpose.item_names & asked)
            decision = self.gate.check(citizen_id, app_id, purpose.code, items)
            if decision.allowed:
                assert decision.legal_basis is not None
                released.append(
                    ReleasedPurpose(purpose.code, decision.legal_basis, decision.grant_id)
                )
                continue
            if not purpose.needs_consent or decision.reason == "restricted":
                continue  # nothing the citizen could consent to here
            last = latest.get(purpose.code)
            declined = (
                last is not None
                and notice is not None
                and last.status in (GrantStatus.REFUSED, GrantStatus.WITHDRAWN)
                and last.notice_hash == notice.content_hash
            )
            if not declined:
                missing.append(purpose)
        decided = bool(pending.consent_purposes) and (
            notice is None  # no notice: consent cannot be informed (Art. 21), never asked
            or any(e.at >= pending.created_at for g in grants for e in g.events)
        )
        return _ConsentState(tuple(released), tuple(missing), decided)

    def _fail(
        self,
        pending: PendingAuthorization,
        error: str,
        description: str,
        *,
        session: Session | None,
        now: datetime,
    ) -> Redirect:
        """The error at the app's redirect URI. Answered to a signed-in citizen, the request
        is recorded as answered; without a session nothing is written (a caller without
        one makes Jati store nothing), and a replay only sends the same error again."""
        if session is not None:
            with self.store.write() as tx:
                self._mark_answered(tx, pending, now)
        log.info("authorization request ended: %s", error)
        return error_response(pending.redirect_uri, self.issuer, error, description, pending.state)

    def _mark_answered(
        self, tx: RequestTransaction, pending: PendingAuthorization, now: datetime
    ) -> None:
        """Record ``pending`` as answered in ``tx`` (one request, one answer).

        Raises:
            AuthorizationError: (not redirectable) it was answered already, by a
                concurrent replay; ``tx`` is then rolled back.
        """
        if purge_due():
            tx.purge_requests(now)
        answered = replace(self._stored(pending), state=None, nonce=None, login_hint=None)
        if not tx.mark_answered(answered):
            log.info("authorization request refused: answered already")
            raise AuthorizationError("invalid_request", _UNKNOWN_REQUEST, redirectable=False)

    def _issue_code(
        self,
        pending: PendingAuthorization,
        session: Session,
        released: Sequence[ReleasedPurpose],
        now: datetime,
    ) -> Redirect:
        value, code_hash = new_code()
        code = AuthorizationCode(
            code_hash=code_hash,
            client_id=pending.client.client_id,
            redirect_uri=pending.redirect_uri,
            code_challenge=pending.code_challenge,
            nonce=pending.nonce,
            citizen_id=session.citizen_id,
            session_id=session.id,
            auth_time=session.auth_time,
            acr=pending.acr.asserted(session.acr),
            amr=session.amr,
            scopes=pending.scopes,
            claims=pending.claims,
            purposes=tuple(released),
            created_at=now,
            expires_at=now + self.code_lifetime,
        )
        entries = issuance_entries(
            client_id=code.client_id,
            subject=self.pseudonymizer.pseudonym(session.citizen_id),
            purposes=released,
            claims_by_purpose={p.code: pending.claims_of(p) for p in pending.purposes},
            tokens=("token:authorization-code",),
            now=now,
        )
        with self.store.write() as tx:
            self._mark_answered(tx, pending, now)
            tx.add_code(code)
            for entry in entries:
                self.audit.append(tx.bind, entry, queued_at=now)
        return authorization_response(pending.redirect_uri, self.issuer, value, pending.state)

    # -- conversions ----------------------------------------------------------------------

    @staticmethod
    def _stored(pending: PendingAuthorization) -> StoredRequest:
        return StoredRequest(
            id=pending.id,
            client_id=pending.client.client_id,
            redirect_uri=pending.redirect_uri,
            scopes=pending.scopes,
            claims=pending.claims,
            purpose_codes=tuple(p.code for p in pending.purposes),
            state=pending.state,
            nonce=pending.nonce,
            code_challenge=pending.code_challenge,
            prompt=tuple(sorted(pending.prompt)),
            max_age=pending.max_age,
            login_hint=pending.login_hint,
            ui_locales=pending.ui_locales,
            created_at=pending.created_at,
            expires_at=pending.expires_at,
            acr=pending.acr,
        )

    def _pending(self, stored: StoredRequest, sealed: str) -> PendingAuthorization | None:
        try:
            app = self.clients.get(stored.client_id)
        except NotFound:
            return None
        by_code = {p.code: p for p in self.consent.purposes(stored.client_id)}
        return PendingAuthorization(
            id=stored.id,
            client=app,
            redirect_uri=stored.redirect_uri,
            scopes=stored.scopes,
            claims=stored.claims,
            purposes=tuple(by_code[c] for c in stored.purpose_codes if c in by_code),
            state=stored.state,
            nonce=stored.nonce,
            code_challenge=stored.code_challenge,
            prompt=frozenset(stored.prompt),
            max_age=stored.max_age,
            login_hint=stored.login_hint,
            ui_locales=stored.ui_locales,
            created_at=stored.created_at,
            expires_at=stored.expires_at,
            sealed=sealed,
            acr=stored.acr,
        )


def issuance_entries(
    *,
    client_id: str,
    subject: str | None,
    purposes: Sequence[ReleasedPurpose],
    claims_by_purpose: Mapping[str, Sequence[str]],
    tokens: Sequence[str],
    now: datetime,
) -> list[AuditEntry]:
    """The audit entries of one issuance (a code, or a token response): the app as actor,
    the citizen's pseudonym, one entry per purpose the issuance serves with its legal basis
    and consent grant (UU PDP Art. 31); the data items name what was issued
    (``token:<kind>``) and the fields the purpose's claims cover. An issuance serving no
    purpose (a login that releases no claim) is one entry for purpose ``authentication``."""
    actor = Actor(ActorKind.RELYING_APP, client_id)
    if not purposes:
        return [
            AuditEntry(
                time=now,
                actor=actor,
                action=Action.TOKEN_ISSUED,
                outcome=Outcome.SUCCESS,
                subject=subject,
                data_items=tuple(tokens),
                purpose=AUTHENTICATION_PURPOSE if subject is not None else None,
                legal_basis=LegalBasis.PUBLIC_TASK if subject is not None else None,
            )
        ]
    return [
        AuditEntry(
            time=now,
            actor=actor,
            action=Action.TOKEN_ISSUED,
            outcome=Outcome.SUCCESS,
            subject=subject,
            data_items=(*tokens, *fields_of(claims_by_purpose.get(p.code, ()))),
            purpose=p.code,
            legal_basis=p.legal_basis,
            consent_id=p.grant_id,
        )
        for p in purposes
    ]
