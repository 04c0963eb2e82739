"""Raw usage rows for the page tests: a week of traffic, chosen so every figure is known and no row sits
near a window edge (a minute ticking by during a test must not move any number)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, text

XSS_AGENT = "<img src=x onerror=alert(1)>"
XSS_ERROR = '<script>alert("boom")</script> & <b>not bold</b>'
AGENTS = ("agent_alpha", "agent_beta", XSS_AGENT)
ENDPOINTS = (
    ("/agent/v1/products/search", "GET"),
    ("/agent/v1/orders/{order_id}", "GET"),
    ("/agent/v1/merchants", "GET"),
)
SERVER_ERRORS_24H = 60  # more than one drill-down page (50 rows)
NOT_FOUND_24H = 7


@dataclass(frozen=True)
class Seeded:
    now: datetime
    rows: int


def _row(at: datetime, agent: str, endpoint: str, method: str, status: int, ms: int, **extra: object) -> dict:
    row: dict[str, object] = {
        "agent_id": agent,
        "endpoint": endpoint,
        "method": method,
        "merchant_id": "merchant_1",
        "status_code": status,
        "response_time_ms": ms,
        "error_message": None,
        "order_id": None,
        "order_amount": None,
        "timestamp": at,
        "request_id": None,
    }
    row.update(extra)
    return row


def build_rows(now: datetime) -> list[dict]:
    rows: list[dict] = []
    # Successful traffic every hour of the week, half past (so 30 minutes from every window edge).
    for hour in range(0, 166):
        at = now - timedelta(hours=hour, minutes=30)
        for i in range(3 + hour % 5):
            endpoint, method = ENDPOINTS[(hour + i) % len(ENDPOINTS)]
            agent = AGENTS[(hour + i) % len(AGENTS)]
            rows.append(_row(at, agent, endpoint, method, 200, 40 + (hour * 37 + i * 53) % 260))
    # Orders: one an hour over the last two days.
    for hour in range(0, 48):
        at = now - timedelta(hours=hour, minutes=25)
        amount = Decimal("19.99") + Decimal(hour)
        rows.append(
            _row(
                at,
                "agent_alpha",
                "/agent/v1/orders/create",
                "POST",
                201,
                180,
                order_id=f"ord_{hour}",
                order_amount=amount,
                merchant_id="merchant_2",
            )
        )
    # Errors in the last 24 h: 500s every 20 minutes, some 404s (one from the hostile agent id).
    for i in range(SERVER_ERRORS_24H):
        at = now - timedelta(minutes=10 + 20 * i)
        rows.append(
            _row(
                at,
                AGENTS[i % 2],
                "/agent/v1/orders/create",
                "POST",
                500,
                900 + i,
                error_message=f"upstream timeout #{i}",
                request_id=f"req-500-{i}",
            )
        )
    for i in range(NOT_FOUND_24H):
        at = now - timedelta(hours=1 + 3 * i, minutes=15)
        agent = XSS_AGENT if i == 0 else "agent_beta"
        message = XSS_ERROR if i == 0 else "no such order"
        rows.append(_row(at, agent, "/agent/v1/orders/{order_id}", "GET", 404, 30, error_message=message))
    # Older errors (outside 24 h) and all-time-only history.
    for i in range(3):
        rows.append(
            _row(now - timedelta(days=3, minutes=i), "agent_beta", "/agent/v1/merchants", "GET", 422, 20)
        )
    for i in range(5):
        rows.append(
            _row(now - timedelta(days=9, minutes=i), "agent_old", "/agent/v1/merchants", "GET", 200, 20)
        )
    return rows


def insert_rows(engine: Engine, rows: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agent_usage_logs (agent_id, endpoint, method, merchant_id, status_code, "
                "response_time_ms, error_message, order_id, order_amount, timestamp, request_id) VALUES "
                "(:agent_id, :endpoint, :method, :merchant_id, :status_code, :response_time_ms, "
                ":error_message, :order_id, :order_amount, :timestamp, :request_id)"
            ),
            rows,
        )


def seed_week(engine: Engine) -> Seeded:
    """Write the week of raw rows and roll them up, as the scheduler would."""
    import rollups

    now = datetime.now(UTC)
    rows = build_rows(now)
    insert_rows(engine, rows)
    rollups.run_once(engine)
    return Seeded(now=now, rows=len(rows))


def seed_demo_week(engine: Engine) -> Seeded:
    """The demo generator's realistic week (many agents and endpoints) plus one hostile agent, rolled up."""
    import rollups
    from app.demo.data import write_demo_data

    now = datetime.now(UTC)
    written = write_demo_data(engine, days=7, rows_per_day=4000, seed=42, until=now).rows
    hostile = [
        _row(
            now - timedelta(minutes=5 + i),
            XSS_AGENT,
            "/agent/v1/orders/{order_id}",
            "GET",
            404,
            30,
            error_message=XSS_ERROR,
        )
        for i in range(3)
    ]
    insert_rows(engine, hostile)
    rollups.run_once(engine)
    return Seeded(now=now, rows=written + len(hostile))
