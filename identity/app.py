"""The application factory: ``create_app(settings)`` wires every package into one ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from identity.http import health
from identity.http.middleware import ObservabilityMiddleware
from identity.http.problems import install_problem_handlers
from identity.logging_setup import configure_logging
from identity.settings import Settings
from identity.storage import migrate
from identity.storage.database import Database


def create_app(settings: Settings, *, database: Database | None = None) -> FastAPI:
    """Build the service. Nothing here touches the database: readiness reports on it."""
    settings.check_production()
    db = database or Database(settings.resolved_database_url)
    owns_database = database is None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
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
    install_problem_handlers(app)
    app.include_router(health.router)
    app.add_middleware(ObservabilityMiddleware)
    return app


def create_app_from_environment() -> FastAPI:
    """Factory used by ``jati serve`` workers: settings from ``JATI_*`` variables."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
