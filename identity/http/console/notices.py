"""An app's privacy notice in the console (issue 20, part 2): written in a form, previewed as
citizens will see it, published as a new version, and compared with the version before.

- ``GET /console/apps/{id}/notice``: a form holding every UU PDP Art. 21(1) item in Bahasa
  Indonesia and English, the controller and the DPO of Art. 53, filled from the version in
  force; below it, every published version with a link to its page and to its changes.
- ``POST /console/apps/{id}/notice``: ``action=preview`` checks the form with the rules of
  ``jati notice publish`` (:meth:`consent.notices.NoticeContent.from_json`, a refusal naming
  the member) and shows the consent screen rendered from the very template citizens get
  (``_consent_screen.html``, its buttons disabled), the whole notice, and what differs from
  the version in force; ``action=publish`` publishes it (Art. 21(2): existing consents stop
  counting and citizens are asked again), recorded under the operator; ``action=edit`` goes
  back to the form with what was typed.
- ``GET /console/apps/{id}/notice/changes/{version}``: what that version changed from the
  one before it, word by word (:mod:`consent.notice_diff`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from audit.entry import Action, Outcome
from consent.errors import InvalidNotice
from consent.notice_diff import notice_changes
from consent.notices import NOTICE_ITEMS, Notice, NoticeContent
from identity.http.console.access import Staff, no_app, signed_in_staff, staff_form
from identity.http.pages.common import (
    form_text,
    render,
    see_other,
)
from identity.service.services import Services
from identity.service.web.state import services
from identity.staff.records import StaffRole

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_OPERATORS = (StaffRole.OPERATOR,)
NOTICE_ITEM = "notice"
#: The form's fields: the controller, each Art. 21(1) item in both languages, the DPO.
FIELDS = (
    "controller.name", "controller.contact",
    *(f"items.{name}.{lang}" for name in NOTICE_ITEMS for lang in ("id", "en")),
    "dpo.name", "dpo.email", "dpo.phone", "dpo.url",
)  # fmt: skip


def _typed(form: FormData) -> dict[str, str]:
    return {name: (form_text(form, name) or "").strip() for name in FIELDS}


def _values_of(content: NoticeContent | None) -> dict[str, str]:
    if content is None:
        return dict.fromkeys(FIELDS, "")
    document = content.to_json()
    values = {
        "controller.name": content.controller,
        "controller.contact": content.controller_contact or "",
        **{f"dpo.{k}": document["dpo"].get(k, "") for k in ("name", "email", "phone", "url")},
    }
    for name in NOTICE_ITEMS:
        values[f"items.{name}.id"] = content.items[name].id
        values[f"items.{name}.en"] = content.items[name].en or ""
    return values


def _content(values: dict[str, str]) -> NoticeContent:
    """The notice the form says, checked as ``jati notice publish`` checks a file.

    Raises:
        InvalidNotice: names the member (``items.retention.id must not be empty``).
    """
    controller: Any = values["controller.name"]
    if values["controller.contact"]:
        controller = {"name": controller, "contact": values["controller.contact"]}
    items = {
        name: {"id": values[f"items.{name}.id"], "en": values[f"items.{name}.en"] or None}
        for name in NOTICE_ITEMS
    }
    dpo = {k: values[f"dpo.{k}"] or None for k in ("name", "email", "phone", "url")}
    return NoticeContent.from_json({"controller": controller, "items": items, "dpo": dpo})


def _versions(state: Services, app_id: str) -> list[Notice]:
    """Every published version of the app's notice, newest first."""
    ledger = state.consent_ledger
    current = ledger.current_notice(app_id)
    if current is None:
        return []
    found = (ledger.notice(app_id, v) for v in range(current.version, 0, -1))
    return [notice for notice in found if notice is not None]


def _form_page(staff: Staff, state: Services, app_id: str, *, status: int = 200,
               values: dict[str, str] | None = None, error: str | None = None,
               reason: str | None = None, done: str | None = None) -> Response:  # fmt: skip
    app = state.clients.find(app_id)
    assert app is not None  # the caller checked
    versions = _versions(state, app_id)
    if values is None:
        values = _values_of(versions[0].content if versions else None)
    ctx = staff.ctx
    return render(
        ctx, "console_notice.html", title=ctx.t("console.notice.title", app=app.name),
        status=status, console_user=staff.member, app=app, values=values, items=NOTICE_ITEMS,
        versions=versions, error=error, reason=reason, done=ctx.t(done) if done else None,
    )  # fmt: skip


def _preview_page(staff: Staff, state: Services, app_id: str, values: dict[str, str],
                  content: NoticeContent) -> Response:  # fmt: skip
    """The consent screen exactly as citizens will get it, from the draft notice."""
    app = state.clients.find(app_id)
    assert app is not None
    ledger = state.consent_ledger
    current = ledger.current_notice(app_id)
    draft = Notice(
        app_id=app_id, version=(current.version + 1) if current else 1, content=content,
        content_hash=content.content_hash, published_at=ledger.clock(),
    )  # fmt: skip
    purposes = sorted(ledger.purposes(app_id), key=lambda p: p.code)
    ctx = staff.ctx
    return render(
        ctx, "console_notice_preview.html", title=ctx.t("console.notice.preview_title"),
        console_user=staff.member, app=app, app_name=app.name, client_id=app_id,
        notice=draft, items=NOTICE_ITEMS, values=values,
        asked=tuple(p for p in purposes if p.needs_consent),
        others=tuple(p for p in purposes if not p.needs_consent), current={}, chosen={},
        errors={}, summary=None, action=f"/console/apps/{app_id}/notice", preview=True,
        choice_prefix="choice-", yes="yes", no="no", notice_href="#draft-notice",
        unchanged=current is not None and current.content_hash == draft.content_hash,
        changes=notice_changes(current.content, content) if current is not None else None,
    )  # fmt: skip


def _record(state: Services, staff: Staff, app_id: str, outcome: Outcome) -> None:
    """A publication (or its refusal), in the log under the operator, naming the app."""
    state.staff.acted(staff.member, NOTICE_ITEM, outcome=outcome, action=Action.CREATE,
                      target=app_id)  # fmt: skip


@router.get("/console/apps/{client_id}/notice")
async def notice_form(request: Request, client_id: str) -> Response:
    staff = await signed_in_staff(request, _OPERATORS)
    if not isinstance(staff, Staff):
        return staff
    state, app_id = services(request), client_id[:64]
    if not await asyncio.to_thread(state.clients.exists, app_id):
        return no_app(staff)
    done = {"published": "console.notice.published", "same": "console.notice.same"}.get(
        request.query_params.get("done", "")
    )
    return await asyncio.to_thread(lambda: _form_page(staff, state, app_id, done=done))


@router.post("/console/apps/{client_id}/notice")
async def notice_action(request: Request, client_id: str) -> Response:
    sent = await staff_form(request, _OPERATORS)
    if isinstance(sent, Response):
        return sent
    staff, form = sent
    ctx = staff.ctx
    state, app_id = services(request), client_id[:64]
    if not await asyncio.to_thread(state.clients.exists, app_id):
        return no_app(staff)
    values, action = _typed(form), form_text(form, "action")
    if action == "edit":
        return await asyncio.to_thread(lambda: _form_page(staff, state, app_id, values=values))
    try:
        content = _content(values)
    except InvalidNotice as exc:  # names the member, never more than the operator typed
        if action == "publish":
            await asyncio.to_thread(_record, state, staff, app_id, Outcome.DENIED)
        error, reason = ctx.t("console.notice.refused"), str(exc)
        return await asyncio.to_thread(
            lambda: _form_page(staff, state, app_id, status=400, values=values, error=error,
                               reason=reason)
        )  # fmt: skip
    if action != "publish":
        return await asyncio.to_thread(_preview_page, staff, state, app_id, values, content)
    ledger = state.consent_ledger
    before = await asyncio.to_thread(ledger.current_notice, app_id)
    published = await asyncio.to_thread(ledger.publish_notice, app_id, content)
    if before is not None and published.version == before.version:
        return see_other(ctx, f"/console/apps/{app_id}/notice?done=same")
    await asyncio.to_thread(_record, state, staff, app_id, Outcome.SUCCESS)
    return see_other(ctx, f"/console/apps/{app_id}/notice?done=published")


@router.get("/console/apps/{client_id}/notice/changes/{version}")
async def notice_changes_page(request: Request, client_id: str, version: str) -> Response:
    staff = await signed_in_staff(request, _OPERATORS)
    if not isinstance(staff, Staff):
        return staff
    state, app_id = services(request), client_id[:64]
    number = int(version) if version.isascii() and version.isdigit() and len(version) < 9 else 0

    def load() -> tuple[str, Notice, Notice | None] | None:
        app = state.clients.find(app_id)
        shown = state.consent_ledger.notice(app_id, number) if app and number else None
        if app is None or shown is None:
            return None
        return app.name, shown, state.consent_ledger.notice(app_id, number - 1)

    found = await asyncio.to_thread(load)
    if found is None:
        return no_app(staff)
    name, shown, before = found
    ctx = staff.ctx
    return render(
        ctx, "console_notice_changes.html",
        title=ctx.t("console.notice.changes_title", app=name, version=shown.version),
        console_user=staff.member, app_id=app_id, shown=shown, before=before,
        changes=notice_changes(before.content, shown.content) if before else None,
    )  # fmt: skip
