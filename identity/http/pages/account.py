"""The citizen's account pages, on the login session (the ``jati_session`` cookie).

``GET /account`` shows, in Bahasa Indonesia or English:

- **my consents** (UU PDP Art. 9, 24, 40): every grant from the consent ledger with its app,
  purpose, legal basis, data items, status and times; an active grant has a *Withdraw*
  button: ``POST /account/consents/{id}/withdraw`` (CSRF-checked) withdraws at once, so
  the consent gate refuses further release and introspection answers ``active: false``;
- **my credentials**: the SD-JWT VC identity credentials issued to the citizen's wallets
  (app, state, data items, times; never a value); a valid or suspended one has a *Revoke*
  button: ``POST /account/credentials/{id}/revoke`` (CSRF-checked) revokes it for good
  through its status list (a lost phone);
- **who used my data** (Art. 31, 32): the latest events of the story that
  :mod:`identity.http.pages.activity` tells in full (``/account/activity``: filters, paging,
  raw entries and their inclusion proofs);
- **my requests** (Art. 5-14): the request register and a form to file an access,
  correction or restriction request (``POST /account/requests``) through
  :class:`consent.requests.service.RequestService`; a completed access request links its export
  (``GET /account/export?request_id=ID``); erasure has its own page
  (:mod:`identity.http.pages.erasure`), which :func:`erased_page` ends;
- **my second factor** (:mod:`identity.login.totp`): its forms are
  :mod:`identity.http.pages.totp_setup`'s; **recovery codes** (how many are unused, and new
  ones) and the banner of a session signed in with one are
  :mod:`identity.http.pages.recovery`'s.

Without a session every page redirects to ``/login``. A grant or request of anyone else
answers 404 like an unknown one. Every answer is ``no-store``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from consent.errors import (
    ConsentError,
    GrantNotFound,
    InvalidSubjectRequest,
    RequestNotFound,
)
from consent.http import export_chunks
from consent.ledger import ConsentLedger
from consent.requests.records import RequestKind, RequestStatus, SubjectRequest
from consent.requests.service import RequestService
from identity.citizens.fields import CORRECTABLE_FIELDS
from identity.credentials.issuer import ChangeReason, CredentialService, credential_summary
from identity.errors import NotFound
from identity.http.pages.activity import Filters, app_name, load_activity
from identity.http.pages.common import (
    NO_STORE,
    PageContext,
    checked_form,
    csrf_refused,
    form_text,
    keyed_message_page,
    page_context,
    render,
    see_other,
    session_of,
)
from identity.http.pages.intent import forget_intent, keep_intent, kept_for, posted_session
from identity.http.pages.story import StoryLine
from identity.http.session_cookie import clear_session_cookie
from identity.login.passkeys import Passkey
from identity.login.sessions import Session, SessionInfo, SessionService
from identity.login.totp import (
    SecondFactor,
)
from identity.service.web.state import services

__all__ = ["LATEST_EVENTS", "erased_page", "router"]

router = APIRouter(include_in_schema=False)

#: Events the account page shows; the activity page has the rest.
LATEST_EVENTS = 5
#: Raw entries read for them (one event is often several entries).
_LATEST_ENTRIES = 40
#: ``?done=`` values that show a confirmation on the account page.
DONE_MESSAGES = {
    "withdrawn": "account.withdrawn",
    "credential-revoked": "credentials.revoked",
    "request": "request.done",
    "totp-on": "totp.now_enabled",
    "totp-off": "totp.now_disabled",
    "session-ended": "sessions.ended",
    "sessions-ended": "sessions.others_ended",
    "passkey-added": "passkeys.added",
    "passkey-renamed": "passkeys.renamed",
    "passkey-removed": "passkeys.removed",
}


# ---------------------------------------------------------------- the account page


@dataclass(frozen=True, slots=True)
class _Account:
    consents: list[dict[str, Any]]
    credentials: list[dict[str, Any]]
    latest: list[StoryLine]  # "who used my data": the newest events
    requests: list[SubjectRequest]
    totp_enabled: bool
    app_names: Mapping[str, str]
    recovery_codes_left: int
    sessions: list[SessionInfo]  # "Perangkat dan sesi" (identity/http/pages/devices.py)
    passkeys: Sequence[Passkey]  # identity/http/pages/passkeys.py


def _load_account(ctx: PageContext, request: Request, citizen_id: str) -> _Account:
    state = services(request)
    ledger = state.consent_ledger
    service = state.subject_requests
    second_factor = state.second_factor
    consents = ledger.consents_of(citizen_id)
    credentials = [credential_summary(c) for c in state.credentials.of_citizen(citizen_id)]
    activity = load_activity(state, ctx, citizen_id, Filters(), limit=_LATEST_ENTRIES)
    requests = sorted(service.requests_of(citizen_id), key=lambda r: r.received_at, reverse=True)
    app_ids = {c["app_id"] for c in consents} | {c["client_id"] for c in credentials}
    app_ids |= {r.client_id for r in requests if r.client_id}
    names = {app_id: app_name(state, app_id) for app_id in app_ids}
    return _Account(
        consents=consents,
        credentials=credentials,
        latest=activity.lines[:LATEST_EVENTS],
        requests=requests,
        totp_enabled=second_factor.is_enabled(citizen_id),
        app_names=names,
        recovery_codes_left=state.recovery_codes.remaining(citizen_id),
        sessions=state.sessions.list_for(citizen_id),
        passkeys=state.passkeys.list(citizen_id),
    )


async def _account_page(
    ctx: PageContext,
    request: Request,
    session: Session,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    done: str | None = None,
    kept: Mapping[str, str] | None = None,
) -> Response:
    """The account page; ``kept``: a form's fields kept across an expired session, to refill
    (:mod:`identity.http.pages.intent`)."""
    account = await asyncio.to_thread(_load_account, ctx, request, session.citizen_id)
    return render(
        ctx, "account.html", title=ctx.t("account.title"), status=status, signed_in=True,
        account=account, errors=errors or {}, done=done, refill=kept,
        restricted=session.restricted,
        kinds=[k.value for k in (RequestKind.ACCESS, RequestKind.CORRECTION,
                                  RequestKind.RESTRICTION)],
        correctable=CORRECTABLE_FIELDS, completed=RequestStatus.COMPLETED,
        access=RequestKind.ACCESS, current_session=session.id,
    )  # fmt: skip


def _to_login(ctx: PageContext) -> Response:
    return see_other(ctx, "/login")


def _not_found(ctx: PageContext) -> Response:
    return keyed_message_page(
        ctx, "error.not_found.title", "error.not_found", status=404,
        link=("/account", "common.back_to_account"), signed_in=True,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Posted:
    """An account form that passed the common first steps: its page context, the form and
    the citizen's session."""

    ctx: PageContext
    form: FormData
    session: Session

    async def refused(
        self, request: Request, section: str, message: str, *, status: int = 400
    ) -> Response:
        """The account page again, ``message`` beside the form of ``section``; nothing
        changed."""
        return await _account_page(
            self.ctx, request, self.session, status=status, errors={section: message}
        )


async def _posted(request: Request) -> _Posted | Response:
    """Common first steps of an account form: CSRF, then the session; a form posted after
    the session expired is kept for the same citizen (:mod:`identity.http.pages.intent`)."""
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    session, owner = await posted_session(request)
    if session is None:
        return keep_intent(ctx, request, form, owner)
    return _Posted(ctx, form, session)


async def _visit(request: Request) -> tuple[PageContext, Session | None]:
    """A GET of an account page: its context and the citizen's session (None: answer
    :func:`_to_login`)."""
    return page_context(request), await session_of(request)


@router.get("/account")
async def account(request: Request) -> Response:
    ctx, session = await _visit(request)
    if session is None:
        return _to_login(ctx)
    done_key = DONE_MESSAGES.get(request.query_params.get("done", ""))
    kept = kept_for(request, "/account", session.citizen_id)
    response = await _account_page(
        ctx, request, session, done=ctx.t(done_key) if done_key else None, kept=kept
    )
    if kept is not None:
        forget_intent(request, response)
    return response


@router.post("/account/consents/{grant_id}/withdraw")
async def withdraw(request: Request, grant_id: str) -> Response:
    """Withdraw a consent at once (UU PDP Art. 9, 40)."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    ledger: ConsentLedger = services(request).consent_ledger
    received_at = ledger.clock()
    try:
        await asyncio.to_thread(
            ledger.withdraw, posted.session.citizen_id, grant_id[:64], received_at=received_at
        )
    except GrantNotFound:
        return _not_found(posted.ctx)
    if form_text(posted.form, "back") == "apps":  # from Aplikasi yang terhubung
        return see_other(posted.ctx, "/account/apps?done=withdrawn")
    return see_other(posted.ctx, "/account?done=withdrawn#consents")


@router.post("/account/credentials/{credential_id}/revoke")
async def revoke_credential(request: Request, credential_id: str) -> Response:
    """Revoke one of the citizen's credentials for good (a lost phone): its status list
    entry becomes INVALID, so every verifier refuses it once its cached list expires."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    service: CredentialService = services(request).credentials
    try:
        await asyncio.to_thread(
            service.revoke,
            credential_id[:64],
            reason=ChangeReason.CITIZEN,
            citizen_id=posted.session.citizen_id,
        )
    except NotFound:
        return _not_found(posted.ctx)
    return see_other(posted.ctx, "/account?done=credential-revoked#credentials")


def _subject_request(form: FormData) -> tuple[str, dict[str, str] | None, str | None]:
    """The request's kind, the fields a correction changes (each correctable field filled
    in; None for another kind), and the message key of what the form lacks, if anything."""
    kind = form_text(form, "kind") or ""
    if kind not in {k.value for k in RequestKind}:
        return kind, None, "request.choose_kind"
    if kind == RequestKind.CORRECTION.value:
        changes = {}
        for name in CORRECTABLE_FIELDS:
            value = form_text(form, f"field-{name}")
            if value is not None and value.strip():
                changes[name] = value
        return kind, changes, None if changes else "request.correction_empty"
    if kind == RequestKind.ERASURE.value:  # its own page, with a fresh proof (erasure.py)
        return kind, None, "request.erasure_own_page"
    return kind, None, None


@router.post("/account/requests")
async def file_request(request: Request) -> Response:
    """Record a data-subject request (UU PDP Art. 14) and carry it out."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    kind, changes, lacking = _subject_request(posted.form)
    t = posted.ctx.t
    if lacking is not None:
        return await posted.refused(request, "request", t(lacking))
    service: RequestService = services(request).subject_requests
    citizen_id = posted.session.citizen_id
    to = (form_text(posted.form, "to") or "")[:128] or None  # an app's controller, or Jati
    try:
        recorded = await asyncio.to_thread(
            lambda: service.submit(citizen_id, kind, changes=changes, client_id=to)
        )
    except InvalidSubjectRequest as exc:  # names the part that is wrong, never a value
        return await posted.refused(request, "request", t("request.refused", reason=str(exc)))
    except ConsentError as exc:
        return await posted.refused(request, "request", t("request.refused", reason=exc.code))
    if recorded.kind is RequestKind.ERASURE and recorded.status is RequestStatus.COMPLETED:
        return await erased_page(posted.ctx, request, citizen_id, recorded)
    return see_other(posted.ctx, "/account?done=request#requests")


async def erased_page(
    ctx: PageContext, request: Request, citizen_id: str, recorded: SubjectRequest
) -> Response:
    """After an erasure: every session of the citizen ends, the second factor goes."""
    sessions: SessionService = services(request).sessions
    second_factor: SecondFactor = services(request).second_factor

    def cleanup() -> None:
        sessions.end_all_for(citizen_id)
        second_factor.forget(citizen_id)

    await asyncio.to_thread(cleanup)
    kept = recorded.outcome.kept if recorded.outcome else ()
    response = render(
        ctx,
        "erased.html",
        title=ctx.t("erased.title"),
        kept=[
            (item.description_en if ctx.lang == "en" else item.description_id, item.basis)
            for item in kept
        ],
    )
    clear_session_cookie(response, request)
    return response


@router.get("/account/export")
async def export(request: Request) -> Response:
    """The export answering one of the citizen's access requests (UU PDP Art. 7, 13, 32)."""
    ctx, session = await _visit(request)
    if session is None:
        return _to_login(ctx)
    request_id = request.query_params.get("request_id", "")
    if not request_id or len(request_id) > 64:
        return keyed_message_page(
            ctx, "error.title", "error.bad_request", status=400,
            link=("/account", "common.back_to_account"), signed_in=True,
        )  # fmt: skip
    service: RequestService = services(request).subject_requests
    try:
        document = await asyncio.to_thread(
            service.export, session.citizen_id, request_id=request_id
        )
    except (RequestNotFound, InvalidSubjectRequest):
        return _not_found(ctx)
    return StreamingResponse(
        export_chunks(document),
        media_type="application/json",
        headers={**NO_STORE, "Content-Disposition": 'attachment; filename="jati-export.json"'},
    )
