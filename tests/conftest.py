"""Shared fixtures. Every test session gets its own fresh database on a real PostgreSQL server.

The server is `DATABASE_URL` when set, else the embedded one. A private database per session lets
several test runs share one server, and subprocess tests (parallel aggregators) find it through the
DATABASE_URL this file exports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, text

os.environ["ENVIRONMENT"] = "test"
os.environ.setdefault("JWT_SECRET", "test-secret-" + "x" * 40)

from app.config import Settings, get_settings
from app.db import get_engine
from app.migrations import migrate
from app.scratch_db import scratch_database

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

# The password of the account behind `staff_token` (email staff@example.com), for sign-in tests.
STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with scratch_database("am_test") as url:
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        get_engine.cache_clear()
        try:
            yield url
        finally:
            get_engine().dispose()


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Engine:
    engine = get_engine()
    migrate(engine)
    return engine


def _truncate_all(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT quote_ident(tablename) FROM pg_tables "
                    "WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'"
                )
            )
            .scalars()
            .all()
        )
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO rollup_watermark (name) VALUES ('agent_usage')"))


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The test database, emptied before the test (schema kept)."""
    _truncate_all(migrated_engine)
    return migrated_engine


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        jwt_secret="test-secret-" + "y" * 40,
        data_dir=tmp_path,
        scheduler_enabled=False,
    )


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    """The whole application over the test database (scheduler off, secret from `settings`)."""
    from app.main import create_app

    return create_app(settings, engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client for `app`, used as a context manager so the lifespan (writer, etc.) runs."""
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def staff_password_hash() -> str:
    # Hashed once per session: argon2 is deliberately slow.
    from app.auth.passwords import hash_password

    return hash_password(STAFF_PASSWORD)


@pytest.fixture
def staff_token(engine: Engine, settings: Settings, staff_password_hash: str) -> str:
    """A bearer token of a staff account (role `employee`, STAFF_EMAIL / STAFF_PASSWORD)."""
    from app.auth.employees import insert_employee
    from app.auth.tokens import issue_access_token

    with engine.begin() as conn:
        employee_id = insert_employee(conn, STAFF_EMAIL, "employee", staff_password_hash)
    return issue_access_token(
        settings.signing_secret(), employee_id, "employee", settings.access_token_ttl_seconds
    )


@pytest.fixture
def agent_key(engine: Engine) -> str:
    """An API key of agent `agent_test`; the demo catalog (merchants, products) is seeded too."""
    from app.agent_api.keys import create_agent

    with engine.begin() as conn:
        conn.execute(text("SELECT seed_demo_catalog()"))
    return create_agent(engine, "agent_test", name="Test agent")
