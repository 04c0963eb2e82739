"""Metrics reads from rollups versus the original approach, scanning `agent_usage_logs`.

For each raw-table size (env BENCH_METRICS_SIZES, default "1000000,10000000"; e.g. "100000,1000000" for a
quick run) a scratch database gets `make demo-data` traffic over BENCH_METRICS_DAYS days (default 14, the
same at every size, so a bigger table means busier hours), ending at a clock in the middle of an hour so
every window has partial hours at both ends. The rollups are built with `rollups.run_once`. Then, in the
same run, we time the server-side work of each endpoint (the query functions the routes call, each on a
fresh pooled connection in a REPEATABLE READ snapshot, as a request does) and a raw-scan baseline that
builds the same summary JSON straight from `agent_usage_logs` with COUNT/percentile_disc queries.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

import rollups
from app.demo.data import write_demo_data
from app.metrics import queries
from app.metrics.cache import RollupReadCache
from app.metrics.schemas import (
    AgentsOverview,
    EndpointUsage,
    OrdersOverview,
    Overview,
    Performance,
    StatusCount,
    Summary,
)
from app.metrics.windows import floor_hour, floor_minute
from bench._db import scratch_database

SIZES = [int(s) for s in os.environ.get("BENCH_METRICS_SIZES", "1000000,10000000").split(",") if s.strip()]
DAYS = int(os.environ.get("BENCH_METRICS_DAYS", "14"))
REPEAT = int(os.environ.get("BENCH_METRICS_REPEAT", "100"))
BASELINE_REPEAT = int(os.environ.get("BENCH_METRICS_BASELINE_REPEAT", "5"))
WARMUP = 5


def _log(message: str) -> None:
    print(f"  bench.metrics: {message}", file=sys.stderr, flush=True)


def _time(engine: Engine, work: Callable[[Connection], object], n: int, warmup: int = WARMUP) -> list[float]:
    """Seconds per call of `work` on a fresh pooled connection in its own REPEATABLE READ snapshot, as the
    routes read. The warm-up calls fill the buffer cache (and, for the polled case, the answer cache)."""
    out = []
    for i in range(warmup + n):
        started = time.perf_counter()
        with engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            work(conn)
        if i >= warmup:
            out.append(time.perf_counter() - started)
    return out


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, -(-99 * len(ordered) // 100) - 1))]


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _avg(total: int | None, count: int) -> float | None:
    return round(int(total) / count, 2) if count and total is not None else None


def raw_scan_summary(conn: Connection, now: datetime) -> Summary:
    """The summary as the original computed it: aggregate queries over the raw table."""
    end = floor_minute(now) + timedelta(minutes=1)
    bounds = {
        "end": end,
        "h": end - timedelta(hours=1),
        "d": end - timedelta(days=1),
        "w": end - timedelta(days=7),
    }
    total = conn.execute(text("SELECT count(*) FROM agent_usage_logs")).scalar_one()
    counts = conn.execute(
        text("""
        SELECT count(*) FILTER (WHERE "timestamp" >= :h) AS hour,
               count(*) FILTER (WHERE "timestamp" >= :d) AS day, count(*) AS week
        FROM agent_usage_logs WHERE "timestamp" >= :w AND "timestamp" < :end
        """),
        bounds,
    ).one()
    day = conn.execute(
        text("""
        SELECT count(*) AS requests, count(*) FILTER (WHERE status_code < 400) AS successes,
               sum(response_time_ms) AS rt_sum, count(response_time_ms) AS rt_count,
               percentile_disc(0.5) WITHIN GROUP (ORDER BY response_time_ms) AS p50,
               percentile_disc(0.95) WITHIN GROUP (ORDER BY response_time_ms) AS p95,
               percentile_disc(0.99) WITHIN GROUP (ORDER BY response_time_ms) AS p99,
               count(DISTINCT coalesce(agent_id, 'unknown')) AS active,
               count(*) FILTER (WHERE order_id IS NOT NULL AND status_code < 400) AS orders,
               coalesce(sum(order_amount) FILTER (WHERE order_id IS NOT NULL AND status_code < 400), 0)
                   AS revenue
        FROM agent_usage_logs WHERE "timestamp" >= :d AND "timestamp" < :end
        """),
        bounds,
    ).one()
    top = conn.execute(
        text("""
        SELECT coalesce(endpoint, 'unknown') AS endpoint, coalesce(method, 'unknown') AS method,
               count(*) AS requests, count(*) FILTER (WHERE status_code < 400) AS successes,
               sum(response_time_ms) AS rt_sum, count(response_time_ms) AS rt_count,
               percentile_disc(0.95) WITHIN GROUP (ORDER BY response_time_ms) AS p95
        FROM agent_usage_logs WHERE "timestamp" >= :d AND "timestamp" < :end
        GROUP BY 1, 2 ORDER BY requests DESC, endpoint, method LIMIT 10
        """),
        bounds,
    ).all()
    errors = conn.execute(
        text("""
        SELECT status_code, count(*) AS n FROM agent_usage_logs
        WHERE status_code >= 400 AND "timestamp" >= :d AND "timestamp" < :end
        GROUP BY status_code ORDER BY n DESC, status_code
        """),
        bounds,
    ).all()
    as_of = conn.execute(text("SELECT as_of FROM rollup_watermark WHERE name = 'agent_usage'")).scalar_one()
    return Summary(
        overview=Overview(
            total_requests=total,
            requests_last_hour=counts.hour,
            requests_last_24h=counts.day,
            requests_last_7d=counts.week,
        ),
        performance=Performance(
            success_rate_24h=_rate(day.successes, day.requests),
            avg_response_time_ms=_avg(day.rt_sum, day.rt_count),
            p50_response_time_ms=day.p50,
            p95_response_time_ms=day.p95,
            p99_response_time_ms=day.p99,
        ),
        agents=AgentsOverview(active_last_24h=day.active),
        orders=OrdersOverview(count_last_24h=day.orders, revenue_last_24h=Decimal(day.revenue)),
        top_endpoints=[
            EndpointUsage(
                endpoint=t.endpoint,
                method=t.method,
                requests=t.requests,
                success_rate=_rate(t.successes, t.requests),
                avg_response_time_ms=_avg(t.rt_sum, t.rt_count),
                p95_response_time_ms=t.p95,
            )
            for t in top
        ],
        errors=[StatusCount(status_code=e.status_code, count=e.n) for e in errors],
        as_of=as_of,
        window_start_24h=bounds["d"],
        window_end_24h=end,
    )


def _load(engine: Engine, size: int, now: datetime) -> dict[str, Any]:
    """Demo traffic up to `now` (generated by whole hours, the rows after `now` removed), rolled up."""
    started = time.perf_counter()
    written = write_demo_data(
        engine,
        days=DAYS,
        rows_per_day=max(1, size // DAYS),
        seed=42,
        until=floor_hour(now) + timedelta(hours=1),
    )
    with engine.begin() as conn:
        conn.execute(text('DELETE FROM agent_usage_logs WHERE "timestamp" > :now'), {"now": now})
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    result = rollups.run_once(engine, wait=True)
    rollup_s = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        raw_rows = conn.execute(text("SELECT count(*) FROM agent_usage_logs")).scalar_one()
        rollup_rows = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM agent_usage_hourly_agent) + (SELECT count(*) FROM"
                " agent_usage_hourly_endpoint) + (SELECT count(*) FROM agent_usage_hourly_status) AS hourly,"
                " (SELECT count(*) FROM agent_usage_minute_agent) + (SELECT count(*) FROM"
                " agent_usage_minute_endpoint) + (SELECT count(*) FROM agent_usage_minute_status) AS minute"
            )
        ).one()
    _log(
        f"{written.rows:,} rows written in {load_s:.0f} s; run_once rolled up {result.rows_processed:,} rows "
        f"in {rollup_s:.0f} s; rollup rows: {rollup_rows.hourly:,} hourly, {rollup_rows.minute:,} per minute"
    )
    return {"raw_rows": raw_rows, "rollup_s": rollup_s}


def _row(case: str, raw_rows: int, samples: list[float]) -> dict[str, Any]:
    return {
        "case": case,
        "raw_rows": raw_rows,
        "runs": len(samples),
        "median_ms": statistics.median(samples) * 1000,
        "p99_ms": _p99(samples) * 1000,
    }


def _one_size(size: int) -> list[dict[str, Any]]:
    # The middle of an hour: every sliding window has partial hours at both ends.
    now = floor_hour(datetime.now(UTC)) + timedelta(minutes=30, seconds=15)
    with scratch_database() as (_url, engine):
        loaded = _load(engine, size, now)
        raw_rows = loaded["raw_rows"]
        with engine.connect() as conn:
            fast, slow = queries.summary(conn, now), raw_scan_summary(conn, now)
        # Counts and money must agree exactly; percentiles differ by the histogram's resolution only.
        if (fast.overview, fast.orders, fast.errors) != (slow.overview, slow.orders, slow.errors):
            raise RuntimeError(f"rollup summary differs from the raw scan:\n{fast}\n{slow}")

        _log(f"timing reads at {raw_rows:,} raw rows")
        cache = RollupReadCache()

        def polled(conn: Connection) -> object:
            return cache.read(conn, now, "summary", lambda: queries.summary(conn, now))

        rows = [
            _row(
                "summary, computed (rollups)",
                raw_rows,
                _time(engine, lambda c: queries.summary(c, now), REPEAT),
            ),
            _row("summary, polled (rollups + cache)", raw_rows, _time(engine, polled, REPEAT)),
            _row(
                "agents?hours=24, computed",
                raw_rows,
                _time(engine, lambda c: queries.agents(c, now, 24, 50, 0), REPEAT),
            ),
            _row(
                "timeline?hours=24, computed",
                raw_rows,
                _time(engine, lambda c: queries.timeline(c, now, 24, queries.TimelineFilter()), REPEAT),
            ),
            _row(
                "summary, raw-scan baseline",
                raw_rows,
                _time(engine, lambda c: raw_scan_summary(c, now), BASELINE_REPEAT),
            ),
        ]
        baseline = rows[-1]["median_ms"]
        for r in rows[:2]:
            r["vs_baseline"] = f"{baseline / r['median_ms']:,.0f}x faster"
        return rows


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for size in SIZES:
        rows += _one_size(size)
    if len(SIZES) > 1:
        # Growth from the smallest to the largest table, per case (the aim for the summary: <= 1.3x).
        by_case: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_case.setdefault(r["case"], []).append(r)
        for same in by_case.values():
            first, last = same[0], same[-1]
            last["vs_smaller"] = f"{last['median_ms'] / first['median_ms']:.2f}x ({first['raw_rows']:,} rows)"
    return rows
