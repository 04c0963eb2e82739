"""Agent authentication, merchants and product search under /agent/v1."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.agent_api.keys import create_agent, revoke_agent_keys


def _get(client: TestClient, key: str, path: str, **params: object) -> tuple[int, dict]:
    response = client.get(path, headers={"X-API-Key": key}, params=params)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": ""},
        {"X-API-Key": "amk_not-a-real-key"},
        {"X-API-Key": "not even the prefix"},
        {"X-API-Key": "amk_" + "x" * 5000},
        {"Authorization": "Bearer amk_wrong"},
        {"Authorization": "Basic YWdlbnQ6a2V5"},
    ],
)
def test_missing_or_bad_keys_are_401(client: TestClient, agent_key: str, headers: dict) -> None:
    response = client.get("/agent/v1/merchants", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] in ("invalid API key", "missing API key: send X-API-Key: <key>")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_key_works_as_header_or_bearer(client: TestClient, agent_key: str) -> None:
    assert client.get("/agent/v1/merchants", headers={"X-API-Key": agent_key}).status_code == 200
    bearer = {"Authorization": f"Bearer {agent_key}"}
    assert client.get("/agent/v1/merchants", headers=bearer).status_code == 200


def test_revoked_key_and_disabled_agent_are_401(client: TestClient, engine: Engine, agent_key: str) -> None:
    revoke_agent_keys(engine, "agent_test")
    assert client.get("/agent/v1/merchants", headers={"X-API-Key": agent_key}).status_code == 401
    fresh = create_agent(engine, "agent_test")
    assert client.get("/agent/v1/merchants", headers={"X-API-Key": fresh}).status_code == 200
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE agents SET is_active = false")
    assert client.get("/agent/v1/merchants", headers={"X-API-Key": fresh}).status_code == 401


def test_lists_merchants(client: TestClient, agent_key: str) -> None:
    status, body = _get(client, agent_key, "/agent/v1/merchants")
    assert status == 200
    ids = [m["merchant_id"] for m in body["merchants"]]
    assert ids == sorted(ids)
    assert {"acme_outdoor", "nordic_home", "pixel_electronics"} <= set(ids)


def test_lists_a_merchants_products(client: TestClient, agent_key: str) -> None:
    status, body = _get(client, agent_key, "/agent/v1/merchants/acme_outdoor/products")
    assert status == 200
    assert body["merchant"] == {"merchant_id": "acme_outdoor", "name": "Acme Outdoor Supply"}
    assert body["products"]
    assert {p["merchant_id"] for p in body["products"]} == {"acme_outdoor"}
    tent = next(p for p in body["products"] if p["product_id"] == "acme_tent_2p")
    assert tent["price"] == "249.00"  # money as an exact decimal string
    assert tent["in_stock"] is True


def test_unknown_merchant_is_404(client: TestClient, agent_key: str) -> None:
    status, body = _get(client, agent_key, "/agent/v1/merchants/no_such_shop/products")
    assert status == 404
    assert body == {"detail": "merchant 'no_such_shop' not found"}


def test_search_matches_name_or_description_across_merchants(client: TestClient, agent_key: str) -> None:
    status, body = _get(client, agent_key, "/agent/v1/products/search", q="LAMP")
    assert status == 200
    found = {p["product_id"] for p in body["products"]}
    assert {"nordic_desk_lamp", "pixel_desk_lamp"} <= found
    assert body["count"] == len(body["products"])
    status, body = _get(client, agent_key, "/agent/v1/products/search", q="lamp", merchant_id="nordic_home")
    assert {p["product_id"] for p in body["products"]} == {"nordic_desk_lamp"}
    status, body = _get(client, agent_key, "/agent/v1/products/search", q="rechargeable")  # description
    assert [p["product_id"] for p in body["products"]] == ["acme_headlamp"]


def test_search_treats_wildcards_literally_and_respects_limit(client: TestClient, agent_key: str) -> None:
    for q in ("%", "_", "\\", "' OR 1=1 --"):
        status, body = _get(client, agent_key, "/agent/v1/products/search", q=q)
        assert (status, body["count"]) == (200, 0), q
    status, body = _get(client, agent_key, "/agent/v1/products/search", limit=3)
    assert status == 200
    assert body["count"] == 3
