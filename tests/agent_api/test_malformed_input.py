"""Every Agent API endpoint answers malformed input with a 4xx JSON error, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text


@pytest.fixture
def agent(app: FastAPI, agent_key: str) -> Iterator[TestClient]:
    # raise_server_exceptions=False: a 500 shows up as a failing status, not as a test-side traceback.
    with TestClient(app, headers={"X-API-Key": agent_key}, raise_server_exceptions=False) as client:
        yield client


ITEM = {"product_id": "acme_headlamp", "quantity": 1}
BAD_ORDER_BODIES = [
    b"{not json",
    b"",
    b"\xff\xfe",
    b"[]",
    b'"order"',
    b"null",
    b"{}",
    b'{"merchant_id": "acme_outdoor"}',
    b'{"merchant_id": "acme_outdoor", "items": []}',
    b'{"merchant_id": "acme_outdoor", "items": {}}',
    b'{"merchant_id": "acme_outdoor", "items": [null]}',
    b'{"merchant_id": 7, "items": [{"product_id": "acme_headlamp", "quantity": 1}]}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_headlamp", "quantity": "1"}]}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_headlamp", "quantity": 1.5}]}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_headlamp", "quantity": 0}]}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_headlamp", "quantity": -3}]}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_headlamp", "quantity": 1e309}]}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_headlamp", "quantity": 99999999999}]}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_headlamp", "quantity": true}]}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "", "quantity": 1}]}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "x\\u0000y", "quantity": 1}]}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_headlamp"}]}',
    b'{"merchant_id": "' + b"m" * 51 + b'", "items": [{"product_id": "acme_headlamp", "quantity": 1}]}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_headlamp", "quantity": 1}], "price": 0}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_headlamp", "quantity": 1}], '
    b'"idempotency_key": ""}',
    b'{"merchant_id": "acme_outdoor", "items": [{"product_id": "acme_headlamp", "quantity": 1}], '
    b'"idempotency_key": 5}',
    b'{"merchant_id": "acme_outdoor", "items": ['
    + b",".join([b'{"product_id": "a", "quantity": 1}'] * 51)
    + b"]}",
]


def _assert_4xx_json(response: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    assert 400 <= status < 500, (status, response.text)  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/json")  # type: ignore[attr-defined]
    assert "detail" in response.json()  # type: ignore[attr-defined]


@pytest.mark.parametrize("body", BAD_ORDER_BODIES)
def test_malformed_order_bodies_are_422(agent: TestClient, engine: Engine, body: bytes) -> None:
    response = agent.post("/agent/v1/orders", content=body, headers={"Content-Type": "application/json"})
    _assert_4xx_json(response)
    assert response.status_code == 422
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar_one() == 0


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/agent/v1/products/search", {"limit": "abc"}),
        ("GET", "/agent/v1/products/search", {"limit": "0"}),
        ("GET", "/agent/v1/products/search", {"limit": "101"}),
        ("GET", "/agent/v1/products/search", {"limit": "1e999"}),
        ("GET", "/agent/v1/products/search", {"q": "x" * 101}),
        ("GET", "/agent/v1/products/search", {"merchant_id": "no spaces"}),
        ("GET", "/agent/v1/products/search", {"q": "lamp\x00"}),
        ("GET", "/agent/v1/products/search", {"merchant_id": "m" * 51}),
        ("GET", "/agent/v1/merchants/" + "m" * 51 + "/products", {}),
        ("GET", "/agent/v1/merchants/bad%20id/products", {}),
        ("GET", "/agent/v1/orders/" + "o" * 51, {}),
        ("GET", "/agent/v1/orders/ord%00x", {}),
        ("GET", "/agent/v1/orders/%E2%82%AC", {}),
        ("DELETE", "/agent/v1/orders/ord_x", {}),
        ("PUT", "/agent/v1/merchants", {}),
        ("GET", "/agent/v1/orders", {}),
        ("GET", "/agent/v1/nowhere", {}),
    ],
)
def test_malformed_paths_and_parameters_are_4xx(
    agent: TestClient, method: str, path: str, params: dict
) -> None:
    _assert_4xx_json(agent.request(method, path, params=params))


def test_order_without_json_content_type_is_4xx(agent: TestClient) -> None:
    response = agent.post(
        "/agent/v1/orders", content=b"merchant_id=acme_outdoor", headers={"Content-Type": "text/plain"}
    )
    _assert_4xx_json(response)


def test_malformed_bodies_without_a_key_are_still_4xx(app: FastAPI, agent_key: str) -> None:
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        for body in (b"{not json", b'{"merchant_id": 7}', b"{}"):
            response = anonymous.post(
                "/agent/v1/orders", content=body, headers={"Content-Type": "application/json"}
            )
            _assert_4xx_json(response)


def test_odd_bytes_in_the_api_key_header_are_401(agent: TestClient) -> None:
    for raw in (b"amk_\xe9\xff", b"\xff\xfe", b"amk_ key with spaces"):
        _assert_4xx_json(agent.get("/agent/v1/merchants", headers=[(b"X-API-Key", raw)]))
