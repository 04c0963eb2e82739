"""Placing and reading orders: persisted with an amount, and each failure with its own status code."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from starlette.types import ASGIApp, Receive, Scope, Send

from app.agent_api.keys import create_agent


class StateRecorder:
    """Outermost ASGI wrapper that keeps what routes left on request.state, as the usage middleware does."""

    def __init__(self, app: ASGIApp, sink: list[dict[str, Any]]) -> None:
        self.app = app
        self.sink = sink

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.sink.append(dict(scope.get("state", {})))


@pytest.fixture
def states(app: FastAPI) -> list[dict[str, Any]]:
    sink: list[dict[str, Any]] = []
    app.add_middleware(StateRecorder, sink=sink)
    return sink


@pytest.fixture
def agent(app: FastAPI, states: list[dict[str, Any]], agent_key: str) -> Iterator[TestClient]:
    with TestClient(app, headers={"X-API-Key": agent_key}) as client:
        yield client


def _stock(engine: Engine, product_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT stock FROM products WHERE product_id = :p"), {"p": product_id}
            ).scalar_one()
        )


def _order_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM orders")).scalar_one())


ORDER = {
    "merchant_id": "acme_outdoor",
    "items": [{"product_id": "acme_headlamp", "quantity": 2}, {"product_id": "acme_tent_2p", "quantity": 1}],
}


def test_order_is_persisted_with_its_amount(
    agent: TestClient, engine: Engine, states: list[dict[str, Any]]
) -> None:
    stock_before = _stock(engine, "acme_headlamp")
    response = agent.post("/agent/v1/orders", json=ORDER)
    assert response.status_code == 201
    order = response.json()
    assert order["amount"] == "328.98"  # 2 x 39.99 + 249.00, exact
    assert order["merchant_id"] == "acme_outdoor"
    assert order["status"] == "created"
    assert [(i["product_id"], i["quantity"], i["line_total"]) for i in order["items"]] == [
        ("acme_headlamp", 2, "79.98"),
        ("acme_tent_2p", 1, "249.00"),
    ]
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT agent_id, merchant_id, amount FROM orders WHERE order_id = :o"),
            {"o": order["order_id"]},
        ).one()
    assert tuple(row) == ("agent_test", "acme_outdoor", Decimal("328.98"))
    assert _stock(engine, "acme_headlamp") == stock_before - 2
    # What the usage row of this request will carry.
    state = states[-1]
    assert state["agent_id"] == "agent_test"
    assert state["merchant_id"] == "acme_outdoor"
    assert state["order_id"] == order["order_id"]
    assert state["order_amount"] == Decimal("328.98")
    assert isinstance(state["order_amount"], Decimal)


def test_an_order_can_be_read_back_right_away(agent: TestClient, states: list[dict[str, Any]]) -> None:
    created = agent.post("/agent/v1/orders", json=ORDER).json()
    response = agent.get(f"/agent/v1/orders/{created['order_id']}")
    assert response.status_code == 200
    assert response.json() == created
    # Reading an order is not placing one: no order fields on its usage row (revenue counted once).
    assert states[-1]["merchant_id"] == "acme_outdoor"
    assert "order_id" not in states[-1]
    assert "order_amount" not in states[-1]


def test_same_product_twice_in_one_order_is_merged(agent: TestClient) -> None:
    body = {
        "merchant_id": "book_nook",
        "items": [
            {"product_id": "book_cookbook", "quantity": 1},
            {"product_id": "book_cookbook", "quantity": 2},
        ],
    }
    order = agent.post("/agent/v1/orders", json=body).json()
    assert order["amount"] == "82.50"
    assert [(i["product_id"], i["quantity"]) for i in order["items"]] == [("book_cookbook", 3)]


def test_another_agents_order_and_unknown_orders_are_404(
    agent: TestClient, app: FastAPI, engine: Engine
) -> None:
    created = agent.post("/agent/v1/orders", json=ORDER).json()
    other_key = create_agent(engine, "agent_other")
    other = agent.get(f"/agent/v1/orders/{created['order_id']}", headers={"X-API-Key": other_key})
    missing = agent.get("/agent/v1/orders/ord_doesnotexist")
    assert other.status_code == missing.status_code == 404
    assert other.json() == {"detail": f"order {created['order_id']!r} not found"}


def test_unknown_merchant_is_404(agent: TestClient, engine: Engine, states: list[dict[str, Any]]) -> None:
    response = agent.post("/agent/v1/orders", json=ORDER | {"merchant_id": "no_such_shop"})
    assert response.status_code == 404
    assert response.json() == {"detail": "merchant 'no_such_shop' not found"}
    assert states[-1]["merchant_id"] == "no_such_shop"
    assert "order_id" not in states[-1]
    assert _order_count(engine) == 0


@pytest.mark.parametrize("product_id", ["no_such_product", "nordic_oak_table"])  # the second: other merchant
def test_unknown_product_is_404_and_nothing_is_kept(
    agent: TestClient, engine: Engine, product_id: str
) -> None:
    before = _stock(engine, "acme_headlamp")
    body = {
        "merchant_id": "acme_outdoor",
        "items": [{"product_id": "acme_headlamp", "quantity": 1}, {"product_id": product_id, "quantity": 1}],
    }
    response = agent.post("/agent/v1/orders", json=body)
    assert response.status_code == 404
    assert response.json() == {"detail": f"product {product_id!r} not found at merchant 'acme_outdoor'"}
    assert _order_count(engine) == 0
    assert _stock(engine, "acme_headlamp") == before  # the whole order rolled back


def test_insufficient_stock_is_409_and_stock_unchanged(agent: TestClient, engine: Engine) -> None:
    stock = _stock(engine, "acme_trail_stove")
    body = {
        "merchant_id": "acme_outdoor",
        "items": [{"product_id": "acme_trail_stove", "quantity": stock + 1}],
    }
    response = agent.post("/agent/v1/orders", json=body)
    assert response.status_code == 409
    assert response.json() == {"detail": "insufficient stock for product 'acme_trail_stove'"}
    assert _stock(engine, "acme_trail_stove") == stock
    assert _order_count(engine) == 0


def test_concurrent_orders_never_oversell(agent: TestClient, engine: Engine) -> None:
    stock = _stock(engine, "acme_trail_stove")
    body = {"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_trail_stove", "quantity": 1}]}
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(lambda _: agent.post("/agent/v1/orders", json=body).status_code, range(stock + 5))
        )
    assert statuses.count(201) == stock
    assert statuses.count(409) == 5
    assert _stock(engine, "acme_trail_stove") == 0
    products = agent.get("/agent/v1/merchants/acme_outdoor/products").json()["products"]
    assert next(p for p in products if p["product_id"] == "acme_trail_stove")["in_stock"] is False


def test_a_retry_with_the_same_idempotency_key_returns_the_first_order(
    agent: TestClient, engine: Engine, states: list[dict[str, Any]]
) -> None:
    body = ORDER | {"idempotency_key": "checkout-7"}
    first = agent.post("/agent/v1/orders", json=body)
    stock_after_first = _stock(engine, "acme_headlamp")
    retry = agent.post("/agent/v1/orders", json=body)
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert _order_count(engine) == 1
    assert _stock(engine, "acme_headlamp") == stock_after_first
    assert "order_amount" not in states[-1]  # the retry adds no revenue


def test_reusing_an_idempotency_key_for_a_different_order_is_409(agent: TestClient, engine: Engine) -> None:
    assert agent.post("/agent/v1/orders", json=ORDER | {"idempotency_key": "k1"}).status_code == 201
    other = {"merchant_id": "book_nook", "items": [{"product_id": "book_cookbook", "quantity": 1}]}
    response = agent.post("/agent/v1/orders", json=other | {"idempotency_key": "k1"})
    assert response.status_code == 409
    assert response.json() == {"detail": "idempotency_key was already used for a different order"}
    assert _order_count(engine) == 1


def test_idempotency_keys_belong_to_one_agent(agent: TestClient, engine: Engine) -> None:
    other_key = create_agent(engine, "agent_other")
    body = ORDER | {"idempotency_key": "shared-name"}
    assert agent.post("/agent/v1/orders", json=body).status_code == 201
    assert agent.post("/agent/v1/orders", json=body, headers={"X-API-Key": other_key}).status_code == 201
    assert _order_count(engine) == 2


def test_concurrent_retries_place_one_order(agent: TestClient, engine: Engine) -> None:
    body = ORDER | {"idempotency_key": "double-click"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: agent.post("/agent/v1/orders", json=body), range(6)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert _order_count(engine) == 1


def test_an_amount_beyond_the_column_is_422_not_500(agent: TestClient, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (product_id, merchant_id, name, price, stock) "
                "VALUES ('yacht', 'acme_outdoor', 'Yacht', 60000000.00, 10)"
            )
        )
    body = {"merchant_id": "acme_outdoor", "items": [{"product_id": "yacht", "quantity": 2}]}
    response = agent.post("/agent/v1/orders", json=body)
    assert response.status_code == 422
    assert response.json() == {"detail": "order amount exceeds 99999999.99"}
