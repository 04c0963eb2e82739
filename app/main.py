"""The FastAPI application: wires the Agent API, its usage logging, the metrics API and the page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from app import __version__
from app.agent_api.routes import router as agent_api_router
from app.auth.routes import router as auth_router
from app.config import Settings, get_settings
from app.dashboard import router as dashboard_router
from app.db import get_engine
from app.errors import install_error_handlers
from app.metrics.routes import router as agent_metrics_router
from app.observability.access_log import AccessLogMiddleware
from app.observability.logging import configure_logging
from app.observability.prometheus import build_registry, metrics_router
from app.observability.sentry import init_sentry
from app.usage import UsageLoggingMiddleware, UsageWriter
from rollups.scheduler import start_scheduler


class VersionInfo(BaseModel):
    version: str
    release: str
    environment: str


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or get_engine()
    # Before any route exists: Sentry's FastAPI integration wraps route handlers as they are created.
    configure_logging(settings)
    init_sentry(settings, component="app")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Background parts start here and stop in reverse order, after the last request.
        # Read from app.state, so a test can put in a writer of its own before start-up.
        usage_writer: UsageWriter = app.state.usage_writer
        usage_writer.start()
        # The rollup aggregator; any number of replicas may schedule it (the watermark lock serialises runs).
        rollup_scheduler = start_scheduler(settings, engine) if settings.scheduler_enabled else None
        yield
        if rollup_scheduler is not None:
            rollup_scheduler.shutdown()  # waits for a run in progress
        usage_writer.stop()  # after the last request: writes every buffered usage row

    app = FastAPI(title="agent-metrics", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)
    app.state.usage_writer = UsageWriter.from_settings(settings, engine)
    app.state.metrics_registry, request_metrics = build_registry(app.state, engine)
    app.include_router(metrics_router(settings))

    app.include_router(dashboard_router)
    app.include_router(auth_router)
    app.include_router(agent_api_router)
    app.include_router(agent_metrics_router)

    @app.get("/version", response_model=VersionInfo, tags=["service"])
    def version() -> VersionInfo:
        return VersionInfo(version=__version__, release=settings.release, environment=settings.environment)

    # Inside the access log (so the request id is set when the usage row is taken), outside the routes.
    app.add_middleware(UsageLoggingMiddleware, prefix="/agent/v1")
    # Added last, so it is the outermost middleware: the request id exists before anything else runs.
    app.add_middleware(AccessLogMiddleware, metrics=request_metrics)
    return app
