"""Usage logging on the real service: the Agent API's routes, auth and request ids, and live traffic."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.agent_api.keys import create_agent
from app.config import Settings
from app.demo.traffic import drive, ensure_agents
from app.main import create_app
from tests.usage.agent_app import usage_rows


@pytest.fixture
def service(engine: Engine, settings: Settings) -> FastAPI:
    with engine.begin() as conn:
        conn.execute(text("SELECT seed_demo_catalog()"))
    return create_app(settings, engine)


def test_every_agent_api_outcome_is_one_row(engine: Engine, service: FastAPI) -> None:
    key = create_agent(engine, "agent_real")
    headers = {"X-API-Key": key}
    with TestClient(service) as client:
        placed = client.post(
            "/agent/v1/orders",
            json={"merchant_id": "book_nook", "items": [{"product_id": "book_sql_guide", "quantity": 2}]},
            headers=headers,
        )
        assert placed.status_code == 201
        order = placed.json()
        assert client.get(f"/agent/v1/orders/{order['order_id']}", headers=headers).status_code == 200
        assert client.get("/agent/v1/orders/ord_nope", headers=headers).status_code == 404
        assert (
            client.post("/agent/v1/orders", json={"merchant_id": "book_nook"}, headers=headers).status_code
            == 422
        )
        assert client.get("/agent/v1/merchants", headers={"X-API-Key": "amk_" + "z" * 43}).status_code == 401
        assert (
            client.get("/agent/v1/merchants", headers={"Authorization": f"Bearer {key}x"}).status_code == 401
        )
        assert client.get("/agent/v1/no-such-route").status_code == 404
        assert client.get("/version").status_code == 200  # outside /agent/v1: not a usage row

    rows = usage_rows(engine)
    outcomes = [(r["method"], r["endpoint"], r["status_code"], r["agent_id"]) for r in rows]
    assert outcomes == [
        ("POST", "/agent/v1/orders", 201, "agent_real"),
        ("GET", "/agent/v1/orders/{order_id}", 200, "agent_real"),
        ("GET", "/agent/v1/orders/{order_id}", 404, "agent_real"),
        ("POST", "/agent/v1/orders", 422, "agent_real"),
        ("GET", "/agent/v1/merchants", 401, "unknown"),
        ("GET", "/agent/v1/merchants", 401, "unknown"),
        ("GET", "<unmatched>", 404, "unknown"),
    ]
    created = rows[0]
    assert (created["merchant_id"], created["order_id"]) == ("book_nook", order["order_id"])
    assert created["order_amount"] == Decimal(order["amount"]) == Decimal("84.00")
    assert rows[1]["order_id"] is None  # reading an order is not an order
    assert rows[2]["error_message"] == "order 'ord_nope' not found"
    assert rows[3]["error_message"].startswith("body.items:")
    assert all(r["request_id"] for r in rows)  # set by the access-log middleware, outermost
    assert key not in str(rows)


class _LiveServer:
    def __init__(self, app: FastAPI) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True  # graceful: the lifespan stops the usage writer, which flushes
        self.thread.join(15)


def test_traffic_command_drives_the_live_api_and_every_request_is_logged(
    engine: Engine, service: FastAPI
) -> None:
    keys = ensure_agents(engine, 3)
    # The client gets a thread of its own: another test's fixture (Playwright's sync API) may keep an
    # event loop running in this one, where asyncio.run() refuses to start.
    with _LiveServer(service) as url, ThreadPoolExecutor(1) as pool:
        statuses = pool.submit(asyncio.run, drive(url, keys, requests=150, concurrency=4, seed=5)).result()
    assert statuses.total() >= 150
    assert {200, 201, 401, 404}.issubset(statuses)
    assert any(400 <= code < 500 for code in statuses if code not in (401, 404))

    with engine.connect() as conn:
        logged = {
            code: n
            for code, n in conn.execute(text("SELECT status_code, count(*) FROM agent_usage_logs GROUP BY 1"))
        }
        agents = set(conn.execute(text("SELECT DISTINCT agent_id FROM agent_usage_logs")).scalars())
        orders = conn.execute(
            text("SELECT count(*) FROM agent_usage_logs WHERE order_id IS NOT NULL AND order_amount > 0")
        ).scalar_one()
    assert logged == dict(statuses)
    assert set(keys) | {"unknown"} == agents
    assert orders == statuses[201]
