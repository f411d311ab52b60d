"""The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1), parsed and validated
into a :class:`PendingAuthorization` (framework-free; never reads the clock).

A request is checked in the order the standards make safe:

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

What happens to a valid request (sealed, then decided: a login, a step-up, the consent
screen or a code) is :mod:`identity.oidc.authorize`'s; :class:`StoredRequest` is what
travels sealed in ``req`` (:mod:`identity.oidc.sealed_request`) and what is recorded once
the request is answered.

**Claims and purposes.** The claims asked for follow from the scopes (OIDC Core §5.4),
cut to what the app may receive. The purposes are the app's registered purposes whose data
items cover one of those claims (claims map to data items through
:data:`identity.oidc.claims_release.CLAIM_FIELDS`); a Jati-specific ``purpose`` parameter
(space-separated codes) narrows them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Protocol

from consent.purposes import Purpose
from identity.errors import AuthorizationError, NotFound
from identity.login.acr import AcrRequest, acr_request
from identity.oidc.claims_release import CLAIM_FIELDS
from identity.oidc.clients import KNOWN_SCOPES, GrantType, RelyingApp, claims_for_scopes
from identity.oidc.pkce import S256, valid_challenge
from identity.oidc.request_parameters import split_repeated

__all__ = [
    "MAX_LOGIN_HINT_CHARS",
    "MAX_MAX_AGE",
    "MAX_NONCE_CHARS",
    "MAX_STATE_CHARS",
    "PROMPT_VALUES",
    "REQUEST_LIFETIME",
    "ClientLookup",
    "PendingAuthorization",
    "StoredRequest",
    "ValidatedRequest",
    "fields_of",
    "redirect_target",
    "shared_fields",
    "validate_request",
]

log = logging.getLogger(__name__)

REQUEST_LIFETIME = timedelta(minutes=10)
PROMPT_VALUES = ("none", "login", "consent")

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
#: Parameters OIDC Core §3.1.2.6 answers with a dedicated code, because Jati supports none.
_UNSUPPORTED = {
    "request": ("request_not_supported", "request objects are not supported"),
    "request_uri": ("request_uri_not_supported", "request_uri is not supported"),
    "registration": ("registration_not_supported", "registration is not supported"),
}


# ------------------------------------------------------------------ values


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidatedRequest:
    """What every form of a validated request holds (:class:`PendingAuthorization`, and
    :class:`StoredRequest` as sealed or recorded).

    ``claims`` are the OIDC claim names asked for (OIDC Core §5.4 from the scopes, cut to
    the app's allowed claims); ``login_hint`` may be a NIK: never log it (it travels
    sealed); ``acr`` the authentication classes asked for (:mod:`identity.login.acr`).
    ``id`` is the request's random identity (what a pending login is bound to, what is
    recorded once the request is answered).
    """

    id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    claims: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str
    max_age: int | None
    login_hint: str | None = field(repr=False)
    ui_locales: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    acr: AcrRequest = field(default_factory=AcrRequest)


def shared_fields(request: ValidatedRequest) -> dict[str, Any]:
    """The :class:`ValidatedRequest` fields of ``request``, by name: what the other form of
    the request takes over unchanged."""
    return {f.name: getattr(request, f.name) for f in fields(ValidatedRequest)}


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingAuthorization(ValidatedRequest):
    """A valid authorization request waiting for a login or a consent decision.

    ``client`` is the app; ``purposes`` its purposes (:mod:`consent.purposes`) whose data
    items cover one of the claims asked for. ``prompt`` is a set of ``none``/``login``/
    ``consent``. ``sealed`` is the whole request sealed
    (:class:`identity.oidc.sealed_request.RequestSealer`): the ``req`` value the pages
    carry, empty until sealed.
    """

    client: RelyingApp
    purposes: tuple[Purpose, ...]
    prompt: frozenset[str]
    sealed: str = field(default="", repr=False)

    @property
    def consent_purposes(self) -> tuple[Purpose, ...]:
        """The purposes whose basis is consent: the ones the consent screen asks about."""
        return tuple(p for p in self.purposes if p.needs_consent)

    def claims_of(self, purpose: Purpose) -> tuple[str, ...]:
        """The asked claims a purpose covers."""
        return tuple(c for c in self.claims if CLAIM_FIELDS.get(c) in purpose.item_names)

    def stored(self) -> StoredRequest:
        """The request as sealed in ``req``: the app by id, purposes by code."""
        return StoredRequest(
            client_id=self.client.client_id,
            purpose_codes=tuple(p.code for p in self.purposes),
            prompt=tuple(sorted(self.prompt)),
            **shared_fields(self),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRequest(ValidatedRequest):
    """A pending request as sealed in ``req`` (the app by id, purposes by code), and as
    recorded once answered (then without ``state``, ``nonce`` and ``login_hint``)."""

    client_id: str
    purpose_codes: tuple[str, ...]
    prompt: tuple[str, ...]


class ClientLookup(Protocol):
    def get(self, client_id: str) -> RelyingApp: ...


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
    seen, repeated = split_repeated(params)
    if {"client_id", "redirect_uri"}.intersection(repeated):
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
    """Check an authorization request (the module docstring's steps 1 and 2, in order).

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
