"""The buffer between requests and the database: batches, bound, shutdown flush, refused rows."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from app.usage import UsageRow, UsageWriter, log_agent_request
from tests.usage.agent_app import count_rows, submit_rows, usage_rows, wait_for

HOUR_LONG = 3600.0  # a flush interval that never elapses during a test: only stop() can write
OVERLONG_AGENT = "x" * 80  # does not fit VARCHAR(50): the database refuses the row


def _refused_row() -> UsageRow:
    """Built by hand, bypassing make_row's fitting, so the database refuses it."""
    return UsageRow(OVERLONG_AGENT, "/e", "GET", None, 200, 1, None, None, None, datetime.now(UTC), None)


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
    writer.submit(_refused_row())
    submit_rows(writer, 2, start=2)
    writer.stop()
    assert [r["order_id"] for r in usage_rows(engine)] == ["n0", "n1", "n2", "n3"]
    stats = writer.stats()
    assert (stats["written"], stats["dropped"]) == (4, 1)


def test_one_refused_row_in_a_big_batch_is_one_warning_and_every_good_row_is_written(
    engine: Engine, make_writer: Callable[..., UsageWriter], caplog: pytest.LogCaptureFixture
) -> None:
    writer = make_writer(batch_rows=1000)
    submit_rows(writer, 700)
    writer.submit(_refused_row())
    submit_rows(writer, 299, start=700)
    with caplog.at_level(logging.DEBUG, logger="app.usage.writer"):
        writer.stop()  # never started: the batch is written here, in this thread

    assert [r["order_id"] for r in usage_rows(engine)] == [f"n{i}" for i in range(999)]
    stats = writer.stats()
    assert (stats["written"], stats["dropped"], stats["buffered"]) == (999, 1, 0)
    [record] = [r for r in caplog.records if r.name == "app.usage.writer"]
    assert record.levelno == logging.WARNING  # below the level that makes a Sentry event
    assert "1 of 1000 rows" in record.getMessage()
    assert "StringDataRightTruncation" in record.getMessage()
    assert OVERLONG_AGENT not in record.getMessage()


def test_refused_rows_of_one_batch_are_counted_in_one_warning(
    engine: Engine, make_writer: Callable[..., UsageWriter], caplog: pytest.LogCaptureFixture
) -> None:
    writer = make_writer(batch_rows=64)
    bad_positions = {0, 17, 18, 63}
    for i in range(64):
        if i in bad_positions:
            writer.submit(_refused_row())
        else:
            submit_rows(writer, 1, start=i)
    with caplog.at_level(logging.DEBUG, logger="app.usage.writer"):
        writer.stop()

    expected = [f"n{i}" for i in range(64) if i not in bad_positions]
    assert [r["order_id"] for r in usage_rows(engine)] == expected
    assert (writer.stats()["written"], writer.stats()["dropped"]) == (60, 4)
    [record] = [r for r in caplog.records if r.name == "app.usage.writer"]
    assert "4 of 64 rows" in record.getMessage()
