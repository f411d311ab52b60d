"""The operator's pages of the console (issue 20, part 2), beyond the service status.

- ``GET|POST /console/apps``: the relying apps, and registering one by form with the rules
  of ``jati client add`` (name, exact redirect URIs, scope, grant type); a generated secret
  is shown once. ``POST /console/apps/{id}/rotate-secret``: a new secret, shown once, behind
  a fresh authenticator code (the old one stops at once, or within the secret cache's
  minute). Each registration, refusal and rotation is recorded under the operator.
- ``GET|POST /console/apps/{id}/purposes``: the app's purposes, and a new one built from a
  form (no hand-written JSON) with the rules of ``jati purpose add``: a code, its words in
  Bahasa Indonesia (and English), a UU PDP Art. 20(2) basis, the data items (``:specific``
  marks specific data, Art. 4(2)) and the retention in days.

- ``GET /console/keys``: the token signing keys (id, algorithm, state, whether published,
  created), never a private part; ``POST /console/keys/rotate`` rotates them (each
  algorithm's next key becomes active, the active one retired and still published for a
  token's lifetime and a minute, as ``jati keys rotate`` does). A rotation is a destructive
  act: it needs a fresh authenticator code, and the code's check and its outcome are
  recorded in the log under the operator.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from audit.entry import Action, LegalBasis, Outcome
from consent.cli import check_declared
from consent.errors import ConsentError
from consent.purposes import DataItem, LocalizedText, Purpose
from identity.errors import InvalidCredentials, InvalidInput, NotFound, Throttled
from identity.http.console.access import Staff, no_app, signed_in_staff, staff_form
from identity.http.pages.common import (
    form_text,
    render,
    see_other,
    throttled_page,
)
from identity.keys.signing_keys import SUPPORTED_ALGORITHMS
from identity.oidc.client_registry import Registration
from identity.service.services import Services
from identity.service.web.state import services
from identity.staff.records import StaffRole

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_OPERATORS = (StaffRole.OPERATOR,)
KEYS_ACT = "signing_keys"


def _keys_page(staff: Staff, state: Services, *, status: int = 200, error: str | None = None,
               done: bool = False) -> Response:  # fmt: skip
    now = state.audit_log.clock()
    keys = [
        {"kid": k.kid, "alg": k.alg, "state": k.state.value, "published": k.published_at(now),
         "created_at": k.created_at}
        for k in state.key_store.list_keys()
    ]  # fmt: skip
    return render(
        staff.ctx, "console_keys.html", title=staff.ctx.t("console.keys.title"), status=status,
        console_user=staff.member, keys=keys, error=error,
        done=staff.ctx.t("console.keys.rotated") if done else None,
    )  # fmt: skip


@router.get("/console/keys")
async def keys(request: Request) -> Response:
    staff = await signed_in_staff(request, _OPERATORS)
    if not isinstance(staff, Staff):
        return staff
    state = services(request)
    done = request.query_params.get("done") == "rotated"
    return await asyncio.to_thread(lambda: _keys_page(staff, state, done=done))


@router.post("/console/keys/rotate")
async def rotate(request: Request) -> Response:
    sent = await staff_form(request, _OPERATORS)
    if isinstance(sent, Response):
        return sent
    staff, form = sent
    ctx = staff.ctx
    state = services(request)
    code = form_text(form, "code") or ""
    try:
        await asyncio.to_thread(state.staff.reauthenticate, staff.member.id, code, act=KEYS_ACT)
    except Throttled as exc:
        return throttled_page(ctx, exc)
    except InvalidCredentials:
        error = ctx.t("console.reauth.refused")
        return await asyncio.to_thread(lambda: _keys_page(staff, state, status=400, error=error))

    def run() -> None:
        now = state.audit_log.clock()
        state.key_store.ensure(SUPPORTED_ALGORITHMS, now=now)
        state.key_store.rotate(
            SUPPORTED_ALGORITHMS, now=now,
            publish_for=timedelta(seconds=state.settings.token_lifetime + 60),
        )  # fmt: skip

    try:
        await asyncio.to_thread(run)
    except Exception:
        await asyncio.to_thread(state.staff.acted, staff.member, KEYS_ACT, outcome=Outcome.ERROR)
        raise
    await asyncio.to_thread(state.staff.acted, staff.member, KEYS_ACT, outcome=Outcome.SUCCESS)
    return see_other(ctx, "/console/keys?done=rotated")


# ---------------------------------------------------------------- relying apps

APP_ACT = "relying_app"
_MAX_REDIRECTS = 10


def _apps_page(staff: Staff, state: Services, *, status: int = 200, error: str | None = None,
               shown: dict[str, str] | None = None, kept: dict[str, str] | None = None,
               reason: str | None = None) -> Response:  # fmt: skip
    apps = sorted(state.clients.list(), key=lambda app: app.name.lower())
    return render(
        staff.ctx, "console_apps.html", title=staff.ctx.t("console.apps.title"), status=status,
        console_user=staff.member, apps=apps, error=error, shown=shown, kept=kept or {},
        reason=reason,
    )  # fmt: skip


@router.get("/console/apps")
async def apps(request: Request) -> Response:
    staff = await signed_in_staff(request, _OPERATORS)
    if not isinstance(staff, Staff):
        return staff
    state = services(request)
    return await asyncio.to_thread(lambda: _apps_page(staff, state))


@router.post("/console/apps")
async def register_app(request: Request) -> Response:
    """Register a relying app by form, with the rules of ``jati client add``; a generated
    secret is shown once on the answer (``no-store``)."""
    sent = await staff_form(request, _OPERATORS)
    if isinstance(sent, Response):
        return sent
    staff, form = sent
    ctx = staff.ctx
    state = services(request)
    kept = {n: (form_text(form, n) or "")[:2000] for n in ("name", "redirect_uris", "scope")}
    grant = form_text(form, "grant_type") or "authorization_code"
    uris = [u.strip() for u in kept["redirect_uris"].splitlines() if u.strip()][:_MAX_REDIRECTS]

    def run() -> Registration:
        return state.clients.register(
            name=kept["name"], scope=[kept["scope"]], redirect_uris=uris,
            grant_type=grant if grant in ("authorization_code", "client_credentials") else "",
        )  # fmt: skip

    try:
        registration = await asyncio.to_thread(run)
    except InvalidInput as exc:  # names the rule broken, never a secret
        await asyncio.to_thread(state.staff.acted, staff.member, APP_ACT, outcome=Outcome.DENIED,
                                action=Action.CREATE)  # fmt: skip
        error, reason = ctx.t("console.apps.refused"), str(exc)
        return await asyncio.to_thread(
            lambda: _apps_page(staff, state, status=400, error=error, kept=kept, reason=reason)
        )
    app = registration.app
    await asyncio.to_thread(state.staff.acted, staff.member, APP_ACT, outcome=Outcome.SUCCESS,
                            action=Action.CREATE, target=app.client_id)  # fmt: skip
    shown = {"client_id": app.client_id, "client_secret": registration.client_secret or ""}
    return await asyncio.to_thread(lambda: _apps_page(staff, state, shown=shown))


@router.post("/console/apps/{client_id}/rotate-secret")
async def rotate_app_secret(request: Request, client_id: str) -> Response:
    """A new client secret, shown once, behind a fresh authenticator code."""
    sent = await staff_form(request, _OPERATORS)
    if isinstance(sent, Response):
        return sent
    staff, form = sent
    ctx = staff.ctx
    state = services(request)
    try:
        await asyncio.to_thread(
            state.staff.reauthenticate, staff.member.id, form_text(form, "code") or "",
            act=APP_ACT,
        )  # fmt: skip
        secret = await asyncio.to_thread(state.clients.rotate_secret, client_id[:64])
    except Throttled as exc:
        return throttled_page(ctx, exc)
    except InvalidCredentials:
        error = ctx.t("console.reauth.refused")
        return await asyncio.to_thread(lambda: _apps_page(staff, state, status=400, error=error))
    except (NotFound, InvalidInput):
        error = ctx.t("console.apps.no_secret")
        return await asyncio.to_thread(lambda: _apps_page(staff, state, status=400, error=error))
    await asyncio.to_thread(state.staff.acted, staff.member, APP_ACT, outcome=Outcome.SUCCESS,
                            target=client_id[:64])  # fmt: skip
    shown = {"client_id": client_id[:64], "client_secret": secret}
    return await asyncio.to_thread(lambda: _apps_page(staff, state, shown=shown))


# ---------------------------------------------------------------- purposes

PURPOSE_ACT = "purpose"


def _purposes_page(staff: Staff, state: Services, app_id: str, *, status: int = 200,
                   error: str | None = None, reason: str | None = None, done: bool = False,
                   kept: dict[str, str] | None = None) -> Response:  # fmt: skip
    app = state.clients.find(app_id)
    assert app is not None  # the caller checked
    return render(
        staff.ctx, "console_purposes.html",
        title=staff.ctx.t("console.purposes.title", app=app.name), status=status,
        console_user=staff.member, app=app, purposes=state.consent_ledger.purposes(app_id),
        bases=[b.value for b in LegalBasis], error=error, reason=reason, kept=kept or {},
        done=staff.ctx.t("console.purposes.added") if done else None,
    )  # fmt: skip


@router.get("/console/apps/{client_id}/purposes")
async def purposes(request: Request, client_id: str) -> Response:
    staff = await signed_in_staff(request, _OPERATORS)
    if not isinstance(staff, Staff):
        return staff
    state = services(request)
    if not await asyncio.to_thread(state.clients.exists, client_id[:64]):
        return no_app(staff)
    done = request.query_params.get("done") == "added"
    return await asyncio.to_thread(lambda: _purposes_page(staff, state, client_id, done=done))


@router.post("/console/apps/{client_id}/purposes")
async def add_purpose(request: Request, client_id: str) -> Response:
    """A purpose built from the form (``jati purpose add``'s rules: a code, its words in
    both languages, a UU PDP Art. 20(2) basis, the data items, the retention)."""
    sent = await staff_form(request, _OPERATORS)
    if isinstance(sent, Response):
        return sent
    staff, form = sent
    ctx = staff.ctx
    state, app_id = services(request), client_id[:64]
    if not await asyncio.to_thread(state.clients.exists, app_id):
        return no_app(staff)
    names = ("code", "description_id", "description_en", "basis", "items", "retention_days")
    kept = {n: (form_text(form, n) or "").strip()[:500] for n in names}

    def run() -> None:
        days = kept["retention_days"]
        purpose = Purpose(
            app_id=app_id, code=kept["code"],
            description=LocalizedText(kept["description_id"], kept["description_en"] or None),
            legal_basis=LegalBasis(kept["basis"]),
            data_items=tuple(DataItem.parse(i) for i in kept["items"].split(",") if i.strip()),
            retention_days=int(days) if days.isascii() and days.isdigit() else 0,
        )  # fmt: skip
        app = state.clients.find(app_id)
        declared = {p.code: p.legal_basis for p in app.purposes} if app is not None else {}
        check_declared(purpose, declared)
        state.consent_ledger.register_purpose(purpose)

    acted = state.staff.acted
    try:
        await asyncio.to_thread(run)
    except (ConsentError, ValueError) as exc:
        reason = str(exc) if isinstance(exc, ConsentError) else None
        denied = Outcome.DENIED
        await asyncio.to_thread(
            lambda: acted(staff.member, PURPOSE_ACT, outcome=denied, action=Action.CREATE,
                          target=app_id)
        )  # fmt: skip
        error = ctx.t("console.purposes.refused")
        return await asyncio.to_thread(
            lambda: _purposes_page(staff, state, app_id, status=400, kept=kept, reason=reason,
                                   error=error)
        )  # fmt: skip
    await asyncio.to_thread(
        lambda: acted(staff.member, PURPOSE_ACT, outcome=Outcome.SUCCESS, action=Action.CREATE,
                      target=app_id)
    )  # fmt: skip
    return see_other(ctx, f"/console/apps/{app_id}/purposes?done=added")
