"""Generated agent traffic written straight into the raw table, and the truth computed from raw rows.

The truth functions are plain SQL over `agent_usage_logs`, written from the documented window convention
(rows with date_trunc('minute', now) - (N - 1) min <= timestamp < date_trunc('minute', now) + 1 min,
the start moved back to its hour when that hour is older than the hour of now - 8 days, whose minute
rollups purge may have deleted), independently of app/metrics/windows.py.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, column, insert, table, text

import rollups

AGENTS: list[str | None] = [f"agent_{i:02d}" for i in range(12)] + [None, "unknown"]
ENDPOINTS: list[tuple[str | None, str | None]] = [
    ("/agent/v1/products/search", "GET"),
    ("/agent/v1/products/{product_id}", "GET"),
    ("/agent/v1/orders/create", "POST"),
    ("/agent/v1/orders/{order_id}", "GET"),
    ("/agent/v1/orders/{order_id}", "DELETE"),
    ("/agent/v1/orders/{order_id}/pay", "POST"),
    ("/agent/v1/merchants", "GET"),
    ("/agent/v1/merchants/{merchant_id}", "GET"),
    ("/agent/v1/carts", "POST"),
    ("/agent/v1/carts/{cart_id}", "PUT"),
    ("/agent/v1/refunds", "POST"),
    ("/agent/v1/webhooks", "POST"),
    ("<unmatched>", "GET"),
    (None, None),
    ("/agent/v1/orders/create", None),
]
STATUSES: list[int | None] = [200] * 30 + [201] * 6 + [204, 400, 401, 404, 409, 422, 429, 500, 502, 503, None]

RAW = table(
    "agent_usage_logs",
    column("agent_id"),
    column("endpoint"),
    column("method"),
    column("merchant_id"),
    column("status_code"),
    column("response_time_ms"),
    column("error_message"),
    column("order_id"),
    column("order_amount"),
    column("timestamp"),
    column("request_id"),
)


def row(moment: datetime, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "agent_id": "agent_00",
        "endpoint": "/agent/v1/products/search",
        "method": "GET",
        "merchant_id": "m_1",
        "status_code": 200,
        "response_time_ms": 100,
        "error_message": None,
        "order_id": None,
        "order_amount": None,
        "timestamp": moment,
        "request_id": None,
    }
    base.update(values)
    return base


def traffic(now: datetime, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` rows, dense near `now` (so minute edges matter), spread over 8 days, 3 % in the future."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        r = rng.random()
        if r < 0.35:
            offset = rng.uniform(-3 * 3600, 0)
        elif r < 0.65:
            offset = rng.uniform(-26 * 3600, 0)
        elif r < 0.97:
            offset = rng.uniform(-8 * 86400, 0)
        else:
            offset = rng.uniform(0, 2 * 3600)
        endpoint, method = rng.choice(ENDPOINTS)
        status = rng.choice(STATUSES)
        ordered = endpoint == "/agent/v1/orders/create" and rng.random() < 0.9
        latency = None if rng.random() < 0.03 else int(rng.lognormvariate(4.5, 1.0))
        rows.append(
            row(
                now + timedelta(seconds=offset),
                agent_id=rng.choice(AGENTS),
                endpoint=endpoint,
                method=method,
                merchant_id=f"m_{rng.randint(1, 5)}",
                status_code=status,
                response_time_ms=latency,
                error_message=f"error {i}" if status is not None and status >= 400 else None,
                order_id=f"ord_{i}" if ordered else None,
                order_amount=Decimal(rng.randint(1, 500_000)) / 100 if ordered else None,
                request_id=f"req_{i}",
            )
        )
    return rows


def insert_rows(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(RAW), rows)


def roll_up(engine: Engine) -> None:
    rollups.run_once(engine)


# --- the truth, from raw rows ----------------------------------------------------------------------

_NOW_MINUTE = "date_trunc('minute', CAST(:now AS timestamptz))"
_START = f"({_NOW_MINUTE} - (:minutes - 1) * interval '1 minute')"
_START_HOUR = f"date_trunc('hour', {_START}, 'UTC')"
_MINUTE_HORIZON = "date_trunc('hour', CAST(:now AS timestamptz) - interval '8 days', 'UTC')"
_WINDOW = f""" "timestamp" >= CASE WHEN {_START_HOUR} < {_MINUTE_HORIZON} THEN {_START_HOUR} ELSE {_START} END
    AND "timestamp" < {_NOW_MINUTE} + interval '1 minute' """
_NOW_HOUR = "date_trunc('hour', CAST(:now AS timestamptz), 'UTC')"


def rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def avg(total: int | None, count: int) -> float | None:
    return round(total / count, 2) if count and total is not None else None


def raw_count(conn: Connection, now: datetime, minutes: int) -> int:
    return int(
        conn.execute(
            text(f"SELECT count(*) FROM agent_usage_logs WHERE {_WINDOW}"), {"now": now, "minutes": minutes}
        ).scalar_one()
    )


def raw_summary(conn: Connection, now: datetime) -> dict[str, Any]:
    day = {"now": now, "minutes": 24 * 60}
    totals = conn.execute(
        text(f"""
        SELECT count(*) AS requests, count(*) FILTER (WHERE status_code < 400) AS successes,
               sum(response_time_ms) AS rt_sum, count(response_time_ms) AS rt_count,
               percentile_disc(0.5) WITHIN GROUP (ORDER BY response_time_ms) AS p50,
               percentile_disc(0.95) WITHIN GROUP (ORDER BY response_time_ms) AS p95,
               percentile_disc(0.99) WITHIN GROUP (ORDER BY response_time_ms) AS p99,
               count(DISTINCT coalesce(agent_id, 'unknown')) AS active,
               count(*) FILTER (WHERE order_id IS NOT NULL AND status_code < 400) AS orders,
               coalesce(sum(order_amount) FILTER (WHERE order_id IS NOT NULL AND status_code < 400), 0)
                   AS revenue
        FROM agent_usage_logs WHERE {_WINDOW}
        """),
        day,
    ).one()
    top = conn.execute(
        text(f"""
        SELECT coalesce(endpoint, 'unknown') AS endpoint, coalesce(method, 'unknown') AS method,
               count(*) AS requests, count(*) FILTER (WHERE status_code < 400) AS successes,
               sum(response_time_ms) AS rt_sum, count(response_time_ms) AS rt_count,
               percentile_disc(0.95) WITHIN GROUP (ORDER BY response_time_ms) AS p95
        FROM agent_usage_logs WHERE {_WINDOW}
        GROUP BY 1, 2 ORDER BY requests DESC, endpoint, method LIMIT 10
        """),
        day,
    ).all()
    errors = conn.execute(
        text(f"""
        SELECT status_code, count(*) AS n FROM agent_usage_logs WHERE status_code >= 400 AND {_WINDOW}
        GROUP BY status_code ORDER BY n DESC, status_code
        """),
        day,
    ).all()
    return {
        "overview": {
            "total_requests": conn.execute(text("SELECT count(*) FROM agent_usage_logs")).scalar_one(),
            "requests_last_hour": raw_count(conn, now, 60),
            "requests_last_24h": raw_count(conn, now, 24 * 60),
            "requests_last_7d": raw_count(conn, now, 7 * 24 * 60),
        },
        "performance": {
            "success_rate_24h": rate(totals.successes, totals.requests),
            "avg_response_time_ms": avg(totals.rt_sum, totals.rt_count),
            "p50_response_time_ms": totals.p50,
            "p95_response_time_ms": totals.p95,
            "p99_response_time_ms": totals.p99,
        },
        "agents": {"active_last_24h": totals.active},
        "orders": {"count_last_24h": totals.orders, "revenue_last_24h": totals.revenue},
        "top_endpoints": [
            {
                "endpoint": t.endpoint,
                "method": t.method,
                "requests": t.requests,
                "success_rate": rate(t.successes, t.requests),
                "avg_response_time_ms": avg(t.rt_sum, t.rt_count),
                "p95_response_time_ms": t.p95,
            }
            for t in top
        ],
        "errors": [{"status_code": e.status_code, "count": e.n} for e in errors],
    }


def raw_agents(conn: Connection, now: datetime, hours: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(f"""
        SELECT coalesce(agent_id, 'unknown') AS agent_id, count(*) AS requests,
               count(*) FILTER (WHERE status_code < 400) AS successes,
               sum(response_time_ms) AS rt_sum, count(response_time_ms) AS rt_count,
               percentile_disc(0.95) WITHIN GROUP (ORDER BY response_time_ms) AS p95,
               count(*) FILTER (WHERE status_code BETWEEN 400 AND 499) AS client_errors,
               count(*) FILTER (WHERE status_code >= 500) AS server_errors,
               count(*) FILTER (WHERE order_id IS NOT NULL AND status_code < 400) AS orders,
               coalesce(sum(order_amount) FILTER (WHERE order_id IS NOT NULL AND status_code < 400), 0)
                   AS revenue,
               max("timestamp") AS last_seen
        FROM agent_usage_logs WHERE {_WINDOW}
        GROUP BY 1 ORDER BY requests DESC, agent_id
        """),
        {"now": now, "minutes": hours * 60},
    ).all()
    return [
        {
            "agent_id": r.agent_id,
            "requests": r.requests,
            "success_rate": rate(r.successes, r.requests),
            "avg_response_time_ms": avg(r.rt_sum, r.rt_count),
            "p95_response_time_ms": r.p95,
            "client_errors": r.client_errors,
            "server_errors": r.server_errors,
            "orders": r.orders,
            "revenue": r.revenue,
            "last_seen": r.last_seen,
        }
        for r in rows
    ]


def raw_timeline(
    conn: Connection, now: datetime, hours: int, where: str = "TRUE", **params: Any
) -> list[dict[str, Any]]:
    """One point per UTC hour of the `hours` hours ending with the current one, from raw rows."""
    rows = conn.execute(
        text(f"""
        WITH hours AS (
            SELECT generate_series(
                {_NOW_HOUR} - (:hours - 1) * interval '1 hour', {_NOW_HOUR}, interval '1 hour'
            ) AS bucket_start
        )
        SELECT h.bucket_start, count(l.id) AS requests,
               count(l.id) FILTER (WHERE l.status_code < 400) AS successes,
               count(l.id) FILTER (WHERE l.status_code BETWEEN 400 AND 499) AS client_errors,
               count(l.id) FILTER (WHERE l.status_code >= 500) AS server_errors,
               sum(l.response_time_ms) AS rt_sum, count(l.response_time_ms) AS rt_count,
               percentile_disc(0.95) WITHIN GROUP (ORDER BY l.response_time_ms) AS p95,
               count(l.id) FILTER (WHERE l.order_id IS NOT NULL AND l.status_code < 400) AS orders,
               coalesce(sum(l.order_amount) FILTER (WHERE l.order_id IS NOT NULL AND l.status_code < 400), 0)
                   AS revenue
        FROM hours AS h
        LEFT JOIN agent_usage_logs AS l
            ON date_trunc('hour', l."timestamp", 'UTC') = h.bucket_start AND ({where})
        GROUP BY h.bucket_start ORDER BY h.bucket_start
        """),
        {"now": now, "hours": hours, **params},
    ).all()
    return [
        {
            "bucket_start": r.bucket_start,
            "requests": r.requests,
            "successes": r.successes,
            "client_errors": r.client_errors,
            "server_errors": r.server_errors,
            "avg_response_time_ms": avg(r.rt_sum, r.rt_count),
            "p95_response_time_ms": r.p95,
            "orders": r.orders,
            "revenue": r.revenue,
        }
        for r in rows
    ]
