"""The citizen API's consent and "who used my data" routes (docs/consent-and-rights.md;
UU PDP Art. 9, 24, 31-32, 40), authorized by a citizen's access token (scope ``me``).

- ``GET /me/consents``: the citizen's grants, each with its purpose, legal basis, data items,
  status and notice version.
- ``POST /me/consents/{id}/withdraw``: withdrawal with effect at once (Art. 9, 40): the gate
  of every worker refuses further release; the answer keeps received-at, the statutory
  due-by (72 h) and the effective time.
- ``GET /me/consents/{id}/receipt``: the signed consent receipt (ISO/IEC TS 27560), a JWS
  verifiable offline against the JWKS.
- ``GET /me/access-log``: who used the citizen's data (Art. 31-32): time, actor, purpose,
  legal basis, data items and the leaf index (for an inclusion proof at
  ``/audit/proof/inclusion``); entries withheld under an Art. 15/50 exception are left out
  until their visible-after time.

A citizen only ever sees their own records: ids of anyone else's answer 404, like ids that
do not exist. Every answer is ``Cache-Control: no-store`` (personal data).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from audit.http import Cursor
from audit.log import AuditLog
from audit.pseudonym import SubjectPseudonymizer
from consent.errors import GrantNotFound
from consent.grants import Grant, grant_summary
from consent.ledger import ConsentLedger
from consent.receipts import LEGAL_BASIS_TEXT, RECEIPT_TYPE, ReceiptIssuer
from identity.citizens.access_log import citizen_timeline
from identity.oidc.pairwise import SelfSubjects
from identity.service.web.openapi import problem
from identity.service.web.state import services

router = APIRouter(prefix="/me", tags=["citizen"])

_AUTHORIZATION_ERRORS: dict[int | str, dict[str, Any]] = {
    401: problem("no access token, not a valid one, or its citizen is erased"),
    403: problem("the access token lacks the me scope"),
}
_NO_SUCH_GRANT: dict[int | str, dict[str, Any]] = {404: problem("none of my consents has this id")}

NO_STORE = {"Cache-Control": "no-store"}
MAX_PAGE = 500


def _citizen(request: Request) -> str:
    citizen_id: str = request.app.state.authorize_citizen(request)
    return citizen_id


def _ledger(request: Request) -> ConsentLedger:
    ledger: ConsentLedger = services(request).consent_ledger
    return ledger


def _with_basis_text(summary: dict[str, Any]) -> dict[str, Any]:
    basis = summary["purpose"].get("legal_basis")
    if basis:
        summary["legal_basis_text"] = LEGAL_BASIS_TEXT[basis]
    return summary


def _grant_json(grant: Grant, ledger: ConsentLedger, now: datetime) -> dict[str, Any]:
    purposes = {p.code: p for p in ledger.purposes(grant.app_id)}
    return _with_basis_text(grant_summary(grant, purposes.get(grant.purpose_code), now))


@router.get("/consents", summary="My consents", responses=_AUTHORIZATION_ERRORS)
async def my_consents(request: Request) -> JSONResponse:
    citizen_id = await asyncio.to_thread(_citizen, request)
    ledger = _ledger(request)

    def load() -> list[dict[str, Any]]:
        return [_with_basis_text(c) for c in ledger.consents_of(citizen_id)]

    return JSONResponse({"consents": await asyncio.to_thread(load)}, headers=NO_STORE)


@router.post(
    "/consents/{grant_id}/withdraw",
    summary="Withdraw a consent (takes effect at once)",
    responses={**_AUTHORIZATION_ERRORS, **_NO_SUCH_GRANT},
)
async def withdraw(request: Request, grant_id: str) -> JSONResponse:
    citizen_id = await asyncio.to_thread(_citizen, request)
    ledger = _ledger(request)
    received_at = ledger.clock()

    def run() -> dict[str, Any]:
        grant = ledger.withdraw(citizen_id, grant_id, received_at=received_at)
        return _grant_json(grant, ledger, ledger.clock())

    return JSONResponse(await asyncio.to_thread(run), headers=NO_STORE)


@router.get(
    "/consents/{grant_id}/receipt",
    summary="The signed receipt of a consent",
    response_class=Response,
    responses={
        200: {
            "description": "the receipt, a JWS (ISO/IEC TS 27560)",
            "content": {f"application/{RECEIPT_TYPE}": {"schema": {"type": "string"}}},
        },
        **_AUTHORIZATION_ERRORS,
        **_NO_SUCH_GRANT,
    },
)
async def receipt(request: Request, grant_id: str) -> Response:
    citizen_id = await asyncio.to_thread(_citizen, request)
    ledger = _ledger(request)
    receipts: ReceiptIssuer = services(request).receipts
    self_subjects: SelfSubjects = services(request).self_subjects

    def run() -> str:
        grant = ledger.grant(citizen_id, grant_id)
        purpose = next(
            (p for p in ledger.purposes(grant.app_id) if p.code == grant.purpose_code), None
        )
        notice = ledger.notice_of(grant)
        if purpose is None or notice is None:  # never for a grant the ledger recorded
            raise GrantNotFound("the purpose or notice of this consent is gone")
        return receipts.issue(
            subject=self_subjects.subject(citizen_id),
            grant=grant,
            purpose=purpose,
            notice=notice,
            withdraw_url=f"{services(request).issuer}/me/consents/{grant.grant_id}/withdraw",
        )

    token = await asyncio.to_thread(run)
    return Response(token, media_type=f"application/{RECEIPT_TYPE}", headers=NO_STORE)


@router.get("/access-log", summary="Who used my data", responses=_AUTHORIZATION_ERRORS)
async def access_log(
    request: Request,
    after: Cursor = -1,  # bounded: a leaf index is a signed 64-bit integer in the store
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> JSONResponse:
    citizen_id = await asyncio.to_thread(_citizen, request)
    audit_log: AuditLog = services(request).audit_log
    pseudonymizer: SubjectPseudonymizer = services(request).pseudonymizer

    def load() -> dict[str, Any]:
        entries, next_after = citizen_timeline(
            audit_log, pseudonymizer, citizen_id, after=after, limit=limit
        )
        return {"entries": [e.to_json() for e in entries], "next_after": next_after}

    return JSONResponse(await asyncio.to_thread(load), headers=NO_STORE)
