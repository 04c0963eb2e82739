"""Engine and sessions. One engine per process; a request's session is committed by its dependency."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from fastapi import Request
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, get_settings


def sqlalchemy_url(url: str) -> str:
    """Accept `postgres://` and `postgresql://` URLs as operators write them; use the psycopg 3 driver."""
    parsed = make_url(
        url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url
    )
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("DATABASE_URL must name a PostgreSQL database")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    from app.embedded_db import start_embedded_postgres

    return start_embedded_postgres(settings.data_dir)


def make_engine(url: str, **kwargs: object) -> Engine:
    options: dict[str, object] = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
    options.update(kwargs)
    # application_name makes our sessions recognisable in pg_stat_activity.
    return create_engine(url, connect_args={"application_name": "agent-metrics"}, **options)


@lru_cache
def get_engine() -> Engine:
    return make_engine(resolve_database_url(get_settings()))


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: the one owner of a request's transaction (handlers never commit)."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
