"""GET /agent/metrics/summary: every figure equals the same figure computed from raw rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

import rollups
from app.metrics.windows import floor_hour
from tests.metrics.compare import assert_same
from tests.metrics.conftest import BASE_NOW, GetJson
from tests.metrics.traffic import insert_rows, raw_summary, roll_up, row, traffic

SUMMARY = "/agent/metrics/summary"
HOUR_START = floor_hour(BASE_NOW)

# Clock positions that move every window edge across minute and hour boundaries.
NOWS = [
    BASE_NOW,
    HOUR_START,  # exactly on the hour
    HOUR_START + timedelta(seconds=59, microseconds=999_999),  # last instant of the hour's first minute
    HOUR_START - timedelta(microseconds=1),  # last instant of the previous hour
    HOUR_START + timedelta(minutes=1),
    HOUR_START + timedelta(minutes=30),
    HOUR_START + timedelta(minutes=59, seconds=30),
    BASE_NOW - timedelta(hours=5, minutes=17),
]


def test_every_figure_matches_the_raw_rows_at_every_clock_position(engine: Engine, get_json: GetJson) -> None:
    insert_rows(engine, traffic(BASE_NOW, 4000))
    roll_up(engine)
    for now in NOWS:
        body = get_json(SUMMARY, now=now)
        with engine.connect() as conn:
            expected = raw_summary(conn, now)
        assert_same(body, expected, f"summary at {now.isoformat()}")
        assert body["overview"]["requests_last_hour"] > 0  # the data really is dense around every clock
        assert body["as_of"] is not None


def test_window_edges_are_exact_to_the_minute(engine: Engine, get_json: GetJson) -> None:
    now = HOUR_START  # 12:00:00.000000, say: the last hour is 11:01:00 .. 12:00:59.999999
    rows = [
        row(now - timedelta(minutes=60)),  # exactly 60 minutes ago: out of the last hour
        row(now - timedelta(minutes=59)),  # in
        row(now - timedelta(minutes=60, microseconds=-1)),  # 59:59.999999 ago but in minute 11:00: out
        row(now),  # exactly now, at the hour boundary: in
        row(now + timedelta(seconds=59)),  # later in the current minute: in
        row(now + timedelta(minutes=1)),  # in the future: out of every window, in total_requests
        row(now - timedelta(hours=24)),  # exactly 24 h ago: out of 24 h, in 7 d
        row(now - timedelta(hours=23, minutes=59)),  # in 24 h
        row(now - timedelta(days=7)),  # exactly 7 days ago: out of 7 d
        row(now - timedelta(days=7, minutes=-1)),  # in 7 d
    ]
    insert_rows(engine, rows)
    roll_up(engine)
    body = get_json(SUMMARY, now=now)
    # The 24 h window the error counts (and the page's drill-down) use: 12:00 minute and the 1,439 before.
    assert datetime.fromisoformat(body["window_start_24h"]) == now - timedelta(minutes=24 * 60 - 1)
    assert datetime.fromisoformat(body["window_end_24h"]) == now + timedelta(minutes=1)
    overview = body["overview"]
    assert overview == {
        "total_requests": 10,
        "requests_last_hour": 3,
        "requests_last_24h": 6,  # the last hour's 3, both 11:00 rows, and 23:59 ago
        "requests_last_7d": 8,  # and exactly 24 h ago, and 7 d minus a minute ago
    }
    # One minute later the window has slid: the row 59 minutes old has left the last hour.
    later = get_json(SUMMARY, now=now + timedelta(minutes=1))["overview"]
    assert later["requests_last_hour"] == 3  # lost 11:01, gained the 12:01 row


def test_empty_database_gives_zeros_and_nulls(engine: Engine, get_json: GetJson) -> None:
    body = get_json(SUMMARY)
    assert body.pop("window_start_24h") and body.pop("window_end_24h")  # windows exist without data
    assert body == {
        "overview": {
            "total_requests": 0,
            "requests_last_hour": 0,
            "requests_last_24h": 0,
            "requests_last_7d": 0,
        },
        "performance": {
            "success_rate_24h": None,
            "avg_response_time_ms": None,
            "p50_response_time_ms": None,
            "p95_response_time_ms": None,
            "p99_response_time_ms": None,
        },
        "agents": {"active_last_24h": 0},
        "orders": {"count_last_24h": 0, "revenue_last_24h": 0},
        "top_endpoints": [],
        "errors": [],
        "as_of": None,
    }


def test_revenue_is_exact_to_the_cent(engine: Engine, get_json: GetJson) -> None:
    # 0.10 a thousand times is not 100.0 in binary floating point; nor are these large amounts.
    amounts = [Decimal("0.10")] * 1000 + [Decimal("99999999.99")] * 3 + [Decimal("0.01"), Decimal("12345.67")]
    rows = [
        row(
            BASE_NOW - timedelta(minutes=i % 600),
            endpoint="/agent/v1/orders/create",
            method="POST",
            order_id=f"o{i}",
            order_amount=amount,
        )
        for i, amount in enumerate(amounts)
    ]
    # A failed order and a row without an order id carry no revenue.
    rows.append(row(BASE_NOW, status_code=500, order_id="failed", order_amount=Decimal("5.00")))
    rows.append(row(BASE_NOW, order_id=None, order_amount=Decimal("7.00")))
    insert_rows(engine, rows)
    roll_up(engine)
    orders = get_json(SUMMARY)["orders"]
    assert orders["count_last_24h"] == len(amounts)
    assert orders["revenue_last_24h"] == sum(amounts) == Decimal("300012445.65")


@pytest.mark.parametrize("latencies", [[5] * 50 + [5000] * 50, list(range(1, 2001)), [0, 0, 1, 1, 30000]])
def test_percentiles_are_within_five_percent_of_percentile_disc(
    engine: Engine, get_json: GetJson, latencies: list[int]
) -> None:
    insert_rows(
        engine, [row(BASE_NOW - timedelta(seconds=i), response_time_ms=ms) for i, ms in enumerate(latencies)]
    )
    roll_up(engine)
    body = get_json(SUMMARY)
    with engine.connect() as conn:
        expected = raw_summary(conn, BASE_NOW)
    assert_same(body["performance"], expected["performance"])
    assert_same(body["top_endpoints"], expected["top_endpoints"])


def test_rows_not_yet_rolled_up_are_not_counted(engine: Engine, get_json: GetJson) -> None:
    insert_rows(engine, [row(BASE_NOW)])
    roll_up(engine)
    insert_rows(engine, [row(BASE_NOW)])
    assert get_json(SUMMARY)["overview"]["requests_last_hour"] == 1
    roll_up(engine)
    assert get_json(SUMMARY)["overview"]["requests_last_hour"] == 2


def test_as_of_is_the_rollup_watermark(engine: Engine, get_json: GetJson) -> None:
    roll_up(engine)
    with engine.connect() as conn:
        from sqlalchemy import text

        as_of: datetime = conn.execute(text("SELECT as_of FROM rollup_watermark")).scalar_one()
    assert datetime.fromisoformat(get_json(SUMMARY)["as_of"]) == as_of


def test_an_answer_is_reused_only_within_its_minute_and_rollup_state(
    engine: Engine, get_json: GetJson, app: Any
) -> None:
    insert_rows(engine, [row(BASE_NOW)])
    roll_up(engine)
    first = get_json(SUMMARY)
    assert get_json(SUMMARY, now=BASE_NOW + timedelta(seconds=2)) == first
    cache = app.state.metrics_read_cache
    assert (cache.hits, cache.misses) == (1, 1)

    # A backfill (any recorded run) changes the state: the next read recomputes.
    rollups.backfill(engine, floor_hour(BASE_NOW), floor_hour(BASE_NOW) + timedelta(hours=1))
    get_json(SUMMARY)
    assert cache.misses == 2
    # So does the next minute, since the windows have slid.
    later = get_json(SUMMARY, now=BASE_NOW + timedelta(minutes=1))
    assert cache.misses == 3
    assert later["overview"]["requests_last_hour"] == 1
