"""Raw-row builders and the checks every rollup test ends with."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

from app.config import REPO_ROOT
from rollups import verify

EVERYTHING = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
COLUMNS = (
    "agent_id",
    "endpoint",
    "method",
    "merchant_id",
    "status_code",
    "response_time_ms",
    "order_id",
    "order_amount",
    "timestamp",
)
_INSERT = text(
    "INSERT INTO agent_usage_logs (agent_id, endpoint, method, merchant_id, status_code, response_time_ms,"
    ' order_id, order_amount, "timestamp") VALUES (:agent_id, :endpoint, :method, :merchant_id, :status_code,'
    " :response_time_ms, :order_id, :order_amount, :timestamp)"
)


def row(**values: Any) -> dict[str, Any]:
    """A raw usage row; unspecified columns get ordinary values, explicit None stays NULL."""
    base: dict[str, Any] = {
        "agent_id": "agent_a",
        "endpoint": "/agent/v1/orders",
        "method": "POST",
        "merchant_id": "m1",
        "status_code": 200,
        "response_time_ms": 120,
        "order_id": None,
        "order_amount": None,
        "timestamp": datetime.now(UTC) - timedelta(minutes=5),
    }
    base.update(values)
    return base


def insert(target: Engine | Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    batch = [dict(r) for r in rows]
    if not batch:
        return
    if isinstance(target, Engine):
        with target.begin() as conn:
            conn.execute(_INSERT, batch)
    else:
        target.execute(_INSERT, batch)


def assert_no_drift(engine: Engine, since: datetime = EVERYTHING[0], until: datetime = EVERYTHING[1]) -> None:
    drifts = verify(engine, since, until)
    assert drifts == [], "\n".join(str(d) for d in drifts[:20])


def raw_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM agent_usage_logs")).scalar_one())


def rollup_totals(engine: Engine) -> dict[str, int]:
    """Request totals of all six tables: each must equal the number of rolled-up raw rows."""
    with engine.connect() as conn:
        return {
            table: int(
                conn.execute(text(f"SELECT coalesce(sum(request_count), 0) FROM {table}")).scalar_one()
            )
            for table in (
                "agent_usage_hourly_agent",
                "agent_usage_hourly_endpoint",
                "agent_usage_hourly_status",
                "agent_usage_minute_agent",
                "agent_usage_minute_endpoint",
                "agent_usage_minute_status",
            )
        }


def watermark_last_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT last_id FROM rollup_watermark")).scalar_one())


def fetch_one(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).one()


def rollups_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m rollups ...` in a child process, against the test database (conftest exports it)."""
    return subprocess.run(
        [sys.executable, "-m", "rollups", *args],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def money(value: str) -> Decimal:
    return Decimal(value)
