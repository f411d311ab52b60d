"""Liveness, readiness and metrics endpoints for operators and load balancers."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from identity.service.audit_verification import read_result
from identity.service.database import migrate
from identity.service.web import metrics
from identity.service.web.openapi import problem
from identity.service.web.problems import problem_response
from identity.service.web.state import services
from identity.storage.database import Database

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get(
    "/readyz",
    summary="The database is reachable and the schema is current",
    responses={
        503: problem(
            "not ready: the database cannot be reached, its schema is not current, or the "
            "audit log failed its integrity check"
        )
    },
)
async def readyz(request: Request) -> Response:
    database: Database = services(request).database
    try:
        current = await asyncio.to_thread(migrate.current_revisions, database.engine)
    except Exception as exc:  # any driver error means "not ready"
        log.warning("readiness: database unreachable (%s)", type(exc).__name__)
        return problem_response(
            503,
            "Not ready",
            code="database_unreachable",
            detail="the database cannot be reached",
            headers={"Retry-After": "5"},
        )
    expected = services(request).expected_revisions
    if current != expected:
        return problem_response(
            503,
            "Not ready",
            code="migrations_pending",
            detail="the database schema is not at the expected revision; run `jati db upgrade`",
            headers={"Retry-After": "5"},
            extra={"current": sorted(current), "expected": sorted(expected)},
        )
    health = services(request).sequencer_health
    if health.integrity_failure:
        return problem_response(
            503,
            "Not ready",
            code="audit_log_integrity",
            detail="the stored audit log no longer extends its signed checkpoints; "
            "run `jati audit verify`",
        )
    verified = await asyncio.to_thread(read_result, services(request).settings.data_dir)
    if verified is not None and not verified.ok:
        return problem_response(
            503,
            "Not ready",
            code="audit_log_verification_failed",
            detail="the last full verification of the audit log found a problem; "
            "run `jati audit verify`",
        )
    return JSONResponse({"status": "ready", "revision": sorted(current)})


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics_endpoint() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
