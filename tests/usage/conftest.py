"""Fixtures for usage tests: writers that are always stopped, and a database reachable through a proxy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from app.usage import UsageWriter
from tests.usage.tcp_proxy import TcpProxy


@pytest.fixture
def make_writer(engine: Engine) -> Iterator[Callable[..., UsageWriter]]:
    """Writers for the test database, stopped at the end of the test whatever happened."""
    made: list[UsageWriter] = []

    def make(target: Engine | None = None, **options: Any) -> UsageWriter:
        options.setdefault("flush_interval_seconds", 0.05)
        writer = UsageWriter(target or engine, **options)
        made.append(writer)
        return writer

    yield make
    for writer in made:
        writer.stop()


@pytest.fixture
def db_proxy(database_url: str) -> Iterator[TcpProxy]:
    url = make_url(database_url)
    socket_dir = url.query.get("host")
    if isinstance(socket_dir, str) and socket_dir.startswith("/"):  # the embedded server: a Unix socket
        proxy = TcpProxy(f"{socket_dir}/.s.PGSQL.{url.port or 5432}")
    else:
        proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_engine(database_url: str, db_proxy: TcpProxy) -> Iterator[Engine]:
    """An engine that reaches the test database only through the cuttable proxy."""
    url = make_url(database_url).difference_update_query(["host"]).set(host="127.0.0.1", port=db_proxy.port)
    proxied = create_engine(
        url, pool_size=1, max_overflow=0, pool_pre_ping=True, connect_args={"connect_timeout": 2}
    )
    yield proxied
    proxied.dispose()
