"""The FastAPI application: wires the Agent API, its usage logging, the metrics API and the page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from app import __version__
from app.config import Settings, get_settings
from app.db import get_engine


class VersionInfo(BaseModel):
    version: str
    release: str
    environment: str


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or get_engine()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Background parts start here and stop in reverse order, after the last request.
        yield

    app = FastAPI(title="agent-metrics", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)

    @app.get("/version", response_model=VersionInfo, tags=["service"])
    def version() -> VersionInfo:
        return VersionInfo(version=__version__, release=settings.release, environment=settings.environment)

    return app
