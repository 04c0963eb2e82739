"""A scratch database for a benchmark: created with the schema on the configured server, dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from app.config import REPO_ROOT
from app.db import make_engine, sqlalchemy_url
from app.migrations import migrate


def _server_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return sqlalchemy_url(os.environ["DATABASE_URL"])
    from app.embedded_db import start_embedded_postgres

    return start_embedded_postgres(REPO_ROOT / ".data")


@contextmanager
def scratch_database() -> Iterator[tuple[str, Engine]]:
    """(url, engine) of a fresh, migrated database that is dropped afterwards."""
    server_url = _server_url()
    name = f"am_bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        migrate(engine)
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
