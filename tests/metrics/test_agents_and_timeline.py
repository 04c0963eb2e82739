"""GET /agent/metrics/agents and /timeline: every figure equals the raw rows' figure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from app.metrics.windows import floor_hour
from tests.metrics.compare import assert_same
from tests.metrics.conftest import BASE_NOW, GetJson
from tests.metrics.traffic import insert_rows, raw_agents, raw_timeline, roll_up, row, traffic

AGENTS = "/agent/metrics/agents"
TIMELINE = "/agent/metrics/timeline"
HOUR_START = floor_hour(BASE_NOW)


@pytest.fixture
def rolled_up_traffic(engine: Engine) -> None:
    insert_rows(engine, traffic(BASE_NOW, 4000, seed=11))
    roll_up(engine)


@pytest.mark.usefixtures("rolled_up_traffic")
@pytest.mark.parametrize("hours", [1, 3, 24, 200])
@pytest.mark.parametrize("now", [BASE_NOW, HOUR_START, HOUR_START - timedelta(microseconds=1)])
def test_agents_match_raw_rows(engine: Engine, get_json: GetJson, hours: int, now: Any) -> None:
    body = get_json(AGENTS, now=now, hours=hours, limit=500)
    with engine.connect() as conn:
        expected = raw_agents(conn, now, hours)
    assert body["total"] == len(expected) > 0
    assert_same(body["items"], expected)


@pytest.mark.usefixtures("rolled_up_traffic")
def test_agent_pages_follow_the_order_without_gaps(engine: Engine, get_json: GetJson) -> None:
    whole = get_json(AGENTS, hours=24, limit=500)["items"]
    paged: list[dict[str, Any]] = []
    for offset in range(0, len(whole) + 5, 5):
        page = get_json(AGENTS, hours=24, limit=5, offset=offset)
        assert page["total"] == len(whole)
        paged += page["items"]
    assert paged == whole
    keys = [(-item["requests"], item["agent_id"]) for item in whole]
    assert keys == sorted(keys)


def test_agents_last_seen_ignores_rows_in_the_future(engine: Engine, get_json: GetJson) -> None:
    insert_rows(engine, [row(BASE_NOW - timedelta(minutes=5)), row(BASE_NOW + timedelta(minutes=5))])
    roll_up(engine)
    items = get_json(AGENTS, hours=1)["items"]
    assert [(i["agent_id"], i["requests"]) for i in items] == [("agent_00", 1)]
    assert items[0]["last_seen"].startswith((BASE_NOW - timedelta(minutes=5)).isoformat()[:19])


@pytest.mark.usefixtures("rolled_up_traffic")
@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({}, "TRUE"),
        ({"agent_id": "agent_03"}, "coalesce(l.agent_id, 'unknown') = 'agent_03'"),
        ({"agent_id": "unknown"}, "coalesce(l.agent_id, 'unknown') = 'unknown'"),
        ({"endpoint": "/agent/v1/orders/create"}, "l.endpoint = '/agent/v1/orders/create'"),
        (
            {"endpoint": "/agent/v1/orders/{order_id}", "method": "get"},
            "l.endpoint = '/agent/v1/orders/{order_id}' AND l.method = 'GET'",
        ),
        ({"method": "POST"}, "l.method = 'POST'"),
    ],
)
@pytest.mark.parametrize("hours", [1, 30, 200])
def test_timeline_matches_raw_rows(
    engine: Engine, get_json: GetJson, params: dict[str, str], where: str, hours: int
) -> None:
    body = get_json(TIMELINE, hours=hours, **params)
    with engine.connect() as conn:
        expected = raw_timeline(conn, BASE_NOW, hours, where)
    assert len(body["points"]) == hours
    assert body["points"][-1]["bucket_start"].startswith(HOUR_START.isoformat()[:19])  # current hour last
    assert_same(body["points"], expected)
    assert sum(p["requests"] for p in body["points"]) > 0


def test_timeline_is_zero_filled_on_an_empty_database(get_json: GetJson) -> None:
    points = get_json(TIMELINE, hours=5)["points"]
    assert [p["requests"] for p in points] == [0] * 5
    assert all(p["revenue"] == 0 and p["p95_response_time_ms"] is None for p in points)


def test_agents_on_an_empty_database(get_json: GetJson) -> None:
    body = get_json(AGENTS, hours=720)
    assert body["total"] == 0 and body["items"] == []
