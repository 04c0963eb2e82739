"""The APScheduler job: first run immediately, then on the interval; the app starts and stops it."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.config import Settings
from app.main import create_app
from rollups.scheduler import RUN_JOB_ID, start_scheduler
from tests.rollups.helpers import assert_no_drift, insert, row


def _succeeded_runs(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM rollup_runs WHERE kind = 'incremental' AND status = 'succeeded'")
            ).scalar_one()
        )


def _wait_for(condition: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_scheduler_runs_at_once_then_every_interval(engine: Engine, settings: Settings) -> None:
    insert(engine, [row()])
    scheduler = start_scheduler(settings.model_copy(update={"rollup_interval_seconds": 1}), engine)
    try:
        job = scheduler.get_job(RUN_JOB_ID)
        assert job.max_instances == 1 and job.coalesce is True
        _wait_for(lambda: _succeeded_runs(engine) >= 1)
        insert(engine, [row()])
        _wait_for(lambda: _succeeded_runs(engine) >= 3)
    finally:
        scheduler.shutdown()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sum(request_count) FROM agent_usage_hourly_agent")).scalar_one() == 2
    assert_no_drift(engine)


def test_app_lifespan_starts_and_stops_the_scheduler_when_enabled(engine: Engine, settings: Settings) -> None:
    insert(engine, [row()])
    enabled = settings.model_copy(update={"scheduler_enabled": True})
    with TestClient(create_app(enabled, engine)):
        _wait_for(lambda: _succeeded_runs(engine) >= 1)
    stopped_at = _succeeded_runs(engine)
    with TestClient(create_app(settings, engine)):  # scheduler_enabled=False in the test settings
        time.sleep(0.3)
    assert _succeeded_runs(engine) == stopped_at
    assert_no_drift(engine)
