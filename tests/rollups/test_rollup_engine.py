"""The incremental run: exact counts, NULLs, late rows, out-of-order commits, one runner at a time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, create_engine, text

from rollups import run_once
from tests.rollups.helpers import (
    assert_no_drift,
    fetch_one,
    insert,
    raw_count,
    rollup_totals,
    row,
    watermark_last_id,
)

HOUR = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def _wait_until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def _backend_waiting_on_lock(engine: Engine, query_prefix: str) -> bool:
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
                " AND query LIKE :q"
            ),
            {"q": query_prefix + "%"},
        ).first()
    return found is not None


def test_counts_every_column_as_documented(engine: Engine) -> None:
    insert(
        engine,
        [
            row(
                timestamp=HOUR + timedelta(minutes=1),
                status_code=200,
                response_time_ms=100,
                order_id="o1",
                order_amount=Decimal("10.05"),
            ),
            row(
                timestamp=HOUR + timedelta(minutes=1),
                status_code=201,
                response_time_ms=300,
                order_id="o2",
                order_amount=Decimal("0.10"),
            ),
            # A failed order: neither an order nor revenue.
            row(
                timestamp=HOUR + timedelta(minutes=2),
                status_code=422,
                response_time_ms=50,
                order_id="o3",
                order_amount=Decimal("99.00"),
            ),
            row(timestamp=HOUR + timedelta(minutes=59), status_code=503, response_time_ms=None),
        ],
    )
    result = run_once(engine)
    assert (result.status, result.rows_processed) == ("succeeded", 4)
    hourly = fetch_one(engine, "SELECT * FROM agent_usage_hourly_agent WHERE agent_id = 'agent_a'")
    assert hourly.bucket_start == HOUR
    assert (
        hourly.request_count,
        hourly.success_count,
        hourly.client_error_count,
        hourly.server_error_count,
    ) == (
        4,
        2,
        1,
        1,
    )
    assert (hourly.response_time_count, hourly.response_time_ms_sum, hourly.response_time_ms_max) == (
        3,
        450,
        300,
    )
    assert (hourly.order_count, hourly.revenue) == (2, Decimal("10.15"))
    assert hourly.last_seen_at == HOUR + timedelta(minutes=59)
    assert sum(hourly.latency_histogram) == 3
    minute = fetch_one(
        engine,
        "SELECT * FROM agent_usage_minute_agent WHERE bucket_start = :b",
        b=HOUR + timedelta(minutes=1),
    )
    assert (minute.request_count, minute.revenue) == (2, Decimal("10.15"))
    statuses = fetch_one(
        engine, "SELECT array_agg(status_code ORDER BY status_code) AS s FROM agent_usage_hourly_status"
    )
    assert statuses.s == [200, 201, 422, 503]
    assert_no_drift(engine)


def test_second_run_adds_to_the_same_buckets(engine: Engine) -> None:
    insert(engine, [row(timestamp=HOUR, response_time_ms=10)])
    run_once(engine)
    insert(engine, [row(timestamp=HOUR + timedelta(seconds=30), response_time_ms=2000)])
    assert run_once(engine).rows_processed == 1
    hourly = fetch_one(engine, "SELECT * FROM agent_usage_hourly_agent")
    assert (hourly.request_count, hourly.response_time_ms_max, sum(hourly.latency_histogram)) == (2, 2000, 2)
    assert_no_drift(engine)


def test_null_columns_are_counted_under_unknown(engine: Engine) -> None:
    insert(
        engine,
        [
            row(
                timestamp=HOUR,
                agent_id=None,
                endpoint=None,
                method=None,
                status_code=None,
                response_time_ms=None,
                order_id="o1",
                order_amount=None,
            ),
            row(timestamp=HOUR, agent_id=None, status_code=200, order_id="o2", order_amount=None),
        ],
    )
    assert run_once(engine).rows_processed == 2
    agent = fetch_one(engine, "SELECT * FROM agent_usage_hourly_agent")
    assert agent.agent_id == "unknown"
    assert (agent.request_count, agent.success_count, agent.client_error_count, agent.server_error_count) == (
        2,
        1,
        0,
        0,
    )
    assert (agent.response_time_count, agent.order_count, agent.revenue) == (1, 1, Decimal(0))
    endpoint = fetch_one(engine, "SELECT * FROM agent_usage_hourly_endpoint WHERE method = 'unknown'")
    assert (endpoint.endpoint, endpoint.request_count, endpoint.latency_histogram) == ("unknown", 1, None)
    status = fetch_one(engine, "SELECT * FROM agent_usage_hourly_status WHERE status_code = 0")
    assert status.request_count == 1
    assert_no_drift(engine)


def test_late_row_lands_in_its_own_hour(engine: Engine) -> None:
    insert(engine, [row(timestamp=HOUR)])
    run_once(engine)
    three_days_ago = HOUR - timedelta(days=3, minutes=17)
    insert(engine, [row(timestamp=three_days_ago)])
    assert run_once(engine).rows_processed == 1
    with engine.connect() as conn:
        hours = conn.execute(
            text("SELECT bucket_start, request_count FROM agent_usage_hourly_agent ORDER BY 1")
        ).all()
    assert [tuple(h) for h in hours] == [(HOUR - timedelta(days=3, hours=1), 1), (HOUR, 1)]
    assert_no_drift(engine)


def test_bucket_hours_are_utc_whatever_the_session_time_zone(engine: Engine, database_url: str) -> None:
    insert(engine, [row(timestamp=datetime(2026, 3, 4, 10, 45, tzinfo=UTC))])
    # +05:30: a date_trunc in the session's zone would put this row in the 10:30 UTC "hour".
    kolkata = create_engine(database_url, connect_args={"options": "-c timezone=Asia/Kolkata"})
    try:
        run_once(kolkata)
    finally:
        kolkata.dispose()
    assert fetch_one(engine, "SELECT bucket_start FROM agent_usage_hourly_agent").bucket_start == HOUR
    assert_no_drift(engine)


def test_out_of_order_commit_is_counted_exactly_once_after_a_skipped_run(engine: Engine) -> None:
    with engine.connect() as slow:
        slow_tx = slow.begin()
        insert(slow, [row(timestamp=HOUR, agent_id="slow")])  # draws the lower id, commits last
        insert(engine, [row(timestamp=HOUR, agent_id="fast")])  # higher id, committed first
        result = run_once(engine, writer_wait_ms=100)
        # It cannot know whether the lower id will commit, so it does not move past it.
        assert result.status == "skipped"
        assert watermark_last_id(engine) == 0 and rollup_totals(engine)["agent_usage_hourly_agent"] == 0
        slow_tx.commit()
    assert run_once(engine).rows_processed == 2
    assert run_once(engine).rows_processed == 0
    assert rollup_totals(engine) == dict.fromkeys(rollup_totals(engine), 2)
    assert_no_drift(engine)


def test_run_waits_for_the_writer_holding_a_lower_id(engine: Engine) -> None:
    results = []
    with engine.connect() as slow:
        slow_tx = slow.begin()
        insert(slow, [row(timestamp=HOUR, agent_id="slow")])
        insert(engine, [row(timestamp=HOUR, agent_id="fast")])
        runner = threading.Thread(target=lambda: results.append(run_once(engine, writer_wait_ms=20_000)))
        runner.start()
        _wait_until(lambda: _backend_waiting_on_lock(engine, "LOCK TABLE agent_usage_logs"))
        # Meanwhile new writers queue behind the run's lock request; the slow one commits.
        slow_tx.commit()
    runner.join(timeout=20)
    assert results[0].status == "succeeded" and results[0].rows_processed == 2
    assert_no_drift(engine)


def test_rolled_back_writer_leaves_a_gap_and_nothing_else(engine: Engine) -> None:
    with engine.connect() as conn:
        tx = conn.begin()
        insert(conn, [row(timestamp=HOUR)])
        tx.rollback()
    insert(engine, [row(timestamp=HOUR)])
    assert run_once(engine).rows_processed == 1
    assert watermark_last_id(engine) == 2
    assert_no_drift(engine)


def test_second_runner_skips_while_the_first_holds_the_watermark(engine: Engine) -> None:
    insert(engine, [row(timestamp=HOUR)])
    results = []
    with engine.connect() as other:
        tx = other.begin()
        other.execute(text("SELECT 1 FROM rollup_watermark FOR UPDATE"))
        assert run_once(engine).status == "skipped"
        waiter = threading.Thread(target=lambda: results.append(run_once(engine, wait=True)))
        waiter.start()
        _wait_until(lambda: _backend_waiting_on_lock(engine, "SELECT last_id, purged_before"))
        tx.commit()
    waiter.join(timeout=20)
    assert results[0].rows_processed == 1
    assert_no_drift(engine)


def test_empty_run_is_cheap_and_moves_as_of(engine: Engine) -> None:
    run_once(engine)
    first = fetch_one(engine, "SELECT as_of FROM rollup_watermark").as_of
    result = run_once(engine)
    assert (result.status, result.rows_processed) == ("succeeded", 0)
    assert fetch_one(engine, "SELECT as_of FROM rollup_watermark").as_of > first
    assert raw_count(engine) == 0


def test_each_run_is_recorded(engine: Engine) -> None:
    insert(engine, [row(timestamp=HOUR), row(timestamp=HOUR)])
    run_once(engine)
    run_once(engine)
    with engine.connect() as conn:
        runs = conn.execute(
            text(
                "SELECT kind, status, rows_processed, from_id, to_id, duration_ms"
                " FROM rollup_runs ORDER BY id"
            )
        ).all()
    assert [(r.kind, r.status, r.rows_processed, r.from_id, r.to_id) for r in runs] == [
        ("incremental", "succeeded", 2, 0, 2),
        ("incremental", "succeeded", 0, 2, 2),
    ]
    assert all(r.duration_ms >= 0 for r in runs)
