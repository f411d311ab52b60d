"""The authorization endpoint's decision (RFC 6749 §4.1, OIDC Core §3.1.2), framework-free.

An authorization request is checked first, in the order the standards make safe
(:mod:`identity.oidc.authorization_request`: 1. the client and the redirect URI, whose
failure is shown to the user and sent nowhere; 2. everything else, answered at the
redirect URI). Then:

3. The valid request is sealed (:class:`RequestSealer`, 10 minutes) and **decided**:
   without a live session (a restricted one, from a recovery code, counts as none:
   :func:`identity.login.sessions.app_session`), or when ``prompt=login`` or ``max_age`` ask
   for a fresh login, the browser goes to the login page; when the app asked for a stronger
   ``acr`` than the session's and the citizen has a second factor, to the second-factor page
   (a step-up, OIDC Core §5.5.1.1: the citizen gives a code before anything is issued); when
   an essential ``acr`` is still not met, ``unmet_authentication_requirements``; when a
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

**Claims and purposes** (:mod:`identity.oidc.authorization_request`): only purposes the
consent gate allows at the time the code is issued travel with the code; their claims are
later released through :class:`identity.oidc.claims_release.ClaimRelease`, never otherwise.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from audit import AuditAppender, Pseudonymizer
from consent.gate import Decision
from consent.grants import Grant, GrantStatus
from consent.notices import Notice
from consent.purposes import Purpose
from identity.errors import AuthorizationError, NotFound
from identity.login.sessions import Session, app_session
from identity.oidc.authorization_request import (
    REQUEST_LIFETIME,
    ClientLookup,
    PendingAuthorization,
    StoredRequest,
    fields_of,
    redirect_target,
    shared_fields,
    validate_request,
)
from identity.oidc.authorization_response import (
    Redirect,
    authorization_response,
    error_response,
)
from identity.oidc.codes import (
    CODE_LIFETIME,
    AuthorizationCode,
    CodeTransaction,
    ReleasedPurpose,
    new_code,
)
from identity.oidc.issuance import issuance_entries
from identity.oidc.sealed_request import RequestSealer
from identity.storage.housekeeping import purge_due

__all__ = [
    "CONSENT_PATH",
    "LOGIN_PATH",
    "RESUME_PATH",
    "SECOND_FACTOR_PATH",
    "AuthorizationRequests",
    "StepUpMethods",
]

log = logging.getLogger(__name__)

LOGIN_PATH = "/login"
SECOND_FACTOR_PATH = "/login/otp"
CONSENT_PATH = "/consent"
RESUME_PATH = "/authorize/resume"
_UNKNOWN_REQUEST = "this sign-in request is unknown or has expired; start again from the app"


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


class ConsentRecords(Protocol):
    """What the decision needs of :class:`consent.ledger.ConsentLedger`."""

    def purposes(self, app_id: str) -> list[Purpose]: ...
    def current_notice(self, app_id: str) -> Notice | None: ...
    def grants_of(self, subject_id: str) -> list[Grant]: ...


class SecondFactors(Protocol):
    """What the decision needs of :class:`identity.login.totp.SecondFactor` (and of
    :class:`identity.login.passkeys.Passkeys`)."""

    def is_enabled(self, citizen_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class StepUpMethods:
    """The ways a signed-in citizen can step up to the multi-factor ``acr``: the TOTP second
    factor, a passkey. A step-up is possible when the citizen has any of them."""

    methods: tuple[SecondFactors, ...]

    def is_enabled(self, citizen_id: str) -> bool:
        return any(method.is_enabled(citizen_id) for method in self.methods)


class Gate(Protocol):
    def check(
        self, subject_id: str, app_id: str, purpose: str, data_items: Collection[str]
    ) -> Decision: ...


# ------------------------------------------------------------------ the service


@dataclass(frozen=True, slots=True)
class _ConsentState:
    released: tuple[ReleasedPurpose, ...]
    missing: tuple[Purpose, ...]
    decided: bool


@dataclass(kw_only=True, eq=False, repr=False)
class AuthorizationRequests:
    """Pending authorization requests and the decision that ends each one
    (``Services.authorization_requests``), built with keywords.

    Attributes:
        store: the OIDC store (answered requests and codes, with the audit entry of each
            code in the same transaction).
        clients: the client registry.
        consent: the consent ledger (purposes, current notice, the citizen's grants).
        gate: the consent gate (the same decision that later releases the claims).
        second_factors: whether a citizen has a second factor or a passkey (a step-up is
            possible: :class:`StepUpMethods`).
        audit: appends an audit entry in the store's transaction.
        pseudonymizer: the citizen's audit pseudonym.
        sealer: seals a pending request into the ``req`` value the pages carry.
        issuer: Jati's issuer URL (``iss`` of responses, base of the pages' URLs).
        clock: the current UTC time.
    """

    store: RequestStore
    clients: ClientLookup
    consent: ConsentRecords
    gate: Gate
    second_factors: SecondFactors
    audit: AuditAppender
    pseudonymizer: Pseudonymizer
    sealer: RequestSealer
    issuer: str
    clock: Callable[[], datetime]
    request_lifetime: timedelta = REQUEST_LIFETIME
    code_lifetime: timedelta = CODE_LIFETIME

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
        pending = replace(pending, sealed=self.sealer.seal(pending.stored()))
        return self._decide(pending, app_session(session), now)

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
        session = app_session(session)  # a restricted session opens no app
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
        answered = replace(pending.stored(), state=None, nonce=None, login_hint=None)
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

    def _pending(self, stored: StoredRequest, sealed: str) -> PendingAuthorization | None:
        try:
            app = self.clients.get(stored.client_id)
        except NotFound:
            return None
        by_code = {p.code: p for p in self.consent.purposes(stored.client_id)}
        return PendingAuthorization(
            client=app,
            purposes=tuple(by_code[c] for c in stored.purpose_codes if c in by_code),
            prompt=frozenset(stored.prompt),
            sealed=sealed,
            **shared_fields(stored),
        )
