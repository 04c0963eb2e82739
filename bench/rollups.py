"""Rollup engine benchmarks: incremental run throughput, empty-run cost, backfill throughput, and whether a
run's cost depends on the size of the raw table (it should not).

Sizes come from the environment so a quick run is possible:
  BENCH_ROLLUPS_NEW_ROWS       new rows per incremental run (default 100000)
  BENCH_ROLLUPS_TABLE_SIZES    raw table sizes for the scaling case (default 1000000,10000000)
  BENCH_ROLLUPS_QUICK=1        20000 new rows, tables of 100000 and 1000000 rows
The backfill case recomputes half of the largest table (>= 5M raw rows with the defaults).
Data is generated in SQL (INSERT ... SELECT generate_series) in a scratch database.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from bench._db import scratch_database
from rollups import backfill, run_once

QUICK = os.environ.get("BENCH_ROLLUPS_QUICK") == "1"
NEW_ROWS = int(os.environ.get("BENCH_ROLLUPS_NEW_ROWS", "20000" if QUICK else "100000"))
TABLE_SIZES = [
    int(s)
    for s in os.environ.get(
        "BENCH_ROLLUPS_TABLE_SIZES", "100000,1000000" if QUICK else "1000000,10000000"
    ).split(",")
    if s.strip()
]
HISTORY_DAYS = 30
REPEAT = 3
EMPTY_REPEAT = 50

# 50 agents, 15 endpoints (method fixed per endpoint), 95 % success, 3 % 4xx, 2 % 5xx, log-normal latency
# (median ~90 ms, long tail), 20 % of requests carry an order. Timestamps spread evenly over the window
# ending at :until, in id order like real traffic.
_GENERATE = text(
    """
    INSERT INTO agent_usage_logs (agent_id, endpoint, method, merchant_id, status_code, response_time_ms,
                                  order_id, order_amount, "timestamp")
    SELECT 'agent_' || (h % 50),
           '/agent/v1/endpoint_' || (h % 15),
           (ARRAY['GET', 'POST', 'PUT'])[1 + (h % 15) % 3],
           'm' || (h % 200),
           CASE WHEN r < 0.02 THEN 500 WHEN r < 0.05 THEN 404 ELSE 200 END,
           -- Box-Muller: exp of a normal variate
           greatest(1, exp(4.5 + 0.8 * sqrt(-2 * ln(greatest(random(), 1e-9)))
                           * cos(2 * pi() * random())))::integer,
           CASE WHEN h % 5 = 0 THEN 'o' || g END,
           CASE WHEN h % 5 = 0 THEN round((random() * 500)::numeric, 2) END,
           CAST(:until AS timestamptz)
               - (CAST(:n AS bigint) - g) * (CAST(:span AS interval) / CAST(:n AS bigint))
    FROM (SELECT g, hashint4(g::int) & 2147483647 AS h, random() AS r
          FROM generate_series(1, CAST(:n AS bigint)) AS g) AS s
    """
)


def _generate(engine: Engine, n: int, until: datetime, span: timedelta) -> None:
    with engine.begin() as conn:
        conn.execute(_GENERATE, {"n": n, "until": until, "span": span})
        conn.execute(text("ANALYZE agent_usage_logs"))


def _pretend_rolled_up(engine: Engine) -> None:
    """History for the scaling case: counted as processed without spending the time to roll it up."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE rollup_watermark SET last_id = (SELECT max(id) FROM agent_usage_logs)"))


def _timed_runs(engine: Engine, new_rows: int) -> list[float]:
    """Insert `new_rows` fresh rows (the last ten minutes of traffic) then time one run; REPEAT times."""
    timings = []
    for _ in range(REPEAT):
        _generate(engine, new_rows, datetime.now(UTC), timedelta(minutes=10))
        t0 = time.perf_counter()
        result = run_once(engine, wait=True)
        timings.append(time.perf_counter() - t0)
        assert result.rows_processed == new_rows, result
    return timings


def _raw_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM agent_usage_logs")).scalar_one())


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with scratch_database() as (_url, engine):
        run_once(engine)
        empty = []
        for _ in range(EMPTY_REPEAT):
            t0 = time.perf_counter()
            run_once(engine)
            empty.append(time.perf_counter() - t0)
        rows.append({"case": "empty run", "median_ms": statistics.median(empty) * 1000, "aim": "< 20 ms"})

        timings = _timed_runs(engine, NEW_ROWS)
        median = statistics.median(timings)
        rows.append(
            {
                "case": f"run over {NEW_ROWS:,} new rows",
                "raw_rows": _raw_count(engine),
                "median_ms": median * 1000,
                "rows_per_s": NEW_ROWS / median,
                "aim": "100k rows < 1 s",
            }
        )

        by_size: dict[int, float] = {}
        for size in TABLE_SIZES:
            missing = size - _raw_count(engine)
            if missing > 0:
                print(f"  generating {missing:,} raw rows ...", file=sys.stderr, flush=True)
                _generate(
                    engine, missing, datetime.now(UTC) - timedelta(minutes=15), timedelta(days=HISTORY_DAYS)
                )
                _pretend_rolled_up(engine)
            by_size[size] = statistics.median(_timed_runs(engine, NEW_ROWS))
            rows.append(
                {
                    "case": f"run over {NEW_ROWS:,} new rows",
                    "raw_rows": _raw_count(engine),
                    "median_ms": by_size[size] * 1000,
                    "rows_per_s": NEW_ROWS / by_size[size],
                }
            )
        if len(by_size) > 1:
            rows[-1]["aim"] = f"{by_size[TABLE_SIZES[-1]] / by_size[TABLE_SIZES[0]]:.2f}x the time at " + (
                f"{TABLE_SIZES[0]:,} (aim ~1)"
            )

        # Backfill half of the history window: with 10M rows over 30 days, ~5M raw rows.
        until = datetime.now(UTC) - timedelta(minutes=15)
        since = until - timedelta(days=HISTORY_DAYS / 2)
        print("  backfill ...", file=sys.stderr, flush=True)
        done = backfill(engine, since, until)
        rows.append(
            {
                "case": f"backfill {HISTORY_DAYS // 2} days in {done.chunks} daily chunks",
                "raw_rows": done.rows_processed,
                "median_ms": done.duration_s * 1000,
                "rows_per_s": done.rows_processed / done.duration_s,
                "aim": "> 1M rows/s",
            }
        )
    return rows
