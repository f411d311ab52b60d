"""The citizen API's data-subject request routes (DESIGN.md §4; UU PDP Art. 6-8, 11, 13, 14,
30-32, 41, 43-45), authorized by a citizen's access token (scope ``me``).

- ``POST /me/requests`` with ``{"kind": "access"|"correction"|"erasure"|"restriction"}``
  (a correction adds ``"fields": {"email": "...", ...}``): the request is recorded (Art. 14)
  and carried out at once; 201 with the request, its due-by and outcome. An erasure answers
  what was destroyed and what was kept, with the basis of each (Art. 45: the notice to the
  citizen). A request that cannot be accepted answers 400 naming the part that is wrong,
  never a value, and records nothing.
- ``GET /me/requests``: the caller's own requests, newest first; ``GET /me/requests/{id}``.
- ``GET /me/export[?request_id=ID]``: one JSON document (Art. 7, 13, 32): the personal data
  (read through the one audited path), the requests, the consents, the restriction and the
  processing record from the audit log, streamed in constant memory. Without a
  ``request_id`` the export is recorded as a new access request.

The app provides ``app.state.authorize_citizen(request) -> citizen id`` (raises when the
token is missing, invalid or names no citizen) and ``app.state.subject_requests`` (a
:class:`consent.requests.service.RequestService`). The caller is authorized before the body is read.
A citizen only ever sees their own requests: anyone else's id answers 404 like an id that
does not exist. Every answer is ``Cache-Control: no-store``: it holds personal data.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, StreamingResponse

from consent.requests.checks import MAX_CORRECTION_FIELDS, MAX_CORRECTION_VALUE_CHARS
from consent.requests.export import Export
from consent.requests.records import RequestKind, RequestStatus, SubjectRequest
from consent.requests.service import RequestService

router = APIRouter(prefix="/me", tags=["citizen: data-subject requests"])

NO_STORE = {"Cache-Control": "no-store"}
EXPORT_BATCH = 500  # processing-record entries per written chunk


async def _citizen(request: Request) -> str:
    """The caller's citizen id; runs before the body is read, so a request without a valid
    token answers 401 whatever it carries."""
    citizen_id: str = await asyncio.to_thread(request.app.state.authorize_citizen, request)
    return citizen_id


Citizen = Annotated[str, Depends(_citizen)]


def _service(request: Request) -> RequestService:
    service: RequestService = request.app.state.subject_requests
    return service


#: What a 401 or 403 of the citizen API means (the token is checked before anything else).
_AUTHORIZATION_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no access token, not a valid one, or its citizen is erased"},
    403: {"description": "the access token lacks the me scope"},
}
#: An app whose controller an access or a correction is addressed to (one the citizen used).
_CLIENT_ID: dict[str, Any] = {
    "type": "string",
    "maxLength": 128,
    "description": "the relying app whose controller is asked; absent: Jati itself",
}
#: What ``POST /me/requests`` accepts, as the document shows it: an access, erasure or
#: restriction request is the kind alone; a correction names 1 to 8 fields (lower-case
#: words) and their new values (text without NUL). The identity service then says which
#: fields it corrects, and checks each value. An access or a correction may name the app
#: (``client_id``) whose controller is asked: it then waits for that controller's DPO.
REQUEST_SCHEMA: dict[str, Any] = {
    "title": "NewRequest",
    "oneOf": [
        {
            "type": "object",
            "required": ["kind"],
            "additionalProperties": False,
            "properties": {"kind": {"enum": ["erasure", "restriction"]}},
        },
        {
            "type": "object",
            "required": ["kind"],
            "additionalProperties": False,
            "properties": {"kind": {"const": "access"}, "client_id": _CLIENT_ID},
        },
        {
            "type": "object",
            "required": ["kind", "fields"],
            "additionalProperties": False,
            "properties": {
                "kind": {"const": "correction"},
                "client_id": _CLIENT_ID,
                "fields": {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": MAX_CORRECTION_FIELDS,
                    "propertyNames": {"pattern": "^[a-z][a-z_]{0,31}$"},
                    "additionalProperties": {
                        "type": "string",
                        "maxLength": MAX_CORRECTION_VALUE_CHARS,
                        "pattern": "^[^\\x00]*$",
                    },
                },
            },
        },
    ],
}


def _documented(schema: dict[str, Any]) -> None:
    schema.clear()
    schema.update(REQUEST_SCHEMA)


class NewRequest(BaseModel):
    """The body of ``POST /me/requests``, read as it comes: the service checks every part
    (:data:`REQUEST_SCHEMA`) and names what is wrong without repeating a value, not even a
    field's name (it could carry personal data), which a schema's refusal would repeat."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_documented)

    kind: str = Field(max_length=32)
    fields: dict[str, Any] | None = None
    client_id: str | None = Field(default=None, max_length=128)

    def changes(self) -> dict[str, Any] | None:
        """The fields, or None when none were sent (``"fields": null`` is sent: {})."""
        return (self.fields or {}) if "fields" in self.model_fields_set else None


def request_json(found: SubjectRequest) -> dict[str, Any]:
    """A request as its citizen sees it; an access request links its export."""
    body = found.to_json_dict()
    if found.kind is RequestKind.ACCESS and found.status is RequestStatus.COMPLETED:
        body["export"] = f"/me/export?request_id={found.id}"
    return body


@router.post(
    "/requests",
    status_code=201,
    summary="Exercise a right: make a recorded request",
    responses={
        201: {
            "description": "recorded and carried out; Location names the request",
            "headers": {"Location": {"required": True, "schema": {"type": "string"}}},
        },
        400: {"description": "a malformed request, or a field or value the service refuses"},
        **_AUTHORIZATION_ERRORS,
    },
)
async def submit_request(citizen_id: Citizen, request: Request, body: NewRequest) -> JSONResponse:
    service = _service(request)
    recorded = await asyncio.to_thread(
        lambda: service.submit(
            citizen_id, body.kind, changes=body.changes(), client_id=body.client_id
        )
    )
    headers = {**NO_STORE, "Location": f"/me/requests/{recorded.id}"}
    return JSONResponse(request_json(recorded), status_code=201, headers=headers)


@router.get("/requests", summary="My data-subject requests", responses=_AUTHORIZATION_ERRORS)
async def my_requests(citizen_id: Citizen, request: Request) -> JSONResponse:
    found = await asyncio.to_thread(_service(request).requests_of, citizen_id)
    return JSONResponse({"requests": [request_json(r) for r in found]}, headers=NO_STORE)


@router.get(
    "/requests/{request_id}",
    summary="One of my data-subject requests",
    responses={**_AUTHORIZATION_ERRORS, 404: {"description": "none of mine has this id"}},
)
async def my_request(citizen_id: Citizen, request: Request, request_id: str) -> JSONResponse:
    found = await asyncio.to_thread(_service(request).request_of, citizen_id, request_id)
    return JSONResponse(request_json(found), headers=NO_STORE)


@router.get(
    "/export",
    summary="Everything Jati holds about me, as JSON (UU PDP Art. 7, 13, 32)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the export, streamed",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_AUTHORIZATION_ERRORS,
        404: {"description": "request_id is not one of my access requests"},
    },
)
async def export(
    citizen_id: Citizen,
    request: Request,
    request_id: Annotated[
        str | None, Query(max_length=64, description="an access request to answer")
    ] = None,
) -> StreamingResponse:
    service = _service(request)
    document = await asyncio.to_thread(service.export, citizen_id, request_id=request_id)
    return StreamingResponse(
        export_chunks(document),
        media_type="application/json",
        headers={
            **NO_STORE,
            "Content-Disposition": 'attachment; filename="jati-export.json"',
        },
    )


def export_chunks(document: Export) -> Iterator[bytes]:
    """The export as JSON, written piece by piece: the head (personal data, requests,
    consents), then the processing record in batches, read from the log as it is written."""
    head = json.dumps(document.head(), ensure_ascii=False, separators=(",", ":"))
    yield (head[:-1] + ',"processing_record":[').encode()
    batch: list[str] = []
    first = True
    for item in document.processing_record:
        batch.append(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
        if len(batch) >= EXPORT_BATCH:
            yield (("" if first else ",") + ",".join(batch)).encode()
            first, batch = False, []
    if batch:
        yield (("" if first else ",") + ",".join(batch)).encode()
    yield b"]}"
