"""The application factory: ``create_app(settings)`` builds the services once
(:func:`identity.service.services.build_services`), mounts the routes in their order, adds the
middleware, and runs the background tasks for the app's lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute

from audit import http as audit_http
from audit.storage.store import SqlAuditStore
from consent import http as consent_http
from identity.http import (
    authorize,
    credentials,
    discovery,
    end_session,
    introspection,
    login,
    me,
    revocation,
    token,
    userinfo,
)
from identity.http import status_lists as status_lists_http
from identity.http.audit_access import AuditorAuthorizer
from identity.http.bearer import ApiAuthorizer, CitizenAuthorizer
from identity.http.pages import login as pages_login
from identity.http.pages import routes as pages
from identity.oidc.endpoints import OAUTH_FORM_PATHS
from identity.service.audit_verification import run_scheduled_verify, verify_lock
from identity.service.background import (
    run_consent_expiry,
    run_credential_sweep,
    run_sequencer,
    sequencer_lock,
)
from identity.service.logging_setup import configure_logging
from identity.service.services import Services, build_services
from identity.service.settings import Settings
from identity.service.web import health
from identity.service.web.input_guard import InputGuardMiddleware
from identity.service.web.middleware import ObservabilityMiddleware
from identity.service.web.openapi import install_openapi
from identity.service.web.problems import install_problem_handlers
from identity.service.web.security_headers import SecurityHeadersMiddleware
from identity.storage.database import Database


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    authorize_auditor: Callable[[Request, str], object] | None = None,
    authorize_citizen: Callable[[Request], str] | None = None,
    run_background: bool = True,
) -> FastAPI:
    """Build the service. Nothing here touches the database: readiness reports on it.

    ``authorize_auditor(request, scope)`` raises ``Unauthorized`` unless the caller may
    read the audit log; ``authorize_citizen(request)`` returns the citizen id of a citizen
    API token or raises; both default to verifying Jati's own access tokens.
    ``run_background`` starts the audit sequencer with the app.
    """
    settings.check_production()
    master_key, _ = settings.load_master_key()
    services = build_services(
        settings, database or Database(settings.resolved_database_url), master_key
    )
    app = FastAPI(
        title="Jati",
        summary="Digital identity with privacy safeguards (UU PDP)",
        version="0.1.0",
        lifespan=_lifespan(services, run_background=run_background, owns_database=database is None),
        docs_url="/docs",
        redoc_url=None,
        # FastAPI's native OpenTelemetry would put each request's raw path and query into
        # its spans once a tracer provider is configured in the process: a NIK sent as
        # login_hint, a state, a consent id in a path. Jati's metrics are Prometheus by
        # route template (identity/service/web/metrics.py), so it stays off.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    _give_the_apis_their_state(app, services, authorize_auditor, authorize_citizen)
    # The pages: login (with the second factor), consent screen, account.
    secure = services.issuer.startswith("https://")
    pages.configure(app, master_key=master_key, clock=services.audit_log.clock, secure=secure)
    install_problem_handlers(app)
    # The document says what the routes below answer.
    install_openapi(app, pages={"/login": {"get": pages_login.LOGIN_PAGE_OPERATION}})
    _mount_routes(app)
    # Inside the request id's scope: a path or query holding a NUL or a lone surrogate is
    # refused before routing, so that no handler passes one to the database.
    app.add_middleware(InputGuardMiddleware, oauth_paths=OAUTH_FORM_PATHS)
    app.add_middleware(ObservabilityMiddleware)
    # Outermost: security headers on every answer, errors included (CSP, no-store pages).
    app.add_middleware(SecurityHeadersMiddleware, hsts=secure)
    return app


def _give_the_apis_their_state(
    app: FastAPI,
    services: Services,
    authorize_auditor: Callable[[Request, str], object] | None,
    authorize_citizen: Callable[[Request], str] | None,
) -> None:
    """What :mod:`audit.http` and :mod:`consent.http` read from ``app.state`` (they cannot
    import identity), and the bearer-token checks of Jati's own APIs."""
    api = ApiAuthorizer(
        issuer=services.issuer,
        jwks_loader=services.jwks_loader,
        active=services.access_tokens.access_token_active,
    )
    app.state.authorize_auditor = authorize_auditor or AuditorAuthorizer(api=api)
    app.state.authorize_citizen = authorize_citizen or CitizenAuthorizer(
        api=api,
        self_subjects=services.self_subjects,
        citizen_erased=services.citizens.is_erased,
    )
    app.state.audit_log = services.audit_log
    # Auditor queries: NIK or id -> pseudonym, and each query recorded in the log.
    app.state.audit_subjects = services.audit_subjects
    app.state.audit_recorder = services.audit_recorder
    app.state.subject_requests = services.subject_requests


def _lifespan(
    services: Services, *, run_background: bool, owns_database: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start the background tasks with the app (the audit sequencer and the scheduled full
    verification, each on one worker per host; the consent expiry run; the credential sweep)
    and stop them, then close what it opened."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = []
        if run_background:
            lock = sequencer_lock(services.settings)
            health = services.sequencer_health
            tasks = [
                asyncio.create_task(run_sequencer(services.audit_log, stop, health, lock)),
                asyncio.create_task(run_consent_expiry(services.consent_ledger, stop)),
                asyncio.create_task(run_credential_sweep(services.credentials, stop)),
            ]
            store, data_dir = services.audit_log.store, services.settings.data_dir
            if isinstance(store, SqlAuditStore):
                verifying = run_scheduled_verify(
                    services.audit_log, store, data_dir, stop, lock=verify_lock(data_dir),
                    interval=services.settings.audit_verify_interval,
                    clock=services.audit_log.clock,
                )  # fmt: skip
                tasks.append(asyncio.create_task(verifying))
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                await task
            await services.oidc_store.close_loop_connections()
            services.hashing.shutdown()
            if owns_database:
                services.database.dispose()

    return lifespan


def _mount_routes(app: FastAPI) -> None:
    """Routes are matched in order: the relying apps' busiest endpoints first (token,
    userinfo, introspection, status lists, keys) and the health probes, the APIs and pages
    of people after them. Every router's routes join the app's own list
    (:func:`_add_routes`)."""
    for router in (
        authorize.router,
        token.router,
        userinfo.router,
        revocation.router,
        end_session.router,
        health.router,  # probed by every load balancer
        introspection.router,
        status_lists_http.router,
        discovery.router,
        credentials.router,
        me.router,
        consent_http.router,
        audit_http.router,
    ):
        _add_routes(app, router)
    for router in pages.ROUTERS:  # before login's: a form POST /login is the page's
        _add_routes(app, router)
    _add_routes(app, login.router)


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """Add a router's routes to the app's own route list, as ``include_router`` did before
    FastAPI made included routers lazy: a request then matches plain routes instead of
    passing through an included router's matching and scope bookkeeping (about 50 µs a
    request; the refresh grant's benchmark counts it). For routers whose routes carry
    everything (prefix, tags) themselves: nothing nested, nothing added at inclusion."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r} is not a plain API route: include its router instead")
        app.router.routes.append(route)


def create_app_from_environment() -> FastAPI:
    """Factory used by ``jati serve`` workers: settings from ``JATI_*`` variables."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
