"""The consent screen and the apps' privacy notices (UU PDP Art. 20-22, 24-25, 53).

``GET /consent?req=ID`` shows, in a fixed layout that no relying app can restyle (as
Singapore's Myinfo does: the app provides words, never markup or styles):

- the app's name and its controller (the organisation, from the app's notice);
- every purpose of the app whose basis is consent (Art. 20(2)(a)), each in its own
  ``<fieldset>`` with its description, its legal basis in words, each data item it uses
  with **specific** personal data marked (Art. 4(2)), its retention, and ONE choice as a
  pair of radio buttons, *Setuju* / *Tidak setuju*, neither selected (Art. 22: silence or a
  pre-ticked box is not consent). The ledger records a decision on each of the app's consent
  purposes (one per purpose, nothing bundled), so each is asked;
- the app's purposes on another basis, listed as "processed without consent, on basis X":
  shown, not asked (Art. 20(2));
- the DPO contact (Art. 53) and a link to the full notice (Art. 21), served at
  ``GET /notices/{client_id}/{version}``: every published version stays readable (the one a
  citizen consented under included), an older one marked as superseded.

``POST /consent?req=ID`` (CSRF-checked; a session required, else the login page): a choice
missing for any purpose re-shows the screen with the error beside that purpose and records
nothing; the notice hash the screen showed (a hidden field) must still be the app's current
notice, else the new notice is shown and nothing is recorded. The decision is recorded by
:meth:`consent.ledger.ConsentLedger.record` (explicit act ``consent-screen:submit``, with the
citizen's birth date for the Art. 25 check, read through the audited path for purpose
``consent-management`` on basis (c)); then 303 to ``/authorize/resume?req=ID``, with
``&denied=1`` when every purpose was refused or the citizen cancelled.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from audit.entry import LegalBasis
from consent.errors import InvalidConsent, NoticeChanged
from consent.grants import GrantStatus
from consent.ledger import ConsentAttempt, ConsentLedger
from consent.notices import NOTICE_ITEMS, Notice
from consent.purposes import Purpose
from identity.citizens.age import is_child
from identity.citizens.records import SELF
from identity.citizens.service import CitizenService
from identity.errors import NotFound
from identity.http.pages import common
from identity.login.sessions import Session
from identity.oidc.authorization_request import PendingAuthorization
from identity.oidc.client_registry import ClientRegistry
from identity.oidc.request_parameters import split_repeated
from identity.service.web.state import services

__all__ = ["CONSENT_ACT", "CONSENT_MANAGEMENT_PURPOSE", "router"]

router = APIRouter(include_in_schema=False)

CONSENT_ACT = "consent-screen:submit"
#: Audit purpose of the birth-date read a decision needs (Art. 25: is the citizen a child?).
CONSENT_MANAGEMENT_PURPOSE = "consent-management"

CHOICE_PREFIX = "choice-"
YES, NO = "yes", "no"


@dataclass(frozen=True, slots=True)
class _Screen:
    pending: PendingAuthorization
    notice: Notice
    asked: tuple[Purpose, ...]
    others: tuple[Purpose, ...]
    current: dict[str, str]  # purpose code -> status of the citizen's grant, if any


def _ledger(request: Request) -> ConsentLedger:
    ledger: ConsentLedger = services(request).consent_ledger
    return ledger


def _load_screen(
    request: Request, pending: PendingAuthorization, citizen_id: str
) -> _Screen | None:
    """What the screen shows, or None when there is nothing to ask (no notice: consent
    cannot be informed, Art. 21; or no purpose on consent)."""
    ledger = _ledger(request)
    app_id = pending.client.client_id
    notice = ledger.current_notice(app_id)
    purposes = sorted(ledger.purposes(app_id), key=lambda p: p.code)
    asked = tuple(p for p in purposes if p.needs_consent)
    if notice is None or not asked:
        return None
    now = ledger.clock()
    current = {
        g.purpose_code: g.status_at(now).value
        for g in ledger.grants_of(citizen_id)
        if g.app_id == app_id and g.status_at(now) is GrantStatus.ACTIVE
    }
    others = tuple(p for p in purposes if not p.needs_consent)
    return _Screen(pending, notice, asked, others, current)


def _screen_page(
    ctx: common.PageContext,
    screen: _Screen,
    *,
    status: int = 200,
    chosen: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
) -> Response:
    pending = screen.pending
    origin = common.origin_of(pending.redirect_uri)
    return common.render(
        ctx,
        "consent.html",
        title=ctx.t("consent.title"),
        status=status,
        form_targets=(origin,) if origin else (),
        signed_in=True,
        app_name=pending.client.name,
        client_id=pending.client.client_id,
        notice=screen.notice,
        asked=screen.asked,
        others=screen.others,
        current=screen.current,
        chosen=chosen or {},
        errors=errors or {},
        summary=summary,
        action=f"/consent?req={pending.sealed}",
        choice_prefix=CHOICE_PREFIX,
        yes=YES,
        no=NO,
    )


@dataclass(frozen=True, slots=True)
class _Visit:
    """A visit to the screen with a known request and a session."""

    ctx: common.PageContext
    pending: PendingAuthorization
    session: Session

    def resume_url(self, request: Request) -> str:
        """Where the browser goes back to the authorization."""
        return common.authorization_requests(request).resume_url(self.pending.sealed)


async def _visit(
    request: Request, ctx: common.PageContext, pending: PendingAuthorization | None
) -> _Visit | Response:
    """Common first steps: 400 for an unknown request, the login page without a session."""
    if pending is None:
        return common.request_unknown(ctx)
    session = await common.session_of(request, restricted=False)  # none for a recovery code
    if session is None:
        return common.see_other(
            ctx, common.authorization_requests(request).login_url(pending.sealed)
        )
    return _Visit(ctx, pending, session)


@router.get("/consent")
async def consent_page(request: Request) -> Response:
    _request_id, pending = await common.pending_authorization(request)
    ctx = common.page_context(request, ui_locales=pending.ui_locales if pending else ())
    visit = await _visit(request, ctx, pending)
    if isinstance(visit, Response):
        return visit
    screen = await asyncio.to_thread(_load_screen, request, visit.pending, visit.session.citizen_id)
    if screen is None:  # nothing to ask: the authorization decides
        return common.see_other(ctx, visit.resume_url(request))
    return _screen_page(ctx, screen)


def _birthdate(request: Request, citizen_id: str) -> date:
    citizens: CitizenService = services(request).citizens
    data = citizens.read_personal_data(
        citizen_id,
        ["birthdate"],
        actor=SELF,
        purpose=CONSENT_MANAGEMENT_PURPOSE,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
    )
    value = data["birthdate"]
    if value is None:  # never for a registered citizen: the birth date is mandatory
        raise NotFound("no birth date recorded")
    return date.fromisoformat(value)


def _choices(form: FormData, screen: _Screen) -> dict[str, str] | None:
    """The choices sent (purpose code -> yes or no), or None when one is repeated, names a
    purpose not asked, or is neither yes nor no."""
    sent, repeated = split_repeated(
        (name[len(CHOICE_PREFIX) :], value)
        for name, value in form.multi_items()
        if name.startswith(CHOICE_PREFIX)
    )
    asked_codes = {p.code for p in screen.asked}
    if repeated or set(sent) - asked_codes or any(v not in (YES, NO) for v in sent.values()):
        return None
    return {code: str(value) for code, value in sent.items()}


def _guardian_page(ctx: common.PageContext, reason: str, *, status: int) -> Response:
    """Consent refused for the citizen's age (Art. 25): a parent or guardian gives it."""
    return common.message_page(
        ctx,
        title=ctx.t("consent.title"),
        body=ctx.t("consent.guardian", reason=reason),
        status=status,
        signed_in=True,
    )


@router.post("/consent")
async def consent_submit(request: Request) -> Response:
    _request_id, pending = await common.pending_authorization(request)
    ctx, form = await common.checked_form(request, ui_locales=pending.ui_locales if pending else ())
    visit = await _visit(request, ctx, pending)  # the session is read before the CSRF check
    if form is None:
        return common.csrf_refused(ctx)
    if isinstance(visit, Response):
        return visit
    resume_url = visit.resume_url(request)
    if common.form_text(form, "action") == "cancel":  # nothing recorded: access_denied
        return common.see_other(ctx, resume_url + "&denied=1")
    screen = await asyncio.to_thread(_load_screen, request, visit.pending, visit.session.citizen_id)
    if screen is None:
        return common.see_other(ctx, resume_url)
    chosen = _choices(form, screen)
    if chosen is None:
        return common.keyed_message_page(ctx, "error.title", "error.bad_request", status=400)
    if common.form_text(form, "notice_hash") != screen.notice.content_hash:
        return _screen_page(
            ctx, screen, status=409, chosen={}, summary=ctx.t("consent.notice_changed")
        )
    missing = sorted({p.code for p in screen.asked} - set(chosen))
    if missing:
        errors = {code: ctx.t("consent.choose_error") for code in missing}
        return _screen_page(
            ctx, screen, status=400, chosen=chosen, errors=errors,
            summary=ctx.t("consent.missing_summary"),
        )  # fmt: skip
    return await _record(request, visit, screen, chosen)


async def _record(
    request: Request, visit: _Visit, screen: _Screen, chosen: dict[str, str]
) -> Response:
    """Record the citizen's decision on every purpose asked (a child's is refused: Art. 25),
    then back to the authorization (``denied`` when every purpose was refused)."""
    ctx, pending = visit.ctx, visit.pending
    resume_url = visit.resume_url(request)
    ledger = _ledger(request)
    citizen_id = visit.session.citizen_id
    birthdate = await asyncio.to_thread(_birthdate, request, citizen_id)
    now: datetime = ledger.clock()
    if is_child(birthdate, now.date()):
        return _guardian_page(ctx, ctx.t("consent.guardian_child"), status=403)
    attempt = ConsentAttempt(
        subject_id=citizen_id,
        app_id=pending.client.client_id,
        notice_hash=screen.notice.content_hash,
        choices={code: chosen[code] == YES for code in sorted(p.code for p in screen.asked)},
        act=CONSENT_ACT,
        subject_birthdate=birthdate,
    )
    try:
        await asyncio.to_thread(ledger.record, attempt)
    except NoticeChanged:
        fresh = await asyncio.to_thread(_load_screen, request, pending, citizen_id)
        if fresh is None:
            return common.see_other(ctx, resume_url)
        return _screen_page(ctx, fresh, status=409, summary=ctx.t("consent.notice_changed"))
    except InvalidConsent as exc:
        return _guardian_page(ctx, str(exc), status=400)
    denied = not any(attempt.choices.values())
    return common.see_other(ctx, resume_url + ("&denied=1" if denied else ""))


# ---------------------------------------------------------------- notices


@router.get("/notices/{client_id}/{version}")
async def notice_page(request: Request, client_id: str, version: str) -> Response:
    """An app's privacy notice (Art. 21 items, controller, DPO), public: anyone may read
    what an app says before signing in."""
    ctx = common.page_context(request)
    clients: ClientRegistry = services(request).clients
    ledger = _ledger(request)

    number = int(version) if version.isascii() and version.isdigit() and len(version) <= 9 else None

    def load() -> tuple[str, Notice | None, Notice | None, list[Purpose]] | None:
        try:
            app = clients.get(client_id)
        except NotFound:
            return None
        shown = ledger.notice(client_id, number) if number is not None else None
        return app.name, shown, ledger.current_notice(client_id), ledger.purposes(client_id)

    found = await asyncio.to_thread(load) if len(client_id) <= 128 else None
    if found is None or found[2] is None:
        return common.keyed_message_page(
            ctx, "error.not_found.title", "error.not_found", status=404
        )
    app_name, notice, current, purposes = found
    assert current is not None
    in_force = f"/notices/{client_id}/{current.version}"
    if notice is None:
        return common.message_page(
            ctx,
            title=ctx.t("error.not_found.title"),
            body=ctx.t("notice.not_current", version=current.version),
            status=404,
            links=[(in_force, ctx.t("notice.title", app=app_name))],
        )
    return common.render(
        ctx,
        "notice.html",
        title=ctx.t("notice.title", app=app_name),
        app_name=app_name,
        notice=notice,
        current=current,
        items=NOTICE_ITEMS,
        purposes=sorted(purposes, key=lambda p: p.code),
    )
