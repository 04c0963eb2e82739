"""Helpers for usage tests: a small app shaped like the Agent API with the usage middleware, and row readers.

The middleware must work on any app, so most tests use this one; test_agent_api_logging.py checks the
real Agent API too.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine, text
from starlette.types import ASGIApp, Receive, Scope, Send

from app.usage import UsageLoggingMiddleware, UsageWriter, log_agent_request

AGENT_KEY = "amk_test_agent_key_0123456789abcdef"
AGENT_ID = "agent_test"


def require_test_agent(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
) -> str:
    """Stands in for app.auth.deps.require_agent: 401 on a missing or bad key, agent_id on request.state."""
    if x_api_key != AGENT_KEY:
        raise HTTPException(status_code=401, detail="invalid or missing API key")
    request.state.agent_id = AGENT_ID
    return AGENT_ID


class OrderIn(BaseModel):
    product_id: str = Field(min_length=1, max_length=50)
    amount: Decimal = Field(gt=0, max_digits=10, decimal_places=2)


class RequestIdMiddleware:
    """Stands in for the observability request-id middleware (outermost, sets request.state.request_id)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            scope.setdefault("state", {})["request_id"] = headers.get(b"x-request-id", b"rid-none").decode()
        await self.app(scope, receive, send)


def build_agent_app(writer: UsageWriter, prefix: str = "/agent/v1") -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.usage_writer.start()
        yield
        app.state.usage_writer.stop()

    app = FastAPI(lifespan=lifespan)
    app.state.usage_writer = writer
    agent = Depends(require_test_agent)

    @app.get(prefix + "/products/search", dependencies=[agent])
    def search(q: str) -> dict[str, Any]:
        return {"items": [], "q": q}

    @app.post(prefix + "/merchants/{merchant_id}/orders", status_code=201, dependencies=[agent])
    def create_order(merchant_id: str, order: OrderIn, request: Request) -> dict[str, Any]:
        request.state.merchant_id = merchant_id
        request.state.order_id = f"ord_{order.product_id}"
        request.state.order_amount = order.amount
        return {"order_id": request.state.order_id}

    @app.get(prefix + "/orders/{order_id}", dependencies=[agent])
    def get_order(order_id: str) -> dict[str, Any]:
        if order_id.startswith("missing"):
            raise HTTPException(status_code=404, detail=f"order {order_id} not found")
        return {"order_id": order_id}

    @app.get(prefix + "/items/{n}")
    def item(n: int, request: Request) -> dict[str, int]:
        request.state.order_id = f"item-{n}"
        return {"n": n}

    @app.get(prefix + "/explode")
    def explode() -> None:
        raise RuntimeError("lost connection: postgresql://app:hunter2@db/x password=hunter2")

    @app.get(prefix + "/upstream")
    def upstream() -> None:
        raise HTTPException(status_code=503, detail="payment provider unavailable")

    @app.get(prefix + "/echo-error")
    def echo_error(message: str) -> None:
        raise HTTPException(status_code=400, detail=message)

    @app.get("/outside")
    def outside() -> dict[str, bool]:
        return {"ok": True}

    sub = FastAPI()

    @sub.get("/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, str]:
        return {"thing_id": thing_id}

    app.mount(prefix + "/legacy", sub)
    app.add_middleware(UsageLoggingMiddleware, prefix=prefix)
    app.add_middleware(RequestIdMiddleware)
    return app


def usage_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM agent_usage_logs ORDER BY id"))
        return [dict(r._mapping) for r in result]


def count_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM agent_usage_logs")).scalar_one())


def submit_rows(writer: UsageWriter, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        log_agent_request(
            writer,
            agent_id="agent_a",
            endpoint="/agent/v1/items/{n}",
            method="GET",
            status_code=200,
            response_time_ms=12.6,
            order_id=f"n{i}",
        )


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
