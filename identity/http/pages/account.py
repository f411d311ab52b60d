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
- **who used my data** (Art. 31, 32): the timeline of audit entries about the citizen, as
  ``GET /me/access-log`` gives it (:func:`citizen_timeline` is that logic: entries hidden
  from citizens, or withheld under an Art. 15/50 exception until their visible-after time,
  are left out), paged with ``?after=``;
- **my requests** (Art. 5-14): the request register and a form to file an access,
  correction, restriction or erasure request (``POST /account/requests``) through
  :class:`consent.requests.RequestService`; a completed access request links its export
  (``GET /account/export?request_id=ID``); an erasure must be confirmed with a tick box,
  and ends every session of the citizen;
- **my second factor** (:mod:`identity.login.totp`): ``POST /account/totp/enrol`` shows a new
  secret once (the ``otpauth://`` URI and base32), ``POST /account/totp/confirm`` enables it
  after a valid code, ``POST /account/totp/disable`` removes it after a valid code.

Without a session every page redirects to ``/login``. A grant or request of anyone else
answers 404 like an unknown one. Every answer is ``no-store``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from audit.entry import ActorKind, decode_entry, format_time
from audit.log import AuditLog
from audit.pseudonym import SubjectPseudonymizer
from audit.records import EventFilter
from consent.errors import (
    ConsentError,
    GrantNotFound,
    InvalidSubjectRequest,
    RequestNotFound,
)
from consent.http import export_chunks
from consent.ledger import ConsentLedger
from consent.requests import RequestKind, RequestService, RequestStatus, SubjectRequest
from identity.citizens.service import CORRECTABLE_FIELDS
from identity.credentials.issuer import ChangeReason, CredentialService, credential_summary
from identity.errors import NotFound, Throttled
from identity.http.oidc import clear_session_cookie
from identity.http.pages.common import (
    NO_STORE,
    PageContext,
    csrf_ok,
    csrf_refused,
    form_text,
    message_page,
    page_context,
    read_form,
    render,
    see_other,
    session_of,
)
from identity.http.pages.login import throttled_page
from identity.login.sessions import Session, SessionService
from identity.login.totp import InvalidCode, NoEnrolment, SecondFactor, SecondFactorEnabled
from identity.oidc.clients import ClientRegistry

__all__ = ["TIMELINE_PAGE", "TimelineEntry", "citizen_timeline", "router"]

router = APIRouter(include_in_schema=False)

TIMELINE_PAGE = 50
MAX_AFTER = 2**62
#: ``?done=`` values that show a confirmation on the account page.
DONE_MESSAGES = {
    "withdrawn": "account.withdrawn",
    "credential-revoked": "credentials.revoked",
    "request": "request.done",
    "totp-on": "totp.now_enabled",
    "totp-off": "totp.now_disabled",
}


# ---------------------------------------------------------------- who used my data


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One audit entry as its citizen sees it (``GET /me/access-log`` gives the same)."""

    leaf_index: int
    time: str
    actor_kind: str
    actor_id: str
    action: str
    outcome: str
    purpose: str | None
    legal_basis: str | None
    data_items: tuple[str, ...]
    consent_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "time": self.time,
            "actor": {"kind": self.actor_kind, "id": self.actor_id},
            "action": self.action,
            "outcome": self.outcome,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "data_items": list(self.data_items),
            "consent_id": self.consent_id,
        }


def citizen_timeline(
    audit_log: AuditLog,
    pseudonymizer: SubjectPseudonymizer,
    citizen_id: str,
    *,
    after: int = -1,
    limit: int = 100,
) -> tuple[list[TimelineEntry], int | None]:
    """Who used the citizen's data (UU PDP Art. 31-32): the visible entries about them after
    leaf ``after``, and the leaf index to continue after (None on the last page).

    Entries not meant for the citizen (``citizen_visible`` false) and entries withheld
    under an Art. 15/50 exception until ``visible_after`` are left out.
    """
    now = audit_log.clock()
    flt = EventFilter(subject=pseudonymizer.pseudonym(citizen_id))
    leaves = audit_log.store.query(flt, after=after, limit=limit)
    entries: list[TimelineEntry] = []
    for leaf in leaves:
        entry = decode_entry(leaf.entry)
        if not entry.visible_to_citizen(now):
            continue  # withheld under an Art. 15/50 exception, for good or until then
        entries.append(
            TimelineEntry(
                leaf_index=leaf.leaf_index,
                time=format_time(entry.time),
                actor_kind=entry.actor.kind.value,
                actor_id=entry.actor.id,
                action=entry.action.value,
                outcome=entry.outcome.value,
                purpose=entry.purpose,
                legal_basis=entry.legal_basis.value if entry.legal_basis else None,
                data_items=tuple(entry.data_items),
                consent_id=entry.consent_id,
            )
        )
    full_page = len(leaves) == limit
    return entries, (leaves[-1].leaf_index if full_page and leaves else None)


# ---------------------------------------------------------------- the account page


@dataclass(frozen=True, slots=True)
class _Account:
    consents: list[dict[str, Any]]
    credentials: list[dict[str, Any]]
    timeline: list[TimelineEntry]
    next_after: int | None
    requests: list[SubjectRequest]
    totp_enabled: bool
    app_names: Mapping[str, str]


def _load_account(request: Request, citizen_id: str, after: int) -> _Account:
    state = request.app.state
    ledger: ConsentLedger = state.consent_ledger
    clients: ClientRegistry = state.clients
    service: RequestService = state.subject_requests
    second_factor: SecondFactor = state.second_factor
    consents = ledger.consents_of(citizen_id)
    credentials = [credential_summary(c) for c in state.credentials.of_citizen(citizen_id)]
    timeline, next_after = citizen_timeline(
        state.audit_log, state.pseudonymizer, citizen_id, after=after, limit=TIMELINE_PAGE
    )
    app_ids = (
        {c["app_id"] for c in consents}
        | {c["client_id"] for c in credentials}
        | {e.actor_id for e in timeline if e.actor_kind == ActorKind.RELYING_APP.value}
    )
    names: dict[str, str] = {}
    for app_id in app_ids:
        try:
            names[app_id] = clients.get(app_id).name
        except Exception:  # an app removed or an id of another kind: show the id
            names[app_id] = app_id
    return _Account(
        consents=consents,
        credentials=credentials,
        timeline=timeline,
        next_after=next_after,
        requests=sorted(service.requests_of(citizen_id), key=lambda r: r.received_at, reverse=True),
        totp_enabled=second_factor.is_enabled(citizen_id),
        app_names=names,
    )


def _after(request: Request) -> int:
    raw = request.query_params.get("after", "-1")
    try:
        value = int(raw)
    except ValueError:
        return -1
    return value if -1 <= value <= MAX_AFTER else -1


async def _account_page(
    ctx: PageContext,
    request: Request,
    session: Session,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    done: str | None = None,
) -> Response:
    after = _after(request)
    account = await asyncio.to_thread(_load_account, request, session.citizen_id, after)
    return render(
        ctx,
        "account.html",
        title=ctx.t("account.title"),
        status=status,
        signed_in=True,
        account=account,
        after=after,
        errors=errors or {},
        done=done,
        kinds=[k.value for k in (RequestKind.ACCESS, RequestKind.CORRECTION,
                                  RequestKind.RESTRICTION, RequestKind.ERASURE)],
        correctable=CORRECTABLE_FIELDS,
        completed=RequestStatus.COMPLETED,
        access=RequestKind.ACCESS,
    )  # fmt: skip


def _to_login(ctx: PageContext) -> Response:
    return see_other(ctx, "/login")


def _not_found(ctx: PageContext) -> Response:
    return message_page(
        ctx,
        title=ctx.t("error.not_found.title"),
        body=ctx.t("error.not_found"),
        status=404,
        links=[("/account", ctx.t("common.back_to_account"))],
        signed_in=True,
    )


def _bad_request(ctx: PageContext) -> Response:
    return message_page(
        ctx,
        title=ctx.t("error.title"),
        body=ctx.t("error.bad_request"),
        status=400,
        links=[("/account", ctx.t("common.back_to_account"))],
        signed_in=True,
    )


async def _posted(request: Request) -> tuple[PageContext, Any, Session | None, Response | None]:
    """Common first steps of an account form: CSRF, then the session."""
    form = await read_form(request)
    ctx = page_context(request, form=form)
    if not csrf_ok(request, form):
        return ctx, form, None, csrf_refused(ctx)
    session = await session_of(request)
    if session is None:
        return ctx, form, None, _to_login(ctx)
    return ctx, form, session, None


@router.get("/account")
async def account(request: Request) -> Response:
    ctx = page_context(request)
    session = await session_of(request)
    if session is None:
        return _to_login(ctx)
    done_key = DONE_MESSAGES.get(request.query_params.get("done", ""))
    return await _account_page(ctx, request, session, done=ctx.t(done_key) if done_key else None)


@router.post("/account/consents/{grant_id}/withdraw")
async def withdraw(request: Request, grant_id: str) -> Response:
    """Withdraw a consent at once (UU PDP Art. 9, 40)."""
    ctx, _form, session, early = await _posted(request)
    if early is not None:
        return early
    assert session is not None
    ledger: ConsentLedger = request.app.state.consent_ledger
    received_at = ledger.clock()
    try:
        await asyncio.to_thread(
            ledger.withdraw, session.citizen_id, grant_id[:64], received_at=received_at
        )
    except GrantNotFound:
        return _not_found(ctx)
    return see_other(ctx, "/account?done=withdrawn#consents")


@router.post("/account/credentials/{credential_id}/revoke")
async def revoke_credential(request: Request, credential_id: str) -> Response:
    """Revoke one of the citizen's credentials for good (a lost phone): its status list
    entry becomes INVALID, so every verifier refuses it once its cached list expires."""
    ctx, _form, session, early = await _posted(request)
    if early is not None:
        return early
    assert session is not None
    service: CredentialService = request.app.state.credentials
    try:
        await asyncio.to_thread(
            service.revoke,
            credential_id[:64],
            reason=ChangeReason.CITIZEN,
            citizen_id=session.citizen_id,
        )
    except NotFound:
        return _not_found(ctx)
    return see_other(ctx, "/account?done=credential-revoked#credentials")


@router.post("/account/requests")
async def file_request(request: Request) -> Response:
    """Record a data-subject request (UU PDP Art. 14) and carry it out."""
    ctx, form, session, early = await _posted(request)
    if early is not None:
        return early
    assert session is not None and form is not None
    kind = form_text(form, "kind")
    if kind not in {k.value for k in RequestKind}:
        return await _account_page(
            ctx, request, session, status=400, errors={"request": ctx.t("request.choose_kind")}
        )
    changes: dict[str, str] | None = None
    if kind == RequestKind.CORRECTION.value:
        changes = {}
        for name in CORRECTABLE_FIELDS:
            value = form_text(form, f"field-{name}")
            if value is not None and value.strip():
                changes[name] = value
        if not changes:
            return await _account_page(
                ctx, request, session, status=400,
                errors={"request": ctx.t("request.correction_empty")},
            )  # fmt: skip
    if kind == RequestKind.ERASURE.value and form_text(form, "confirm-erasure") != "yes":
        return await _account_page(
            ctx, request, session, status=400, errors={"request": ctx.t("request.confirm_erasure")}
        )
    service: RequestService = request.app.state.subject_requests
    citizen_id = session.citizen_id
    try:
        recorded = await asyncio.to_thread(service.submit, citizen_id, kind, changes=changes)
    except InvalidSubjectRequest as exc:  # names the part that is wrong, never a value
        return await _account_page(
            ctx, request, session, status=400,
            errors={"request": ctx.t("request.refused", reason=str(exc))},
        )  # fmt: skip
    except ConsentError as exc:
        return await _account_page(
            ctx, request, session, status=400,
            errors={"request": ctx.t("request.refused", reason=exc.code)},
        )  # fmt: skip
    if recorded.kind is RequestKind.ERASURE and recorded.status is RequestStatus.COMPLETED:
        return await _erased(ctx, request, citizen_id, recorded)
    return see_other(ctx, "/account?done=request#requests")


async def _erased(
    ctx: PageContext, request: Request, citizen_id: str, recorded: SubjectRequest
) -> Response:
    """After an erasure: every session of the citizen ends, the second factor goes."""
    sessions: SessionService = request.app.state.sessions
    second_factor: SecondFactor = request.app.state.second_factor

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
    ctx = page_context(request)
    session = await session_of(request)
    if session is None:
        return _to_login(ctx)
    request_id = request.query_params.get("request_id", "")
    if not request_id or len(request_id) > 64:
        return _bad_request(ctx)
    service: RequestService = request.app.state.subject_requests
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


# ---------------------------------------------------------------- second factor


@router.post("/account/totp/enrol")
async def totp_enrol(request: Request) -> Response:
    ctx, _form, session, early = await _posted(request)
    if early is not None:
        return early
    assert session is not None
    second_factor: SecondFactor = request.app.state.second_factor
    try:
        enrolment = await asyncio.to_thread(second_factor.begin_enrolment, session.citizen_id)
    except SecondFactorEnabled:
        return await _account_page(
            ctx, request, session, status=409, errors={"totp": ctx.t("totp.already")}
        )
    return render(
        ctx,
        "totp_enrol.html",
        title=ctx.t("totp.enrol_title"),
        signed_in=True,
        secret=enrolment.secret_base32,
        uri=enrolment.uri,
        error=None,
    )


@router.post("/account/totp/confirm")
async def totp_confirm(request: Request) -> Response:
    ctx, form, session, early = await _posted(request)
    if early is not None:
        return early
    assert session is not None and form is not None
    second_factor: SecondFactor = request.app.state.second_factor
    code = form_text(form, "code") or ""
    try:
        await asyncio.to_thread(second_factor.confirm_enrolment, session.citizen_id, code)
    except Throttled as exc:
        return throttled_page(ctx, exc)
    except NoEnrolment:
        return await _account_page(
            ctx, request, session, status=400, errors={"totp": ctx.t("totp.expired")}
        )
    except InvalidCode:
        return render(
            ctx,
            "totp_enrol.html",
            title=ctx.t("totp.enrol_title"),
            status=400,
            signed_in=True,
            secret=None,
            uri=None,
            error=ctx.t("otp.failed"),
        )
    return see_other(ctx, "/account?done=totp-on#second-factor")


@router.post("/account/totp/disable")
async def totp_disable(request: Request) -> Response:
    ctx, form, session, early = await _posted(request)
    if early is not None:
        return early
    assert session is not None and form is not None
    second_factor: SecondFactor = request.app.state.second_factor
    code = form_text(form, "code") or ""
    try:
        await asyncio.to_thread(second_factor.disable, session.citizen_id, code)
    except Throttled as exc:
        return throttled_page(ctx, exc)
    except NoEnrolment:
        return await _account_page(
            ctx, request, session, status=400, errors={"totp": ctx.t("totp.expired")}
        )
    except InvalidCode:
        return await _account_page(
            ctx, request, session, status=400, errors={"totp": ctx.t("otp.failed")}
        )
    return see_other(ctx, "/account?done=totp-off#second-factor")
