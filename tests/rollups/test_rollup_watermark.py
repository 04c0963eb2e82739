"""The watermark row: one reader for its state, a clear stop when it is missing, and the command line's
JSON logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from rollups import backfill, purge, run_once
from rollups.watermark import WATERMARK_NAME, WatermarkMissing, read_watermark_state
from tests.rollups.helpers import insert, rollups_cli, row

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def test_state_reader_reports_watermark_runs_and_purge(engine: Engine) -> None:
    with engine.connect() as conn:
        empty = read_watermark_state(conn)
    assert (empty.last_id, empty.as_of, empty.purged_before, empty.last_run_id, empty.last_run_at) == (
        0,
        None,
        None,
        None,
        None,
    )
    insert(engine, [row(timestamp=NOW - timedelta(days=40)), row(timestamp=NOW - timedelta(minutes=1))])
    result = run_once(engine)
    purged = purge(engine, retention_days=30)
    with engine.connect() as conn:
        state = read_watermark_state(conn)
        runs = conn.execute(text("SELECT id, kind, finished_at FROM rollup_runs ORDER BY id")).all()
    assert state.last_id == 2 and state.as_of == result.as_of
    assert state.purged_before == purged.purged_before
    assert state.last_run_id == runs[-1].id and runs[-1].kind == "purge"  # any kind of run changes it
    incremental = [r for r in runs if r.kind == "incremental"]
    assert state.last_run_at == incremental[-1].finished_at  # the last successful incremental run


def test_a_missing_watermark_row_stops_everything_and_is_not_recreated(
    engine: Engine, client: TestClient
) -> None:
    insert(engine, [row(timestamp=NOW - timedelta(minutes=1))])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rollup_watermark WHERE name = :n"), {"n": WATERMARK_NAME})
    for attempt in (
        lambda: run_once(engine),
        lambda: run_once(engine, wait=True),
        lambda: backfill(engine, NOW - timedelta(hours=2), NOW),
        lambda: purge(engine, retention_days=30),
    ):
        with pytest.raises(WatermarkMissing, match=r"sql/002_rollups\.sql"):
            attempt()
    with engine.connect() as conn:
        with pytest.raises(WatermarkMissing):
            read_watermark_state(conn)
        assert conn.execute(text("SELECT count(*) FROM rollup_watermark")).scalar_one() == 0
        # Nothing was rolled up on a guessed watermark.
        assert conn.execute(text("SELECT count(*) FROM agent_usage_hourly_agent")).scalar_one() == 0
    # The public health check says "degraded" instead of failing.
    health = client.get("/agent/metrics/health")
    assert health.status_code == 200 and health.json()["status"] == "degraded"


def _json_lines(stream: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.splitlines() if line.startswith("{")]


def test_one_shot_commands_log_json_warnings_only_on_stderr(engine: Engine) -> None:
    insert(engine, [row(timestamp=NOW - timedelta(days=3)), row(timestamp=NOW - timedelta(minutes=1))])
    ran = rollups_cli("run-once")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("succeeded: 2 rows")
    assert _json_lines(ran.stderr) == []  # the run's INFO line is below the one-shot level

    purge(engine, retention_days=1)
    since, until = (NOW - timedelta(days=5)).isoformat(), (NOW + timedelta(hours=1)).isoformat()
    checked = rollups_cli("verify", "--since", since, "--until", until)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no drift" in checked.stdout and "{" not in checked.stdout
    logged = _json_lines(checked.stderr)
    assert [(e["level"], e["logger"], e["message"]) for e in logged] == [
        ("WARNING", "rollups.verify", "verify starts at purged_before")
    ]
