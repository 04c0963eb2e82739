"""What usage logging adds to one Agent API request.

The same service is measured with and without `UsageLoggingMiddleware` (removed from the app's
middleware list before the first request, so everything else, including the running writer, is equal).
Requests are made straight through the app's ASGI interface in one event loop, one at a time, so the
figures are the service's own time per request, without client or network noise. Requests alternate
between the two apps, one each, so drift in the machine's load hits both alike. The writer's COPY runs
on its background thread during the measurement, so its share of the CPU is part of the cost measured.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, text
from starlette.types import Message

from app.agent_api.keys import create_agent
from app.config import Settings
from app.main import create_app
from app.usage import UsageLoggingMiddleware, UsageWriter
from bench._db import scratch_database

REQUESTS = 3_000  # per app and case
WARMUP = 200


def _service(url: str, engine: Engine, data_dir: Path, *, logged: bool) -> FastAPI:
    settings = Settings(
        environment="test",
        database_url=url,
        jwt_secret=SecretStr(secrets.token_urlsafe(48)),
        data_dir=data_dir,
        scheduler_enabled=False,
        log_level="WARNING",  # the JSON access log would otherwise dominate both sides
    )
    app = create_app(settings, engine)
    if not logged:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not UsageLoggingMiddleware]
    return app


def _scope(path: str, headers: dict[str, str]) -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"bench"), *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }


async def _one_request(app: FastAPI, scope: dict[str, Any], status: int) -> float:
    """Seconds for one request made straight through the app's ASGI interface, as a server makes it."""
    sent = False
    answered: list[int] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answered.append(message["status"])

    started = time.perf_counter()
    await app(dict(scope), receive, send)
    elapsed = time.perf_counter() - started
    if answered != [status]:
        raise RuntimeError(f"{scope['path']} answered {answered}, expected {status}")
    return elapsed


async def _measure(
    apps: dict[str, FastAPI], path: str, headers: dict[str, str], status: int
) -> dict[str, list[float]]:
    scope = _scope(path, headers)
    samples: dict[str, list[float]] = {name: [] for name in apps}
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        for i in range(WARMUP + REQUESTS):
            for name, app in apps.items():
                elapsed = await _one_request(app, scope, status)
                if i >= WARMUP:
                    samples[name].append(elapsed)
    return samples


def _bare_app(engine: Engine, *, logged: bool) -> FastAPI:
    """A route that does no work at all: what is left is the middleware's own cost on a 200."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.usage_writer.start()
        yield
        app.state.usage_writer.stop()

    app = FastAPI(lifespan=lifespan)
    app.state.usage_writer = UsageWriter(engine)

    @app.get("/agent/v1/ping/{n}")
    def ping(n: int) -> dict[str, int]:
        return {"n": n}

    if logged:
        app.add_middleware(UsageLoggingMiddleware)
    return app


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def _row(label: str, apps: dict[str, FastAPI], samples: dict[str, list[float]]) -> dict[str, object]:
    with_, without = samples["with"], samples["without"]
    return {
        "case": label,
        "requests": len(with_) + len(without),
        "median_without_us": statistics.median(without) * 1e6,
        "median_with_us": statistics.median(with_) * 1e6,
        "median_added_us": (statistics.median(with_) - statistics.median(without)) * 1e6,
        "p99_without_us": _p99(without) * 1e6,
        "p99_with_us": _p99(with_) * 1e6,
        "p99_added_us": (_p99(with_) - _p99(without)) * 1e6,
        "rows_written": apps["with"].state.usage_writer.stats()["written"],
    }


def run() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with scratch_database() as (url, engine), tempfile.TemporaryDirectory() as tmp:
        with engine.begin() as conn:
            conn.execute(text("SELECT seed_demo_catalog()"))
        key = create_agent(engine, "bench-agent")
        cases = [
            (
                "Agent API: search, valid key",
                "/agent/v1/products/search?q=lamp&limit=5",
                {"X-API-Key": key},
                200,
            ),
            ("Agent API: missing key (401)", "/agent/v1/merchants", {}, 401),
        ]
        for label, path, headers, status in cases:
            apps = {
                logged: _service(url, engine, Path(tmp), logged=logged == "with")
                for logged in ("with", "without")
            }
            rows.append(_row(label, apps, asyncio.run(_measure(apps, path, headers, status))))

        bare = {"with": _bare_app(engine, logged=True), "without": _bare_app(engine, logged=False)}
        rows.append(
            _row(
                "middleware alone: empty 200 route",
                bare,
                asyncio.run(_measure(bare, "/agent/v1/ping/1", {}, 200)),
            )
        )
    return rows
