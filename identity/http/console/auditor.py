"""The auditor's pages of the console (issue 20, part 4): search the log and open an entry.

- ``GET /console/search``: the form; ``POST /console/search`` runs it (a form, never a URL, so
  that a NIK stays out of addresses, histories and server logs): the citizen by NIK (through
  the keyed blind index; a malformed NIK is refused without being repeated) or by internal
  id, and the actor, the purpose and the dates (in the auditor's zone). Each search is
  recorded in the log under the auditor (:func:`audit.search.search_events`). Results come
  in log order, 50 a page; the next page names the citizen by pseudonym only.
- ``GET /console/entry/{leaf_index}``: the entry's decoded fields, its canonical bytes and
  leaf hash, and its RFC 9162 inclusion proof checked here against the latest checkpoint,
  whose signature is checked first (:func:`audit.checkpoint.open_checkpoint`). Opening an
  entry is recorded as an auditor's read of the log.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from audit.checkpoint import open_checkpoint
from audit.entry import AuditEntry, LegalBasis, decode_entry
from audit.errors import AuditError
from audit.merkle.proof_verification import verify_inclusion
from audit.merkle.tree_hash import hash_leaf
from audit.records import StoredLeaf, auditor_query_entry
from audit.search import Search, search_events
from identity.errors import InvalidInput, InvalidNik
from identity.http.console.access import Staff, signed_in_staff, staff_form
from identity.http.pages.common import (
    PageContext,
    form_text,
    message_page,
    render,
)
from identity.http.pages.local_time import ZONES
from identity.service.services import Services
from identity.service.web.security_headers import PROOF_SCRIPT
from identity.service.web.state import services
from identity.staff.records import StaffRole

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE = 50
_AUDITORS = (StaffRole.AUDITOR,)
_FIELDS = ("nik", "subject_id", "actor", "purpose", "legal_basis", "since", "until")
_BASES = tuple(basis.value for basis in LegalBasis)


@dataclass(frozen=True, slots=True)
class _Row:
    leaf_index: int
    entry: AuditEntry


def _day(value: str | None, ctx: PageContext, *, end: bool) -> datetime | None:
    """A date typed in the form, as the start (or the end) of that day in the page's zone."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("a date is YYYY-MM-DD") from None
    moment = datetime.combine(day, time(0), tzinfo=ZONES[ctx.zone])
    try:
        return moment + timedelta(days=1) if end else moment
    except OverflowError:  # the last day there is
        raise InvalidInput("a date is YYYY-MM-DD") from None


def _asked(form: FormData, ctx: PageContext) -> Search:
    """The search the form asks; the citizen by NIK or pseudonym, or by internal id."""
    values = {name: (form_text(form, name) or "").strip()[:128] or None for name in _FIELDS}
    subject = values["nik"] or form_text(form, "pseudonym") or None
    return Search(
        subject=subject, subject_id=values["subject_id"], actor=values["actor"],
        purpose=values["purpose"], since=_day(values["since"], ctx, end=False),
        until=_day(values["until"], ctx, end=True), legal_basis=values["legal_basis"],
    )  # fmt: skip


def _search_page(staff: Staff, *, status: int = 200, error: str | None = None,
                 rows: list[_Row] | None = None, searched: bool = False,
                 next_fields: dict[str, str] | None = None,
                 kept: dict[str, str] | None = None) -> Response:  # fmt: skip
    return render(
        staff.ctx, "console_search.html", title=staff.ctx.t("console.search.title"),
        status=status, console_user=staff.member, error=error, rows=rows or [],
        searched=searched, next_fields=next_fields, kept=kept or {}, bases=_BASES,
    )  # fmt: skip


@router.get("/console/search")
async def search_form(request: Request) -> Response:
    staff = await signed_in_staff(request, _AUDITORS)
    if not isinstance(staff, Staff):
        return staff
    return _search_page(staff)


@router.post("/console/search")
async def search(request: Request) -> Response:
    sent = await staff_form(request, _AUDITORS)
    if isinstance(sent, Response):
        return sent
    staff, form = sent
    ctx = staff.ctx
    kept = {n: (form_text(form, n) or "")[:128] for n in _FIELDS if n != "nik"}  # never a NIK
    raw_after = form_text(form, "after") or ""
    after = (
        int(raw_after)
        if raw_after.isascii() and raw_after.isdigit() and len(raw_after) < 19
        else -1
    )
    if kept["legal_basis"] not in ("", *_BASES):  # no choice of the form's; never repeated
        kept["legal_basis"] = ""
        return _search_page(staff, status=400, error=ctx.t("console.search.bad_basis"), kept=kept)
    state = services(request)
    try:
        asked = _asked(form, ctx)
        flt, page = await asyncio.to_thread(
            lambda: search_events(
                state.audit_log, state.audit_recorder, state.audit_subjects, staff.member.actor,
                asked, resource="events", after=max(after, -1), limit=PAGE,
            )
        )  # fmt: skip
    except InvalidNik:  # never repeated
        return _search_page(staff, status=400, error=ctx.t("console.search.bad_nik"), kept=kept)
    except InvalidInput:
        return _search_page(staff, status=400, error=ctx.t("console.search.bad_date"), kept=kept)
    except AuditError:
        return _search_page(staff, status=400, error=ctx.t("console.search.both"), kept=kept)
    rows = stored_rows(page)
    next_fields = None
    if len(page) == PAGE:
        next_fields = {**kept, "after": str(page[-1].leaf_index)}
        if flt.subject is not None:
            next_fields = {**next_fields, "pseudonym": flt.subject, "subject_id": ""}
    return _search_page(staff, rows=rows, searched=True, next_fields=next_fields, kept=kept)


def _proof(state: Services, leaf: tuple[int, bytes]) -> dict[str, Any]:
    """The entry's inclusion proof checked against the latest genuine checkpoint."""
    audit_log = state.audit_log
    stored = audit_log.checkpoint()
    checkpoint = open_checkpoint(stored.note, audit_log.verifier, origin=audit_log.origin)
    index, entry = leaf
    if index >= checkpoint.size:
        return {"covered": False, "size": checkpoint.size}
    proof = audit_log.inclusion_proof(index, checkpoint.size)
    verify_inclusion(
        leaf_index=index, tree_size=checkpoint.size, leaf_hash=hash_leaf(entry),
        proof=proof.inclusion_path, root=checkpoint.root_hash,
    )  # fmt: skip
    return {
        "covered": True, "size": checkpoint.size,
        "root": base64.b64encode(checkpoint.root_hash).decode(),
        "path": [base64.b64encode(h).decode() for h in proof.inclusion_path],
        "note": stored.note,
    }  # fmt: skip


@router.get("/console/entry/{leaf_index}")
async def entry(request: Request, leaf_index: str) -> Response:
    staff = await signed_in_staff(request, _AUDITORS)
    if not isinstance(staff, Staff):
        return staff
    ctx, state = staff.ctx, services(request)
    digits = leaf_index.isascii() and leaf_index.isdigit() and len(leaf_index) < 19
    index = int(leaf_index) if digits else -1

    def load() -> tuple[tuple[int, bytes] | None, dict[str, Any] | None, bool]:
        try:
            found = state.audit_log.leaves(index, index + 1) if index >= 0 else []
        except AuditError:  # past the end of the log
            found = []
        if not found:
            return None, None, True
        subject = decode_entry(found[0][1]).subject
        state.audit_recorder.record(
            auditor_query_entry(time=state.audit_log.clock(), actor=staff.member.actor,
                                resource="leaves", filters=(), subject=subject)
        )  # fmt: skip
        try:
            return found[0], _proof(state, found[0]), True
        except AuditError:
            return found[0], None, False

    leaf, proof, verified = await asyncio.to_thread(load)
    if leaf is None:
        return message_page(
            ctx, title=ctx.t("error.not_found.title"), body=ctx.t("console.entry.unknown"),
            status=404, links=[("/console/search", ctx.t("console.search.title"))],
        )  # fmt: skip
    decoded = decode_entry(leaf[1])
    vkey = await asyncio.to_thread(state.audit_log.vkey)  # may read the log's origin
    return render(
        ctx, "console_entry.html", title=ctx.t("console.entry.title", index=leaf[0]),
        console_user=staff.member, row=_Row(leaf[0], decoded), canonical=leaf[1].decode(),
        leaf_hash=base64.b64encode(hash_leaf(leaf[1])).decode(), proof=proof,
        verified=verified, entry_b64=base64.b64encode(leaf[1]).decode(), vkey=vkey,
        path_json=json.dumps(proof["path"] if proof and proof["covered"] else []),
    )  # fmt: skip


@router.get("/static/proof.js")
async def proof_script() -> Response:
    """The entry page's proof checker, allowed by its hash (``PAGE_CSP``); revalidated on
    every use, so a new version never meets an old page's ``integrity``."""
    return Response(
        PROOF_SCRIPT,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def stored_rows(page: list[StoredLeaf]) -> list[_Row]:
    """Decoded rows of a page of leaves."""
    return [_Row(leaf.leaf_index, decode_entry(leaf.entry)) for leaf in page]
