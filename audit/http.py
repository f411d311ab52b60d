"""HTTP adapter of the audit log (DESIGN.md §4, "Jati's own").

Public, for anyone holding a checkpoint: ``/audit/checkpoint`` (C2SP tlog-checkpoint),
``/audit/checkpoint-key`` (C2SP vkey), ``/audit/proof/inclusion`` and
``/audit/proof/consistency`` (RFC 9162 §2.1.3-2.1.4 proofs, base64 hashes).
For auditors (scope ``audit:read``): ``/audit/leaves`` and ``/audit/events``.

Every auditor call that answers is itself recorded in the log (UU PDP Art. 31: reading the
record of processing is processing): one entry per call, appended and committed *before*
the answer is sent (no entry, no answer), naming the auditor and the filters used but never
a filter's value; a NIK filter appears only as the citizen's keyed pseudonym. A refused or
malformed call reads nothing and records nothing.

What the app provides on ``app.state``:

- ``audit_log``: the :class:`~audit.log.AuditLog`;
- ``authorize_auditor(request, scope)``: raises unless the caller may read the log, and
  returns the access token's claims (RFC 9068 §2.2: ``client_id`` names the auditor);
- ``audit_subjects``: a :class:`audit.search.SubjectResolver`, the identity package's way from a NIK
  (keyed blind index) or an internal id to the audit pseudonym;
- ``audit_recorder``: an :class:`audit.search.EntryRecorder` that commits one entry.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BeforeValidator
from starlette.responses import PlainTextResponse

from audit.entry import Actor, ActorKind, decode_entry
from audit.errors import InvalidEntry, InvalidRequest
from audit.log import MAX_LEAVES_PER_REQUEST, AuditLog
from audit.records import EventFilter, StoredLeaf, auditor_query_entry
from audit.search import EntryRecorder, Search, SubjectResolver, search_events

router = APIRouter(prefix="/audit", tags=["audit log"])

#: Leaf indices and tree sizes are signed 64-bit integers in the store (BIGINT): a larger
#: number in a query would fail in the driver (OverflowError on SQLite, "bigint out of
#: range" on PostgreSQL), so every integer parameter is bounded here, as 400.
MAX_INDEX = 2**63 - 1
Index = Annotated[int, Query(ge=0, le=MAX_INDEX)]
Size = Annotated[int, Query(ge=1, le=MAX_INDEX)]
#: A paging cursor: the last leaf index already seen, -1 to start.
Cursor = Annotated[
    int, Query(ge=-1, le=MAX_INDEX, description="the last leaf index already seen (-1 to start)")
]
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _date_and_time(value: object) -> object:
    """A date and time as text (RFC 3339): pydantic would also read a number as Unix time."""
    if isinstance(value, str) and not _DATE_TIME.match(value):
        raise ValueError("a date and time, e.g. 2026-11-28T00:00:00Z")
    return value


#: A query's date and time (``format: date-time``), and only that.
DateTime = Annotated[datetime, BeforeValidator(_date_and_time)]
AUDIT_READ_SCOPE = "audit:read"
#: The actor recorded when an authorizer vouches for the caller without naming it.
UNIDENTIFIED_AUDITOR = Actor(kind=ActorKind.RELYING_APP, id="unidentified-auditor")


def _log(request: Request) -> AuditLog:
    audit_log: AuditLog = request.app.state.audit_log
    return audit_log


def _recorder(request: Request) -> EntryRecorder:
    recorder: EntryRecorder = request.app.state.audit_recorder
    return recorder


def require_auditor(request: Request) -> Actor:
    """Authorize the caller for scope ``audit:read``; return the auditor as an audit actor.

    The actor is the token's ``client_id`` (RFC 9068 §2.2), the auditor app that Jati
    registered; an authorizer that returns no claims (a custom one) is recorded as
    ``unidentified-auditor``.
    """
    authorize: Callable[[Request, str], object] = request.app.state.authorize_auditor
    claims = authorize(request, AUDIT_READ_SCOPE)
    client_id = claims.get("client_id") if isinstance(claims, Mapping) else None
    if client_id is None:
        return UNIDENTIFIED_AUDITOR
    try:
        return Actor(kind=ActorKind.RELYING_APP, id=str(client_id))
    except InvalidEntry:
        raise InvalidRequest(
            "this access token's client_id cannot be recorded as an auditor"
        ) from None


Auditor = Annotated[Actor, Depends(require_auditor)]

#: What the routes answer besides 200, as OpenAPI responses (the app documents every
#: error as a problem document).
_OUT_OF_RANGE: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "a parameter out of range: past the log's current size, or not in "
        "the order the proof needs"
    }
}
_AUDITOR_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no access token, or not a valid auditor app's own token"},
    403: {"description": "the access token lacks the audit:read scope"},
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@router.get("/checkpoint", response_class=PlainTextResponse, summary="Latest signed checkpoint")
async def checkpoint(request: Request) -> PlainTextResponse:
    stored = await asyncio.to_thread(_log(request).checkpoint)
    return PlainTextResponse(
        stored.note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


@router.get("/checkpoint-key", response_class=PlainTextResponse, summary="C2SP verifier key")
async def checkpoint_key(request: Request) -> PlainTextResponse:
    vkey = await asyncio.to_thread(_log(request).vkey)  # may read the log's origin
    return PlainTextResponse(
        vkey + "\n",
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/proof/inclusion", summary="RFC 9162 inclusion proof", responses=_OUT_OF_RANGE)
async def inclusion_proof(request: Request, leaf_index: Index, tree_size: Size) -> dict[str, Any]:
    proof = await asyncio.to_thread(_log(request).inclusion_proof, leaf_index, tree_size)
    return {
        "leaf_index": proof.leaf_index,
        "tree_size": proof.tree_size,
        "leaf_hash": _b64(proof.leaf_hash),
        "inclusion_path": [_b64(h) for h in proof.inclusion_path],
    }


@router.get("/proof/consistency", summary="RFC 9162 consistency proof", responses=_OUT_OF_RANGE)
async def consistency_proof(request: Request, first: Size, second: Size) -> dict[str, Any]:
    path = await asyncio.to_thread(_log(request).consistency_proof, first, second)
    return {"first": first, "second": second, "consistency_path": [_b64(h) for h in path]}


@router.get("/leaves", summary="Raw entries", responses={**_OUT_OF_RANGE, **_AUDITOR_ERRORS})
async def leaves(
    request: Request, auditor: Auditor, start: Index, end: Size
) -> list[dict[str, Any]]:
    """Entries ``[start, end)`` as the exact leaf bytes (base64), at most 1000 per call."""
    if end - start > MAX_LEAVES_PER_REQUEST:
        raise InvalidRequest(f"at most {MAX_LEAVES_PER_REQUEST} leaves per request")
    audit_log, recorder = _log(request), _recorder(request)

    def run() -> list[tuple[int, bytes]]:
        rows = audit_log.leaves(start, end)  # a range out of bounds fails here, unrecorded
        recorder.record(
            auditor_query_entry(time=audit_log.clock(), actor=auditor, resource="leaves")
        )
        return rows

    rows = await asyncio.to_thread(run)
    return [{"leaf_index": i, "entry": _b64(entry)} for i, entry in rows]


@router.get(
    "/events",
    summary="Decoded, filtered events",
    responses={
        200: {
            "description": "a page of events; Link names the next page (RFC 8288)",
            "headers": {"Link": {"required": False, "schema": {"type": "string"}}},
        },
        400: {"description": "a malformed parameter or NIK (never repeated)"},
        **_AUDITOR_ERRORS,
    },
)
async def events(
    request: Request,
    response: Response,
    auditor: Auditor,
    subject: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=43,
            description="a citizen's 16-digit NIK (found through the keyed blind index) "
            "or their 43-character audit pseudonym",
        ),
    ] = None,
    subject_id: Annotated[
        str | None, Query(min_length=1, max_length=128, description="a citizen's internal id")
    ] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    purpose: Annotated[str | None, Query(max_length=64)] = None,
    legal_basis: Annotated[
        str | None,
        Query(max_length=1, description="UU PDP Art. 20(2) basis: a, b, c, d, e or f"),
    ] = None,
    since: Annotated[DateTime | None, Query(description="from (inclusive), with a zone")] = None,
    until: Annotated[DateTime | None, Query(description="before (exclusive), with a zone")] = None,
    after: Cursor = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Integrated entries matching every filter given, in log order, decoded.

    Paging: ``after`` is the last leaf index already seen (-1 to start); the answer's
    ``next_after`` is the cursor for the next page (null on the last page), and the
    ``Link: <...>; rel="next"`` header (RFC 8288) repeats the query with it. A NIK is never
    repeated there: the next page names the citizen by pseudonym.

    A malformed NIK answers 400 (without repeating it); a well-formed NIK that no citizen
    holds answers an empty page, like a citizen without events.
    """
    audit_log, recorder = _log(request), _recorder(request)
    resolver: SubjectResolver = request.app.state.audit_subjects
    asked = Search(subject, subject_id, actor, purpose, since, until, legal_basis)
    flt, page = await asyncio.to_thread(
        lambda: search_events(
            audit_log,
            recorder,
            resolver,
            auditor,
            asked,
            resource="events",
            after=after,
            limit=limit,
        )
    )
    next_after = page[-1].leaf_index if len(page) == limit else None
    if next_after is not None:
        response.headers["Link"] = f'<{_next_page(request, flt, next_after, limit)}>; rel="next"'
    return {"events": [event_json(leaf) for leaf in page], "next_after": next_after}


def _next_page(request: Request, flt: EventFilter, after: int, limit: int) -> str:
    """The next page's URL, relative to this one (RFC 8288 §3.1), naming no NIK or id."""
    params: dict[str, str | int] = {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in (
            ("subject", flt.subject),
            ("actor", flt.actor_id),
            ("purpose", flt.purpose),
            ("legal_basis", flt.legal_basis),
            ("since", flt.since),
            ("until", flt.until),
        )
        if value is not None
    }
    params.update(after=after, limit=limit)
    return f"{request.url.path}?{urlencode(params)}"


def event_json(leaf: StoredLeaf) -> dict[str, Any]:
    """An integrated entry as JSON for auditors: its leaf index and decoded fields."""
    try:
        fields = decode_entry(leaf.entry).to_json_dict()
    except InvalidEntry:
        fields = {"invalid_entry": True}
    return {"leaf_index": leaf.leaf_index, **fields}
