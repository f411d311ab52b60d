"""HTTP adapter of the audit log (DESIGN.md §4, "Jati's own").

Public, for anyone holding a checkpoint: ``/audit/checkpoint`` (C2SP tlog-checkpoint),
``/audit/checkpoint-key`` (C2SP vkey), ``/audit/proof/inclusion`` and
``/audit/proof/consistency`` (RFC 9162 §2.1.3-2.1.4 proofs, base64 hashes).
For auditors (scope ``audit:read``): ``/audit/leaves`` and ``/audit/events``.

The app provides ``app.state.audit_log`` and ``app.state.authorize_auditor``, a callable
taking the request that raises when the caller may not read the log.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import PlainTextResponse

from audit.entry import decode_entry
from audit.errors import InvalidEntry, InvalidRequest
from audit.log import MAX_LEAVES_PER_REQUEST, AuditLog
from audit.records import EventFilter, StoredLeaf

router = APIRouter(prefix="/audit", tags=["audit log"])

MAX_INDEX = 2**63 - 1
Index = Annotated[int, Query(ge=0, le=MAX_INDEX)]
Size = Annotated[int, Query(ge=1, le=MAX_INDEX)]
AUDIT_READ_SCOPE = "audit:read"


def _log(request: Request) -> AuditLog:
    audit_log: AuditLog = request.app.state.audit_log
    return audit_log


def require_auditor(request: Request) -> None:
    authorize: Callable[[Request, str], None] = request.app.state.authorize_auditor
    authorize(request, AUDIT_READ_SCOPE)


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


@router.get("/proof/inclusion", summary="RFC 9162 inclusion proof")
async def inclusion_proof(request: Request, leaf_index: Index, tree_size: Size) -> dict[str, Any]:
    proof = await asyncio.to_thread(_log(request).inclusion_proof, leaf_index, tree_size)
    return {
        "leaf_index": proof.leaf_index,
        "tree_size": proof.tree_size,
        "leaf_hash": _b64(proof.leaf_hash),
        "inclusion_path": [_b64(h) for h in proof.inclusion_path],
    }


@router.get("/proof/consistency", summary="RFC 9162 consistency proof")
async def consistency_proof(request: Request, first: Size, second: Size) -> dict[str, Any]:
    path = await asyncio.to_thread(_log(request).consistency_proof, first, second)
    return {"first": first, "second": second, "consistency_path": [_b64(h) for h in path]}


@router.get("/leaves", dependencies=[Depends(require_auditor)], summary="Raw entries")
async def leaves(request: Request, start: Index, end: Size) -> list[dict[str, Any]]:
    if end - start > MAX_LEAVES_PER_REQUEST:
        raise InvalidRequest(f"at most {MAX_LEAVES_PER_REQUEST} leaves per request")
    rows = await asyncio.to_thread(_log(request).leaves, start, end)
    return [{"leaf_index": i, "entry": _b64(entry)} for i, entry in rows]


@router.get("/events", dependencies=[Depends(require_auditor)], summary="Decoded, filtered events")
async def events(
    request: Request,
    subject: Annotated[str | None, Query(max_length=43, description="subject pseudonym")] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    purpose: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: Annotated[int, Query(ge=-1, le=MAX_INDEX)] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequest(f"{name} needs a time zone, e.g. 2026-11-28T00:00:00Z")
    flt = EventFilter(subject=subject, actor_id=actor, purpose=purpose, since=since, until=until)
    audit_log = _log(request)
    page = await asyncio.to_thread(audit_log.store.query, flt, after=after, limit=limit)
    return {
        "events": [event_json(leaf) for leaf in page],
        "next_after": page[-1].leaf_index if len(page) == limit else None,
    }


def event_json(leaf: StoredLeaf) -> dict[str, Any]:
    """An integrated entry as JSON for auditors: its leaf index and decoded fields."""
    try:
        fields = decode_entry(leaf.entry).to_json_dict()
    except InvalidEntry:
        fields = {"invalid_entry": True}
    return {"leaf_index": leaf.leaf_index, **fields}
