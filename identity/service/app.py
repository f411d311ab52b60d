"""The application factory: ``create_app(settings)`` wires every package into one ASGI app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute

from audit import http as audit_http
from audit.storage.store import SqlAuditStore
from consent import http as consent_http
from consent.gate import CachedConsentRecords
from consent.receipts import ReceiptIssuer
from consent.storage.requests import build_request_service
from identity.citizens.hashing_pool import HashingPool
from identity.citizens.passwords import PasswordService
from identity.citizens.subject_requests import CitizenSubjectData
from identity.credentials.issuer import RevokeOnConsentChange
from identity.credentials.release import CredentialRelease
from identity.http import (
    credentials,
    discovery,
    introspection,
    login,
    me,
    oidc,
)
from identity.http import status_lists as status_lists_http
from identity.http.audit_access import AuditorAuthorizer, AuditRecorder, CitizenSubjects
from identity.http.bearer import ApiAuthorizer, CitizenAuthorizer, key_store_loader
from identity.http.introspection import Introspector
from identity.http.pages import login as pages_login
from identity.http.pages import routes as pages
from identity.keys.signing_keys import KeySealer
from identity.login.sessions import SessionService
from identity.oidc.authorize import AuthorizationRequests, RequestSealer
from identity.oidc.claims_release import ClaimRelease
from identity.oidc.client_auth import AssertionVerifier, ClientAuthenticator
from identity.oidc.clients import ClientRegistry
from identity.oidc.logout import RpInitiatedLogout
from identity.oidc.pairwise import PairwiseSubjects, SelfSubjects
from identity.oidc.token_endpoint import AccessTokenVerifiers, TokenService
from identity.oidc.tokens import ActiveSigner, TokenIssuer
from identity.service.database import migrate
from identity.service.logging_setup import configure_logging
from identity.service.settings import Settings
from identity.service.web import health
from identity.service.web.input_guard import InputGuardMiddleware
from identity.service.web.middleware import ObservabilityMiddleware
from identity.service.web.openapi import install_openapi
from identity.service.web.problems import install_problem_handlers
from identity.service.web.security_headers import SecurityHeadersMiddleware
from identity.service.wiring import (
    SequencerHealth,
    build_audit_log,
    build_consent,
    build_credentials,
    run_consent_expiry,
    run_credential_sweep,
    run_sequencer,
    sequencer_lock,
)
from identity.storage.citizens import build_citizen_service
from identity.storage.clients import SqlClientStore
from identity.storage.database import Database
from identity.storage.keys import SqlKeyStore
from identity.storage.oidc import SqlOidcStore
from identity.storage.throttle import build_client_throttle
from identity.storage.totp import build_second_factor


def create_app(  # noqa: PLR0915 - the composition root names every service once
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
    db = database or Database(settings.resolved_database_url)
    owns_database = database is None

    master_key, _ = settings.load_master_key()
    audit_log, pseudonymizer = build_audit_log(settings, db, master_key)
    key_store = SqlKeyStore(database=db, sealer=KeySealer(master_key))
    issuer = settings.effective_issuer
    self_subjects = SelfSubjects(master_key)
    token_signer = ActiveSigner(key_store.active, settings.token_signing_alg)
    token_issuer = TokenIssuer(
        issuer=issuer,
        signer=token_signer,
        pairwise=PairwiseSubjects(master_key),
        self_subjects=self_subjects,
        access_token_lifetime=settings.token_lifetime,
        id_token_lifetime=settings.token_lifetime,
    )
    consent_ledger, consent_gate = build_consent(
        settings, db, SqlAuditStore(engine=db.engine), pseudonymizer
    )
    # Citizens' passwords and client secrets are hashed on one bounded pool of their own
    # (identity/citizens/hashing_pool.py), never on the threads other routes wait for.
    hashing = HashingPool(threads=settings.hashing_threads, queue=settings.hashing_queue)
    passwords = PasswordService(
        profile=settings.password_profile, production=settings.is_production, hashing=hashing
    )
    citizens = build_citizen_service(
        settings, db, master_key, pseudonymizer=pseudonymizer, passwords=passwords
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        sequencer = (
            asyncio.create_task(
                run_sequencer(audit_log, stop, app.state.sequencer_health, sequencer_lock(settings))
            )
            if run_background
            else None
        )
        expiry = (
            asyncio.create_task(run_consent_expiry(consent_ledger, stop))
            if run_background
            else None
        )
        sweep = (
            asyncio.create_task(run_credential_sweep(app.state.credentials, stop))
            if run_background
            else None
        )
        try:
            yield
        finally:
            stop.set()
            if sequencer is not None:
                await sequencer
            if expiry is not None:
                await expiry
            if sweep is not None:
                await sweep
            await oidc_store.close_loop_connections()
            hashing.shutdown()
            if owns_database:
                db.dispose()

    app = FastAPI(
        title="Jati",
        summary="Digital identity with privacy safeguards (UU PDP)",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        # FastAPI's native OpenTelemetry would put each request's raw path and query into
        # its spans once a tracer provider is configured in the process: a NIK sent as
        # login_hint, a state, a consent id in a path. Jati's metrics are Prometheus by
        # route template (identity/service/web/metrics.py), so it stays off.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.database = db
    app.state.expected_revisions = migrate.head_revisions()
    app.state.audit_log = audit_log
    app.state.key_store = key_store
    app.state.issuer = issuer
    app.state.token_issuer = token_issuer
    app.state.self_subjects = self_subjects
    app.state.consent_ledger = consent_ledger
    app.state.consent_gate = consent_gate  # the one check before any release of data
    app.state.claim_release = ClaimRelease(gate=consent_gate, citizens=citizens)
    app.state.clients = ClientRegistry(
        store=SqlClientStore(database=db),
        passwords=passwords,
        clock=audit_log.clock,
        throttle=build_client_throttle(db, master_key),
    )
    # OpenID Connect provider: sessions, answered authorization requests, codes, tokens.
    oidc_store = SqlOidcStore(database=db)
    app.state.sessions = SessionService(
        store=oidc_store,
        clock=audit_log.clock,
        lifetime=timedelta(seconds=settings.session_lifetime),
        secure=issuer.startswith("https://"),
    )
    # The optional TOTP second factor: the login pages ask for it, and /authorize steps up to
    # it when an app asks for the multi-factor acr.
    app.state.second_factor = build_second_factor(
        database=db, master_key=master_key, clock=audit_log.clock, issuer=issuer
    )
    app.state.authorization_requests = AuthorizationRequests(
        store=oidc_store,
        clients=app.state.clients,
        consent=consent_ledger,
        gate=consent_gate,
        second_factors=app.state.second_factor,
        audit=citizens.audit,
        pseudonymizer=pseudonymizer,
        sealer=RequestSealer(master_key),
        issuer=issuer,
        clock=audit_log.clock,
    )
    app.state.client_authenticator = ClientAuthenticator(
        registry=app.state.clients,
        assertions=AssertionVerifier(issuer=issuer, token_endpoint=issuer + oidc.TOKEN_PATH),
        replay=oidc_store,
    )
    jwks_loader = key_store_loader(key_store)
    # What the token endpoint and introspection ask on every call, answered from memory.
    consent_records = CachedConsentRecords(ledger=consent_ledger, gate=consent_gate)
    app.state.token_service = TokenService(
        store=oidc_store,
        tokens=token_issuer,
        clients=app.state.clients,
        consent=consent_records,
        release=app.state.claim_release,
        audit=citizens.audit,
        pseudonymizer=pseudonymizer,
        verifiers=AccessTokenVerifiers(issuer=issuer, jwks_loader=jwks_loader),
        clock=audit_log.clock,
        refresh_lifetime=timedelta(seconds=settings.refresh_token_lifetime),
    )
    app.state.logout = RpInitiatedLogout(
        issuer=issuer,
        jwks_loader=jwks_loader,
        clients=app.state.clients,
        subjects=token_issuer,
        sessions=app.state.sessions,
    )
    # The pages: login (with the second factor above), consent screen, account.
    pages.configure(
        app, master_key=master_key, clock=audit_log.clock, secure=issuer.startswith("https://")
    )
    app.state.introspector = Introspector(
        issuer=issuer,
        jwks_loader=jwks_loader,
        ledger=consent_records,
        tokens=app.state.token_service,
    )
    app.state.receipts = ReceiptIssuer(
        issuer=issuer, signer=token_signer.current, clock=consent_ledger.clock
    )
    app.state.citizens = citizens  # the one audited access path to personal data
    # Verifiable credentials (SD-JWT VC) and their Token Status Lists: issued through the
    # consent gate and the audit log; revoked when a consent grant ends or on erasure.
    app.state.credentials = build_credentials(
        settings,
        db,
        master_key,
        signer=token_signer.current,
        audit=citizens.audit,
        pseudonymizer=pseudonymizer,
        grants=consent_records,
        clock=audit_log.clock,
    )
    app.state.status_lists = app.state.credentials.status_lists
    consent_ledger.notifier = RevokeOnConsentChange(consent_ledger.notifier, app.state.credentials)
    # Data-subject requests (UU PDP Art. 14): carried out by the citizen service; a
    # restriction or an erasure tells every worker's consent gate through the ledger's
    # notifier; the export lists the citizen's consents from the ledger.
    app.state.subject_requests = build_request_service(
        database=db,
        audit=citizens.audit,
        pseudonymizer=pseudonymizer,
        events=audit_log,
        subject_data=CitizenSubjectData(
            citizens=citizens,
            # The erasure itself ends the citizen's token families, codes, sessions and second
            # factor in its transaction (build_citizen_service); this follows once committed.
            after_erasure=(app.state.credentials.revoke_all_for,),
        ),
        clock=audit_log.clock,
        consents=consent_ledger,
        notifier=consent_ledger.notifier,
    )
    app.state.passwords = citizens.passwords
    app.state.pseudonymizer = pseudonymizer  # subjects of audit entries written by the app
    app.state.sequencer_health = SequencerHealth()
    api_authorizer = ApiAuthorizer(
        issuer=issuer, key_store=key_store, active=app.state.token_service.access_token_active
    )
    app.state.authorize_auditor = authorize_auditor or AuditorAuthorizer(api=api_authorizer)
    # Auditor queries: NIK or id -> pseudonym, and each query recorded in the log.
    app.state.audit_subjects = CitizenSubjects(
        citizens=citizens, pseudonymizer=pseudonymizer, clock=audit_log.clock
    )
    app.state.audit_recorder = AuditRecorder(database=db, appender=citizens.audit)
    app.state.authorize_citizen = authorize_citizen or CitizenAuthorizer(
        api=api_authorizer, self_subjects=self_subjects, citizen_erased=citizens.is_erased
    )
    app.state.credential_release = CredentialRelease(
        tokens=app.state.token_service, clients=app.state.clients
    )
    install_problem_handlers(app)
    # The document says what the routes below answer.
    install_openapi(app, pages={"/login": {"get": pages_login.LOGIN_PAGE_OPERATION}})
    # Routes are matched in order: the relying apps' busiest endpoints first (token,
    # userinfo, introspection, status lists, keys) and the health probes, the APIs and
    # pages of people after them. The API routers' routes join the app's own list
    # (:func:`_add_routes`); the pages, which nest routers and hide from the schema, are
    # included.
    for router in (
        oidc.router,
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
    app.include_router(pages.router)  # before login's: a form POST /login is the page's
    _add_routes(app, login.router)
    # Inside the request id's scope: a path or query holding a NUL or a lone surrogate is
    # refused before routing, so that no handler passes one to the database.
    app.add_middleware(
        InputGuardMiddleware,
        oauth_paths=(oidc.TOKEN_PATH, oidc.REVOCATION_PATH, introspection.INTROSPECTION_PATH),
    )
    app.add_middleware(ObservabilityMiddleware)
    # Outermost: security headers on every answer, errors included (CSP, no-store pages).
    app.add_middleware(SecurityHeadersMiddleware, hsts=issuer.startswith("https://"))
    return app


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
