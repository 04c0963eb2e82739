"""`make demo-data`: realistic, deterministic history of the promised shape."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, text

from app.demo.data import main, write_demo_data

UNTIL = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)


def table_digest(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text(
                    "SELECT md5(string_agg(concat_ws('|', agent_id, endpoint, method, merchant_id, "
                    'status_code, response_time_ms, error_message, order_id, order_amount, "timestamp"), '
                    "',' ORDER BY id)) FROM agent_usage_logs"
                )
            ).scalar_one()
        )


def truncate(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE agent_usage_logs RESTART IDENTITY"))


def test_same_seed_same_rows_other_seed_other_rows(engine: Engine) -> None:
    write_demo_data(engine, days=1, rows_per_day=3_000, seed=7, until=UNTIL)
    first = table_digest(engine)
    truncate(engine)
    write_demo_data(engine, days=1, rows_per_day=3_000, seed=7, until=UNTIL)
    assert table_digest(engine) == first
    truncate(engine)
    write_demo_data(engine, days=1, rows_per_day=3_000, seed=8, until=UNTIL)
    assert table_digest(engine) != first


def test_history_has_the_promised_shape(engine: Engine) -> None:
    summary = write_demo_data(engine, days=3, rows_per_day=20_000, seed=42, until=UNTIL)
    assert summary.rows == 60_000
    with engine.connect() as conn:
        shape = conn.execute(
            text(
                """
                SELECT count(*) AS rows,
                       count(DISTINCT agent_id) FILTER (WHERE agent_id <> 'unknown') AS agents,
                       count(DISTINCT endpoint) FILTER (WHERE endpoint <> '<unmatched>') AS endpoints,
                       avg((status_code >= 400)::int) AS error_share,
                       count(DISTINCT status_code) FILTER (WHERE status_code >= 400) AS error_codes,
                       count(*) FILTER (WHERE status_code >= 400 AND error_message IS NULL) AS silent_errors,
                       count(*) FILTER (WHERE order_id IS NOT NULL) AS orders,
                       count(DISTINCT merchant_id) FILTER (WHERE order_id IS NOT NULL) AS order_merchants,
                       min(order_amount) AS min_amount,
                       count(*) FILTER (
                           WHERE order_id IS NOT NULL AND (status_code >= 400 OR order_amount IS NULL)
                       ) AS bad_orders,
                       min("timestamp") AS first_at, max("timestamp") AS last_at,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms) AS p50,
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY response_time_ms) AS p99
                FROM agent_usage_logs
                """
            )
        ).one()
        by_hour = dict(
            conn.execute(
                text(
                    "SELECT extract(hour FROM \"timestamp\" AT TIME ZONE 'UTC')::int, count(*) "
                    "FROM agent_usage_logs GROUP BY 1"
                )
            ).all()
        )
    assert shape.rows == 60_000
    assert shape.agents >= 50
    assert shape.endpoints >= 20
    assert 0.01 <= shape.error_share <= 0.03
    assert shape.error_codes >= 6 and shape.silent_errors == 0
    assert shape.orders > 1_000 and shape.order_merchants >= 5
    assert shape.min_amount > 0 and shape.bad_orders == 0
    assert shape.first_at >= datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert shape.last_at < datetime(2026, 3, 4, 10, tzinfo=UTC)
    # Long tail: the p99 is several times the median.
    assert shape.p99 > 4 * shape.p50
    # Daily rhythm: the afternoon peak is several times the night.
    assert by_hour[14] > 3 * by_hour[3]


def test_command_line_writes_the_requested_volume(engine: Engine, database_url: str) -> None:
    assert (
        main(["--days", "2", "--rows-per-day", "500", "--seed", "3", "--until", "2026-03-04T00:00:00"]) == 0
    )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM agent_usage_logs")).scalar_one() == 1_000
