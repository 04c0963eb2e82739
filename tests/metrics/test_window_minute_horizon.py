"""Windows longer than the minute-rollup horizon, after purge has deleted the old minute rows.

The documented rule (app/metrics/windows.py): when a window's oldest, partial hour is older than
minute_horizon(now) = floor_hour(now - 8 days), the window starts at that hour's start instead, and the
response's `window_start` says so. Every row of that whole hour is counted, every row before it is not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from app.metrics.windows import floor_hour
from rollups import purge
from rollups.horizons import minute_horizon
from tests.metrics.compare import assert_same
from tests.metrics.conftest import BASE_NOW, GetJson
from tests.metrics.traffic import insert_rows, raw_agents, roll_up, row

AGENTS = "/agent/metrics/agents"
OLDEST_HOUR = floor_hour(BASE_NOW) - timedelta(hours=720)


@pytest.mark.parametrize(
    "now",
    [
        BASE_NOW,  # the asked start is 35 min into the oldest hour: read additively before the rule
        floor_hour(BASE_NOW) + timedelta(minutes=10, seconds=3),  # 11 min in: read by subtraction
    ],
    ids=["late-in-the-hour", "early-in-the-hour"],
)
def test_720_hour_window_counts_the_whole_oldest_hour_after_a_minute_purge(
    engine: Engine, get_json: GetJson, now: datetime
) -> None:
    insert_rows(
        engine,
        [
            row(OLDEST_HOUR - timedelta(microseconds=1), agent_id="before_the_oldest_hour"),
            row(OLDEST_HOUR, agent_id="oldest_hour_first_instant"),
            row(OLDEST_HOUR + timedelta(minutes=5), agent_id="oldest_hour_before_asked_start"),
            row(OLDEST_HOUR + timedelta(minutes=40), agent_id="oldest_hour_after_asked_start"),
            row(OLDEST_HOUR + timedelta(minutes=59, seconds=59), agent_id="oldest_hour_last_second"),
            row(OLDEST_HOUR + timedelta(hours=1, minutes=1), agent_id="next_hour"),
            row(now - timedelta(minutes=2), agent_id="recent"),
        ],
    )
    roll_up(engine)
    # Raw rows are kept (so the truth can be computed from them); minute rollups older than 8 days go.
    purged = purge(engine, now=now, retention_days=400)
    assert purged.minute_rows_deleted > 0
    with engine.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM agent_usage_minute_agent WHERE bucket_start < :h"),
            {"h": minute_horizon(now)},
        ).scalar_one()
    assert left == 0

    body = get_json(AGENTS, now=now, hours=720, limit=500)

    counted = {item["agent_id"]: item["requests"] for item in body["items"]}
    assert counted == {
        "oldest_hour_first_instant": 1,
        "oldest_hour_before_asked_start": 1,
        "oldest_hour_after_asked_start": 1,
        "oldest_hour_last_second": 1,
        "next_hour": 1,
        "recent": 1,
    }
    assert datetime.fromisoformat(body["window_start"]) == OLDEST_HOUR  # widened from the asked start
    with engine.connect() as conn:
        assert_same(body["items"], raw_agents(conn, now, 720))


def test_window_within_the_horizon_stays_exact_to_the_minute(engine: Engine, get_json: GetJson) -> None:
    asked_start = BASE_NOW.replace(second=0, microsecond=0) + timedelta(minutes=1) - timedelta(hours=192)
    insert_rows(
        engine,
        [
            row(asked_start - timedelta(microseconds=1), agent_id="just_outside"),
            row(asked_start, agent_id="first_minute"),
        ],
    )
    roll_up(engine)
    purge(engine, now=BASE_NOW, retention_days=400)
    body = get_json(AGENTS, now=BASE_NOW, hours=192, limit=500)
    assert datetime.fromisoformat(body["window_start"]) == asked_start
    assert {item["agent_id"]: item["requests"] for item in body["items"]} == {"first_minute": 1}
