"""The application factory: ``create_app(settings)`` wires every package into one ASGI app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from audit import http as audit_http
from identity.http import discovery, health, login
from identity.http.bearer import ApiAuthorizer, CitizenAuthorizer
from identity.http.middleware import ObservabilityMiddleware
from identity.http.problems import install_problem_handlers
from identity.logging_setup import configure_logging
from identity.pairwise import PairwiseSubjects, SelfSubjects
from identity.settings import Settings
from identity.signing_keys import KeySealer
from identity.storage import migrate
from identity.storage.citizens import build_citizen_service
from identity.storage.database import Database
from identity.storage.keys import SqlKeyStore
from identity.tokens import ActiveSigner, TokenIssuer
from identity.wiring import SequencerHealth, build_audit_log, run_sequencer


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
    db = database or Database(settings.resolved_database_url)
    owns_database = database is None

    master_key, _ = settings.load_master_key()
    audit_log, pseudonymizer = build_audit_log(settings, db, master_key)
    key_store = SqlKeyStore(database=db, sealer=KeySealer(master_key))
    issuer = settings.effective_issuer
    self_subjects = SelfSubjects(master_key)
    token_issuer = TokenIssuer(
        issuer=issuer,
        signer=ActiveSigner(key_store.active, settings.token_signing_alg),
        pairwise=PairwiseSubjects(master_key),
        self_subjects=self_subjects,
        access_token_lifetime=settings.token_lifetime,
        id_token_lifetime=settings.token_lifetime,
    )
    citizens = build_citizen_service(settings, db, master_key, pseudonymizer=pseudonymizer)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        sequencer = (
            asyncio.create_task(run_sequencer(audit_log, stop, app.state.sequencer_health))
            if run_background
            else None
        )
        try:
            yield
        finally:
            stop.set()
            if sequencer is not None:
                await sequencer
            if owns_database:
                db.dispose()

    app = FastAPI(
        title="Jati",
        summary="Digital identity with privacy safeguards (UU PDP)",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = db
    app.state.expected_revisions = migrate.head_revisions()
    app.state.audit_log = audit_log
    app.state.key_store = key_store
    app.state.issuer = issuer
    app.state.token_issuer = token_issuer
    app.state.citizens = citizens  # the one audited access path to personal data
    app.state.passwords = citizens.passwords
    app.state.pseudonymizer = pseudonymizer  # subjects of audit entries written by the app
    app.state.sequencer_health = SequencerHealth()
    api_authorizer = ApiAuthorizer(issuer=issuer, key_store=key_store)
    app.state.authorize_auditor = authorize_auditor or api_authorizer
    app.state.authorize_citizen = authorize_citizen or CitizenAuthorizer(
        api=api_authorizer, self_subjects=self_subjects
    )
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(audit_http.router)
    app.include_router(discovery.router)
    app.include_router(login.router)
    app.add_middleware(ObservabilityMiddleware)
    return app


def create_app_from_environment() -> FastAPI:
    """Factory used by ``jati serve`` workers: settings from ``JATI_*`` variables."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
