"""Throw-away databases for the test suite and the benchmarks, on the configured server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.config import REPO_ROOT
from app.db import make_engine, sqlalchemy_url


def server_url() -> str:
    """`DATABASE_URL` when set, else the embedded server (read from the environment directly: tests and
    benchmarks run without a production JWT_SECRET, which the Settings object would insist on)."""
    if os.environ.get("DATABASE_URL"):
        return sqlalchemy_url(os.environ["DATABASE_URL"])
    from app.embedded_db import start_embedded_postgres

    return start_embedded_postgres(REPO_ROOT / ".data")


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty database (`<prefix>_<random>`), dropped afterwards with its connections.

    A private database per run lets several test runs and benchmarks share one server.
    """
    base = server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=0)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))  # name: our prefix and hex digits only
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
