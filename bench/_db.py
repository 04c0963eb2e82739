"""A scratch database for a benchmark: created with the schema on the configured server, dropped after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from app.db import make_engine
from app.migrations import migrate
from app.scratch_db import scratch_database as _empty_database


@contextmanager
def scratch_database() -> Iterator[tuple[str, Engine]]:
    """(url, engine) of a fresh, migrated database that is dropped afterwards."""
    with _empty_database("am_bench") as url:
        engine = make_engine(url)
        try:
            migrate(engine)
            yield url, engine
        finally:
            engine.dispose()
