"""Response models of the metrics API: `/openapi.json` documents every field from these."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer

CENT = Decimal("0.01")


def money_to_json(amount: Decimal) -> float:
    """Revenue is summed exactly as NUMERIC; only the final, cent-rounded value becomes a JSON number.
    A float holds any amount below 2^53 cents (90 trillion) with its shortest repr equal to the cents."""
    return float(amount.quantize(CENT, rounding=ROUND_HALF_UP))


Money = Annotated[
    Decimal,
    PlainSerializer(money_to_json, return_type=float, when_used="json"),
    Field(description="An exact sum of `order_amount` (NUMERIC), rounded to the cent, as a JSON number."),
]
Percent = Annotated[float | None, Field(description="0-100, two decimals; null when there were no requests.")]
Millis = Annotated[float | None, Field(description="Milliseconds, two decimals; null without latency data.")]


# --- summary -------------------------------------------------------------------------------------------


class Overview(BaseModel):
    total_requests: int = Field(description="All-time request count (from the hourly rollups).")
    requests_last_hour: int = Field(description="Requests in the last 60 minutes, exact to the minute.")
    requests_last_24h: int
    requests_last_7d: int


class Performance(BaseModel):
    success_rate_24h: Percent = Field(description="100 x requests with status < 400 / all requests, 24 h.")
    avg_response_time_ms: Millis = Field(description="Sum of response times / their count, 24 h.")
    p50_response_time_ms: Millis = Field(description="Median response time, 24 h, from the histograms.")
    p95_response_time_ms: Millis
    p99_response_time_ms: Millis


class AgentsOverview(BaseModel):
    active_last_24h: int = Field(description="Distinct agent ids with a request in the last 24 h.")


class OrdersOverview(BaseModel):
    count_last_24h: int = Field(description="Requests with an order_id and status < 400, 24 h.")
    revenue_last_24h: Money


class EndpointUsage(BaseModel):
    endpoint: str = Field(description="Route template, e.g. /agent/v1/orders/{order_id}.")
    method: str
    requests: int
    success_rate: Percent
    avg_response_time_ms: Millis
    p95_response_time_ms: Millis


class StatusCount(BaseModel):
    status_code: int
    count: int


class Summary(BaseModel):
    overview: Overview
    performance: Performance
    agents: AgentsOverview
    orders: OrdersOverview
    top_endpoints: list[EndpointUsage] = Field(description="The 10 busiest endpoints of the last 24 h.")
    errors: list[StatusCount] = Field(description="Responses with status >= 400 in the last 24 h, by code.")
    as_of: datetime | None = Field(description="Every raw row committed before this time is rolled up.")
    window_start_24h: datetime = Field(
        description="Inclusive start of the 24 h window (UTC minute): the drill-down's `since` for its rows."
    )
    window_end_24h: datetime = Field(description="Exclusive end of the 24 h window (UTC minute).")


# --- agents --------------------------------------------------------------------------------------------


class AgentUsage(BaseModel):
    agent_id: str = Field(description="Rows without an agent id count under 'unknown'.")
    requests: int
    success_rate: Percent
    avg_response_time_ms: Millis
    p95_response_time_ms: Millis
    client_errors: int = Field(description="Responses with status 400-499.")
    server_errors: int = Field(description="Responses with status >= 500.")
    orders: int
    revenue: Money
    last_seen: datetime | None = Field(description="Timestamp of the agent's newest request in the window.")


class AgentPage(BaseModel):
    hours: int
    window_start: datetime = Field(
        description="Inclusive start of the window actually counted (UTC minute). Beyond the 8-day minute "
        "rollup horizon (hours > 192) it is widened to the start of its UTC hour."
    )
    window_end: datetime = Field(description="Exclusive end of the sliding window (UTC minute).")
    total: int = Field(description="Agents active in the window (all pages).")
    limit: int
    offset: int
    items: list[AgentUsage] = Field(description="Sorted by requests, descending, then agent_id.")
    as_of: datetime | None


# --- timeline ------------------------------------------------------------------------------------------


class TimelinePoint(BaseModel):
    bucket_start: datetime = Field(description="UTC hour start; the last point is the current, partial hour.")
    requests: int
    successes: int
    client_errors: int
    server_errors: int
    avg_response_time_ms: Millis
    p95_response_time_ms: Millis
    orders: int
    revenue: Money


class Timeline(BaseModel):
    hours: int
    agent_id: str | None
    endpoint: str | None
    method: str | None
    points: list[TimelinePoint] = Field(description="One point per UTC hour, zero-filled, oldest first.")
    as_of: datetime | None


# --- errors --------------------------------------------------------------------------------------------


class ErrorRow(BaseModel):
    id: int
    timestamp: datetime
    agent_id: str | None
    endpoint: str | None
    method: str | None
    merchant_id: str | None
    status_code: int
    response_time_ms: int | None
    error_message: str | None = Field(description="As stored (scrubbed by the writer).")
    order_id: str | None
    request_id: str | None


class ErrorPage(BaseModel):
    items: list[ErrorRow] = Field(description="Newest first (timestamp, then id, descending).")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


# --- health --------------------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok", "degraded", "down"] = Field(
        description="down: database unreachable (HTTP 503); degraded: the aggregator is behind."
    )
    database: Literal["ok", "unreachable"]
    last_run_at: datetime | None = Field(description="End of the aggregator's last successful run.")
    as_of: datetime | None
    lag_seconds: float | None = Field(description="Seconds between now and `as_of`.")
    version: str
