"""Reads behind the metrics API. Every figure comes from the rollup tables (see sql/002_rollups.sql);
only the error drill-down reads raw rows, through the partial error indexes of sql/001_usage_logs.sql.

Rates and averages are ratios of sums (never averages of averages); percentiles come from merged latency
histograms with percentile_disc's rank rule; revenue stays NUMERIC until it is serialised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection, text

from app.metrics.schemas import (
    AgentPage,
    AgentsOverview,
    AgentUsage,
    EndpointUsage,
    ErrorRow,
    OrdersOverview,
    Overview,
    Performance,
    StatusCount,
    Summary,
    Timeline,
    TimelinePoint,
)
from app.metrics.windows import HOUR, Window, sliding_window, timeline_buckets
from rollups.watermark import read_watermark_state

Family = Literal["agent", "endpoint", "status"]
_FAMILIES: frozenset[str] = frozenset({"agent", "endpoint", "status"})
# The sums every figure is made of. The latency histogram is left out on purpose: it is the widest column
# by far, and only the percentile queries read it.
_COUNTERS = (
    "request_count, success_count, client_error_count, server_error_count, response_time_count, "
    "response_time_ms_sum, order_count, revenue"
)
TOP_ENDPOINTS = 10


# --- SQL building blocks ---------------------------------------------------------------------------


def window_rows(
    family: Family, window: Window, columns: str, prefix: str = "w", where: str = "TRUE"
) -> tuple[str, dict[str, Any]]:
    """A SELECT of `sign, <columns>` over the rollup rows that make up `window`: every sum of
    `sign * column` over it equals the same sum over the raw rows of the window. `where` is an extra
    condition with bind parameters only; `family` picks the table and is checked against a fixed list."""
    if family not in _FAMILIES:
        raise ValueError(f"unknown rollup family {family!r}")
    parts: list[str] = []
    params: dict[str, Any] = {}
    if window.hours:
        params[f"{prefix}_hs"], params[f"{prefix}_he"] = window.hours
        parts.append(
            f"SELECT 1 AS sign, {columns} FROM agent_usage_hourly_{family} "
            f"WHERE bucket_start >= :{prefix}_hs AND bucket_start < :{prefix}_he AND ({where})"
        )
    for sign, ranges, tag in ((1, window.add_minutes, "a"), (-1, window.subtract_minutes, "s")):
        if not ranges:
            continue
        conditions = []
        for i, (start, end) in enumerate(ranges):
            params[f"{prefix}_{tag}{i}s"], params[f"{prefix}_{tag}{i}e"] = start, end
            conditions.append(f"(bucket_start >= :{prefix}_{tag}{i}s AND bucket_start < :{prefix}_{tag}{i}e)")
        parts.append(
            f"SELECT {sign} AS sign, {columns} FROM agent_usage_minute_{family} "
            f"WHERE ({' OR '.join(conditions)}) AND ({where})"
        )
    return "\nUNION ALL\n".join(parts), params


def quantiles_sql(rows_sql: str, keys: Sequence[str], quantiles: Mapping[str, float], overall: bool) -> str:
    """Percentiles per key of the merged histograms of `rows_sql` (which yields `sign`, the key columns
    and `latency_histogram`): the value of the ceil(q * N)-th smallest observation, as histogram_quantile()
    in sql/002_rollups.sql computes it. Unnesting every histogram into one GROUP BY merges thousands of
    them several times faster than folding histogram_add() row by row. With `overall`, one more row
    (`is_overall` true, keys NULL) merges all keys. Quantiles are bound as :q_<name>."""
    key_list = ", ".join(f"w.{k}" for k in keys)
    select_keys = "".join(f"{k}, " for k in keys)
    overall_part = (
        f"UNION ALL SELECT TRUE, {''.join('NULL, ' for _ in keys)}bucket, sum(n) FROM hist GROUP BY bucket"
        if overall
        else ""
    )
    partition = ", ".join(["is_overall", *keys])
    picks = ", ".join(
        "latency_bucket_value_ms((min(bucket) FILTER "
        f"(WHERE running >= greatest(1, ceil(CAST(:q_{name} AS numeric) * total))))::integer) AS {name}"
        for name in quantiles
    )
    return f"""
    WITH w AS ({rows_sql}),
    hist AS (
        SELECT {key_list + ", " if keys else ""}t.k - 1 AS bucket, sum(w.sign * t.n) AS n
        FROM w CROSS JOIN LATERAL unnest(w.latency_histogram) WITH ORDINALITY AS t(n, k)
        WHERE t.n <> 0
        GROUP BY {key_list + ", " if keys else ""}t.k
    ),
    merged AS (
        SELECT FALSE AS is_overall, {select_keys}bucket, n FROM hist
        {overall_part}
    ),
    cum AS (
        SELECT *, sum(n) OVER (PARTITION BY {partition} ORDER BY bucket) AS running,
               sum(n) OVER (PARTITION BY {partition}) AS total
        FROM merged WHERE n > 0
    )
    SELECT {partition}, {picks} FROM cum GROUP BY {partition}
    """


# Sums arrive as NUMERIC (Decimal); the ratios are taken in float from exact integers, so the rounding to
# two decimals is that of the exact ratio, the same whichever way the integers were summed.
def _rate(part: int | Decimal, whole: int | Decimal) -> float | None:
    return round(100 * int(part) / int(whole), 2) if whole else None


def _avg(total_ms: int | Decimal, count: int | Decimal) -> float | None:
    return round(int(total_ms) / int(count), 2) if count else None


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def read_as_of(conn: Connection) -> datetime | None:
    """Every raw row committed before this time is counted in the figures read through `conn`."""
    return read_watermark_state(conn).as_of


# --- summary ---------------------------------------------------------------------------------------


def summary(conn: Connection, now: datetime) -> Summary:
    hour, day, week = (sliding_window(now, minutes) for minutes in (60, 24 * 60, 7 * 24 * 60))

    h_sql, h_params = window_rows("status", hour, "request_count", "h")
    d_sql, d_params = window_rows("status", day, "request_count", "d")
    k_sql, k_params = window_rows("status", week, "request_count", "k")
    counts = conn.execute(
        text(f"""
        SELECT (SELECT coalesce(sum(request_count), 0) FROM agent_usage_hourly_status) AS total,
               (SELECT coalesce(sum(sign * request_count), 0) FROM ({h_sql}) AS h) AS last_hour,
               (SELECT coalesce(sum(sign * request_count), 0) FROM ({d_sql}) AS d) AS last_day,
               (SELECT coalesce(sum(sign * request_count), 0) FROM ({k_sql}) AS k) AS last_week
        """),
        {**h_params, **d_params, **k_params},
    ).one()

    error_sql, error_params = window_rows(
        "status", day, "status_code, request_count", where="status_code >= 400"
    )
    errors = [
        StatusCount(status_code=row.status_code, count=row.error_count)
        for row in conn.execute(
            text(f"""
            SELECT status_code, sum(sign * request_count) AS error_count FROM ({error_sql}) AS w
            GROUP BY status_code HAVING sum(sign * request_count) > 0
            ORDER BY error_count DESC, status_code
            """),
            error_params,
        )
    ]

    agent_sql, agent_params = window_rows("agent", day, f"agent_id, {_COUNTERS}")
    day_totals = conn.execute(
        text(f"""
        SELECT count(*) FILTER (WHERE requests > 0) AS active, coalesce(sum(requests), 0) AS requests,
               coalesce(sum(successes), 0) AS successes, coalesce(sum(rt_count), 0) AS rt_count,
               coalesce(sum(rt_sum), 0) AS rt_sum, coalesce(sum(orders), 0) AS orders,
               coalesce(sum(revenue), 0) AS revenue
        FROM (SELECT agent_id, sum(sign * request_count) AS requests, sum(sign * success_count) AS successes,
                     sum(sign * response_time_count) AS rt_count, sum(sign * response_time_ms_sum) AS rt_sum,
                     sum(sign * order_count) AS orders, sum(sign * revenue) AS revenue
              FROM ({agent_sql}) AS w GROUP BY agent_id) AS a
        """),
        agent_params,
    ).one()

    endpoint_sql, endpoint_params = window_rows("endpoint", day, f"endpoint, method, {_COUNTERS}")
    top = conn.execute(
        text(f"""
        SELECT endpoint, method, sum(sign * request_count) AS requests,
               sum(sign * success_count) AS successes,
               sum(sign * response_time_count) AS rt_count, sum(sign * response_time_ms_sum) AS rt_sum
        FROM ({endpoint_sql}) AS w GROUP BY endpoint, method HAVING sum(sign * request_count) > 0
        ORDER BY requests DESC, endpoint, method LIMIT {TOP_ENDPOINTS}
        """),
        endpoint_params,
    ).all()

    # One pass over the endpoint histograms (fewer keys than agents) gives the overall percentiles and
    # the top endpoints' p95.
    quantiles = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
    hist_sql, hist_params = window_rows("endpoint", day, "endpoint, method, latency_histogram")
    latency: dict[tuple[str, str] | None, Any] = {}
    for row in conn.execute(
        text(quantiles_sql(hist_sql, ["endpoint", "method"], quantiles, overall=True)),
        {**hist_params, **{f"q_{k}": v for k, v in quantiles.items()}},
    ):
        latency[None if row.is_overall else (row.endpoint, row.method)] = row
    overall = latency.get(None)

    return Summary(
        overview=Overview(
            total_requests=counts.total,
            requests_last_hour=counts.last_hour,
            requests_last_24h=counts.last_day,
            requests_last_7d=counts.last_week,
        ),
        performance=Performance(
            success_rate_24h=_rate(day_totals.successes, day_totals.requests),
            avg_response_time_ms=_avg(day_totals.rt_sum, day_totals.rt_count),
            p50_response_time_ms=_ms(overall.p50) if overall else None,
            p95_response_time_ms=_ms(overall.p95) if overall else None,
            p99_response_time_ms=_ms(overall.p99) if overall else None,
        ),
        agents=AgentsOverview(active_last_24h=day_totals.active),
        orders=OrdersOverview(count_last_24h=day_totals.orders, revenue_last_24h=Decimal(day_totals.revenue)),
        top_endpoints=[
            EndpointUsage(
                endpoint=row.endpoint,
                method=row.method,
                requests=row.requests,
                success_rate=_rate(row.successes, row.requests),
                avg_response_time_ms=_avg(row.rt_sum, row.rt_count),
                p95_response_time_ms=_ms(latency[(row.endpoint, row.method)].p95)
                if (row.endpoint, row.method) in latency
                else None,
            )
            for row in top
        ],
        errors=errors,
        as_of=read_as_of(conn),
        window_start_24h=day.start,
        window_end_24h=day.end,
    )


# --- agents ----------------------------------------------------------------------------------------


def agents(conn: Connection, now: datetime, hours: int, limit: int, offset: int) -> AgentPage:
    window = sliding_window(now, hours * 60)
    rows_sql, params = window_rows("agent", window, f"agent_id, {_COUNTERS}")
    result = conn.execute(
        text(f"""
        WITH a AS (
            SELECT agent_id, sum(sign * request_count) AS requests, sum(sign * success_count) AS successes,
                   sum(sign * client_error_count) AS client_errors,
                   sum(sign * server_error_count) AS server_errors,
                   sum(sign * response_time_count) AS rt_count, sum(sign * response_time_ms_sum) AS rt_sum,
                   sum(sign * order_count) AS orders, sum(sign * revenue) AS revenue
            FROM ({rows_sql}) AS w GROUP BY agent_id HAVING sum(sign * request_count) > 0
        )
        SELECT c.total, p.* FROM (SELECT count(*) AS total FROM a) AS c
        LEFT JOIN LATERAL (SELECT * FROM a ORDER BY requests DESC, agent_id LIMIT :limit OFFSET :offset) AS p
            ON TRUE
        """),
        {**params, "limit": limit, "offset": offset},
    ).all()
    page = [row for row in result if row.agent_id is not None]
    total = result[0].total if result else 0

    p95: dict[str, float | None] = {}
    last_seen: dict[str, datetime] = {}
    if page:
        page_params = {"page_agents": [row.agent_id for row in page]}
        hist_sql, hist_params = window_rows(
            "agent", window, "agent_id, latency_histogram", where="agent_id = ANY(:page_agents)"
        )
        for row in conn.execute(
            text(quantiles_sql(hist_sql, ["agent_id"], {"p95": 0.95}, overall=False)),
            {**hist_params, **page_params, "q_p95": 0.95},
        ):
            p95[row.agent_id] = _ms(row.p95)
        # A maximum cannot be subtracted: last_seen reads the window additively (narrow rows, cheap).
        seen_sql, seen_params = window_rows(
            "agent",
            sliding_window(now, hours * 60, subtract=False),
            "agent_id, last_seen_at",
            where="agent_id = ANY(:page_agents)",
        )
        for row in conn.execute(
            text(f"SELECT agent_id, max(last_seen_at) AS last_seen FROM ({seen_sql}) AS w GROUP BY agent_id"),
            {**seen_params, **page_params},
        ):
            last_seen[row.agent_id] = row.last_seen

    return AgentPage(
        hours=hours,
        window_start=window.start,
        window_end=window.end,
        total=total,
        limit=limit,
        offset=offset,
        items=[
            AgentUsage(
                agent_id=row.agent_id,
                requests=row.requests,
                success_rate=_rate(row.successes, row.requests),
                avg_response_time_ms=_avg(row.rt_sum, row.rt_count),
                p95_response_time_ms=p95.get(row.agent_id),
                client_errors=row.client_errors,
                server_errors=row.server_errors,
                orders=row.orders,
                revenue=Decimal(row.revenue),
                last_seen=last_seen.get(row.agent_id),
            )
            for row in page
        ],
        as_of=read_as_of(conn),
    )


# --- timeline --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineFilter:
    agent_id: str | None = None
    endpoint: str | None = None
    method: str | None = None

    def table_and_where(self) -> tuple[str, str, dict[str, Any]]:
        """The hourly table that can answer the filter, the condition and its parameters."""
        if self.agent_id is not None and (self.endpoint is not None or self.method is not None):
            # The rollups have no (agent, endpoint) key; the route refuses this before we get here.
            raise ValueError("agent_id cannot be combined with endpoint or method")
        if self.agent_id is not None:
            return "agent_usage_hourly_agent", "agent_id = :agent_id", {"agent_id": self.agent_id}
        # Unfiltered, either table holds every row; the endpoint one has fewer keys (histograms) per hour.
        conditions, params = ["TRUE"], {}
        if self.endpoint is not None:
            conditions.append("endpoint = :endpoint")
            params["endpoint"] = self.endpoint
        if self.method is not None:
            conditions.append("method = :method")
            params["method"] = self.method
        return "agent_usage_hourly_endpoint", " AND ".join(conditions), params


def timeline(conn: Connection, now: datetime, hours: int, filters: TimelineFilter) -> Timeline:
    buckets = timeline_buckets(now, hours)
    table, where, params = filters.table_and_where()
    params |= {"first": buckets[0], "stop": buckets[-1] + HOUR}
    rows_sql = (
        f"SELECT 1 AS sign, bucket_start, {_COUNTERS}, latency_histogram FROM {table} "
        f"WHERE bucket_start >= :first AND bucket_start < :stop AND {where}"
    )
    totals = {
        row.bucket_start: row
        for row in conn.execute(
            text(f"""
            SELECT bucket_start, sum(request_count) AS requests, sum(success_count) AS successes,
                   sum(client_error_count) AS client_errors, sum(server_error_count) AS server_errors,
                   sum(response_time_count) AS rt_count, sum(response_time_ms_sum) AS rt_sum,
                   sum(order_count) AS orders, sum(revenue) AS revenue
            FROM ({rows_sql}) AS w GROUP BY bucket_start
            """),
            params,
        )
    }
    p95 = {
        row.bucket_start: _ms(row.p95)
        for row in conn.execute(
            text(quantiles_sql(rows_sql, ["bucket_start"], {"p95": 0.95}, overall=False)),
            {**params, "q_p95": 0.95},
        )
    }

    points = []
    for bucket in buckets:
        row = totals.get(bucket)
        points.append(
            TimelinePoint(
                bucket_start=bucket,
                requests=row.requests if row else 0,
                successes=row.successes if row else 0,
                client_errors=row.client_errors if row else 0,
                server_errors=row.server_errors if row else 0,
                avg_response_time_ms=_avg(row.rt_sum, row.rt_count) if row else None,
                p95_response_time_ms=p95.get(bucket),
                orders=row.orders if row else 0,
                revenue=Decimal(row.revenue) if row else Decimal(0),
            )
        )
    return Timeline(
        hours=hours,
        agent_id=filters.agent_id,
        endpoint=filters.endpoint,
        method=filters.method,
        points=points,
        as_of=read_as_of(conn),
    )


# --- errors (raw rows) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorFilter:
    status_code: int | None = None
    agent_id: str | None = None
    endpoint: str | None = None
    method: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    after: tuple[datetime, int] | None = None  # keyset: rows strictly older than this (timestamp, id)


def errors(
    conn: Connection, filters: ErrorFilter, limit: int
) -> tuple[list[ErrorRow], tuple[datetime, int] | None]:
    """A page of raw error rows, newest first, and the key to continue after (None on the last page).

    The keyset (timestamp, id) is unique and the order is total, so a walk through the pages sees every
    row that existed when it started exactly once, whatever is inserted meanwhile."""
    conditions = ["status_code >= 400"]
    params: dict[str, Any] = {"limit": limit + 1}
    for column in ("status_code", "agent_id", "endpoint", "method"):
        value = getattr(filters, column)
        if value is not None:
            conditions.append(f"{column} = :{column}")
            params[column] = value
    if filters.since is not None:
        conditions.append('"timestamp" >= :since')
        params["since"] = filters.since
    if filters.until is not None:
        conditions.append('"timestamp" < :until')
        params["until"] = filters.until
    if filters.after is not None:
        conditions.append('("timestamp", id) < (:after_ts, :after_id)')
        params["after_ts"], params["after_id"] = filters.after
    rows = conn.execute(
        text(f"""
        SELECT id, "timestamp", agent_id, endpoint, method, merchant_id, status_code, response_time_ms,
               error_message, order_id, request_id
        FROM agent_usage_logs WHERE {" AND ".join(conditions)}
        ORDER BY "timestamp" DESC, id DESC LIMIT :limit
        """),
        params,
    ).all()
    items = [ErrorRow.model_validate(row._asdict()) for row in rows[:limit]]
    following = (items[-1].timestamp, items[-1].id) if len(rows) > limit else None
    return items, following
