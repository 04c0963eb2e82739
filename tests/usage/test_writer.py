"""The buffer between requests and the database: batches, bound, shutdown flush, refused rows."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from app.usage import UsageRow, UsageWriter, log_agent_request
from tests.usage.agent_app import count_rows, submit_rows, usage_rows, wait_for

HOUR_LONG = 3600.0  # a flush interval that never elapses during a test: only stop() can write


def test_rows_are_written_within_the_flush_interval(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    writer = make_writer(flush_interval_seconds=0.05)
    writer.start()
    submit_rows(writer, 25)
    wait_for(lambda: count_rows(engine) == 25, timeout=5)
    assert writer.stats()["written"] == 25
    assert writer.stats()["buffered"] == 0


def test_a_full_batch_is_written_without_waiting_for_the_interval(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    writer = make_writer(flush_interval_seconds=HOUR_LONG, batch_rows=100)
    writer.start()
    time.sleep(0.05)  # the thread is now waiting out its hour-long interval
    submit_rows(writer, 100)
    wait_for(lambda: count_rows(engine) == 100, timeout=5)


def test_stop_writes_everything_buffered(engine: Engine, make_writer: Callable[..., UsageWriter]) -> None:
    writer = make_writer(flush_interval_seconds=HOUR_LONG, batch_rows=500)
    writer.start()
    submit_rows(writer, 1234)
    writer.stop()
    assert count_rows(engine) == 1234
    assert writer.stats() | {"last_flush_at": None} == {
        "buffered": 0,
        "written": 1234,
        "dropped": 0,
        "flush_failures": 0,
        "max_rows": 100_000,
        "last_error": None,
        "last_flush_at": None,
    }
    assert [r["order_id"] for r in usage_rows(engine)] == [f"n{i}" for i in range(1234)]


def test_stop_without_start_still_writes(engine: Engine, make_writer: Callable[..., UsageWriter]) -> None:
    writer = make_writer()
    submit_rows(writer, 3)
    writer.stop()
    assert count_rows(engine) == 3


def test_full_buffer_drops_the_oldest_rows_and_counts_them(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    writer = make_writer(max_rows=10)
    submit_rows(writer, 15)
    assert writer.stats()["buffered"] == 10
    assert writer.stats()["dropped"] == 5
    writer.stop()
    assert [r["order_id"] for r in usage_rows(engine)] == [f"n{i}" for i in range(5, 15)]


def test_values_are_fitted_to_their_columns(engine: Engine, make_writer: Callable[..., UsageWriter]) -> None:
    writer = make_writer()
    log_agent_request(
        writer,
        agent_id="a" * 80,
        endpoint=None,
        method="get",
        status_code=200,
        response_time_ms=-3.0,
        merchant_id="m\x00x",
        order_id=12345,
        order_amount="1e12",  # does not fit NUMERIC(10, 2): left out rather than failing the batch
        error_message="\x00",
    )
    writer.stop()
    row = usage_rows(engine)[0]
    assert (row["agent_id"], row["endpoint"], row["method"]) == ("a" * 50, "<unmatched>", "GET")
    assert (row["merchant_id"], row["order_id"], row["order_amount"]) == ("mx", "12345", None)
    assert (row["response_time_ms"], row["error_message"]) == (0, None)


def test_a_row_the_database_refuses_costs_only_itself(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    writer = make_writer()
    submit_rows(writer, 2)
    # Built by hand, bypassing make_row's fitting: 80 characters do not fit VARCHAR(50).
    writer.submit(UsageRow("x" * 80, "/e", "GET", None, 200, 1, None, None, None, datetime.now(UTC), None))
    submit_rows(writer, 2, start=2)
    writer.stop()
    assert [r["order_id"] for r in usage_rows(engine)] == ["n0", "n1", "n2", "n3"]
    stats = writer.stats()
    assert (stats["written"], stats["dropped"]) == (4, 1)
