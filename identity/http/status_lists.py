"""``GET /statuslists/{list_id}``: Status List Tokens (draft-ietf-oauth-status-list §8).

- §8.1/§8.2: answers the compact JWS with ``Content-Type: application/statuslist+jwt``; a
  request whose ``Accept`` admits neither that type nor a wildcard gets 406 (we serve no
  CWT form).
- Caching (§13.7, RFC 9111): ``Cache-Control: public, max-age=<ttl>``, never longer than the
  token's ``ttl``, and a strong ``ETag``; ``If-None-Match`` with it answers 304 (RFC 9110
  §13.1.2, weak comparison as that section asks).
- An unknown or malformed list id answers 404 as a problem document, like every error.
- The list is public by design (§12.1 herd privacy: anyone may fetch it; it says nothing
  about who holds which entry). No CORS headers: Jati's verifiers are servers.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from identity.credentials.status_list_token import STATUS_LIST_MEDIA_TYPE
from identity.credentials.status_registry import PATH, ServedList, StatusLists, is_list_id
from identity.errors import NotFound
from identity.service.web.openapi import problem
from identity.service.web.state import services

router = APIRouter(tags=["Token Status List"])

_ACCEPTABLE = frozenset({STATUS_LIST_MEDIA_TYPE, "application/*", "*/*"})


def _accepts(accept: str | None) -> bool:
    if not accept:
        return True  # §8.1: the type is then known out of band
    for item in accept.split(","):
        media_type, *params = item.split(";")
        if media_type.strip().lower() in _ACCEPTABLE and _quality(params) > 0:
            return True
    return False


def _quality(params: list[str]) -> float:
    """The ``q`` weight of an Accept item (RFC 9110 §12.4.2); 1 when absent or unreadable."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 1.0
    return 1.0


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def _caching_headers(served: ServedList) -> dict[str, str]:
    return {"Cache-Control": f"public, max-age={served.max_age}", "ETag": served.etag}


@router.get(
    PATH + "{list_id}",
    summary="Token Status List (draft-ietf-oauth-status-list), as a signed JWT",
    response_class=Response,
    responses={
        200: {
            "description": "the status list token",
            "content": {STATUS_LIST_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        304: {"description": "If-None-Match names the current ETag"},
        404: problem("no status list has this id (a malformed id included)"),
        406: problem(f"Accept does not allow {STATUS_LIST_MEDIA_TYPE}"),
    },
)
async def status_list(list_id: str, request: Request) -> Response:
    if not is_list_id(list_id):
        raise NotFound("no such status list")
    if not _accepts(request.headers.get("accept")):
        raise HTTPException(406, f"this endpoint answers {STATUS_LIST_MEDIA_TYPE} only")
    lists: StatusLists = services(request).status_lists
    served = await asyncio.to_thread(lists.token, list_id)
    headers = _caching_headers(served)
    if _matches(request.headers.get("if-none-match"), served.etag):
        return Response(status_code=304, headers=headers)
    return Response(served.token, media_type=STATUS_LIST_MEDIA_TYPE, headers=headers)
