"""Who may read the metrics, which parameters are accepted, and what the API documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.metrics.routes import router
from tests.metrics.traffic import insert_rows, roll_up, row

STAFF_ONLY = [
    "/agent/metrics/summary",
    "/agent/metrics/agents",
    "/agent/metrics/timeline",
    "/agent/metrics/errors",
]


@pytest.mark.parametrize("path", STAFF_ONLY)
def test_staff_token_required(client: TestClient, agent_key: str, path: str) -> None:
    anonymous = client.get(path)
    assert anonymous.status_code == 401 and "detail" in anonymous.json()
    forged = client.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401
    as_agent = client.get(path, headers={"X-API-Key": agent_key})
    assert as_agent.status_code == 403 and "detail" in as_agent.json()
    as_agent_bearer = client.get(path, headers={"Authorization": f"Bearer {agent_key}"})
    assert as_agent_bearer.status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/agent/metrics/summary", {"hours": "24"}, 400),  # the summary takes no parameters
        ("/agent/metrics/agents", {"hours": "0"}, 422),
        ("/agent/metrics/agents", {"hours": "721"}, 422),
        ("/agent/metrics/agents", {"hours": "a day"}, 422),
        ("/agent/metrics/agents", {"limit": "0"}, 422),
        ("/agent/metrics/agents", {"limit": "100000"}, 422),
        ("/agent/metrics/agents", {"offset": "-1"}, 422),
        ("/agent/metrics/agents", {"agent": "x"}, 400),
        ("/agent/metrics/timeline", {"hours": "-3"}, 422),
        ("/agent/metrics/timeline", {"agent_id": "a", "endpoint": "/agent/v1/orders/create"}, 400),
        ("/agent/metrics/timeline", {"agent_id": "a", "method": "GET"}, 400),
        ("/agent/metrics/timeline", {"agent_id": "x" * 51}, 422),
        ("/agent/metrics/timeline", {"endpoitn": "/agent/v1/orders/create"}, 400),
        ("/agent/metrics/errors", {"status_code": "200"}, 422),
        ("/agent/metrics/errors", {"status_code": "abc"}, 422),
        ("/agent/metrics/errors", {"limit": "201"}, 422),
        ("/agent/metrics/errors", {"since": "yesterday"}, 422),
        ("/agent/metrics/errors", {"since": "2026-01-02T00:00:00Z", "until": "2026-01-02T00:00:00Z"}, 400),
        ("/agent/metrics/errors", {"cursor": "@@@"}, 400),
        ("/agent/metrics/errors", {"cursor": "x" * 201}, 422),
        ("/agent/metrics/errors", {"status": "500"}, 400),
        ("/agent/metrics/health", {"verbose": "1"}, 400),
    ],
)
def test_bad_parameters_are_4xx_json(
    client: TestClient, staff_headers: dict[str, str], path: str, params: dict[str, Any], status: int
) -> None:
    response = client.get(path, params=params, headers=staff_headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["detail"]


def test_unknown_parameter_is_named_in_the_error(client: TestClient, staff_headers: dict[str, str]) -> None:
    detail = client.get("/agent/metrics/agents?hourz=5", headers=staff_headers).json()["detail"]
    assert "hourz" in detail and "hours" in detail


def test_router_mounts_on_another_app(
    engine: Engine, settings: Settings, staff_headers: dict[str, str]
) -> None:
    insert_rows(engine, [row(datetime.now(UTC))])
    roll_up(engine)
    other = FastAPI()
    other.state.engine = engine
    other.state.settings = settings
    other.include_router(router)
    client = TestClient(other)
    summary = client.get("/agent/metrics/summary", headers=staff_headers)
    assert summary.status_code == 200
    assert summary.json()["overview"]["requests_last_hour"] == 1
    assert client.get("/agent/metrics/health").json()["status"] == "ok"


def test_openapi_documents_every_field(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    performance = schemas["Performance"]["properties"]
    assert {
        "success_rate_24h",
        "avg_response_time_ms",
        "p50_response_time_ms",
        "p95_response_time_ms",
        "p99_response_time_ms",
    } <= set(performance)
    assert set(schemas["Summary"]["properties"]) == {
        "overview",
        "performance",
        "agents",
        "orders",
        "top_endpoints",
        "errors",
        "as_of",
        "window_start_24h",
        "window_end_24h",
    }
    revenue = schemas["OrdersOverview"]["properties"]["revenue_last_24h"]
    assert revenue["type"] == "number"  # a JSON number, not a string
    for name in (
        "EndpointUsage",
        "AgentUsage",
        "TimelinePoint",
        "ErrorRow",
        "ErrorPage",
        "Health",
        "AgentPage",
    ):
        assert schemas[name]["properties"], name
