"""Backfill (idempotent, refuses purged ranges), verify (finds every kind of drift), purge (bounded,
never ahead of the aggregator, rollups unchanged)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from rollups import BackfillRefused, backfill, purge, run_once, verify
from rollups.timeutil import parse_time
from tests.rollups.helpers import EVERYTHING, assert_no_drift, insert, raw_count, rollups_cli, row

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def _snapshot(engine: Engine, table: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2, 3"))]


def _some_traffic(engine: Engine, days: int = 3) -> None:
    insert(
        engine,
        [
            row(
                timestamp=NOW - timedelta(hours=h, minutes=m),
                agent_id=f"a{h % 3}",
                response_time_ms=10 + h * m,
                status_code=(500 if m == 7 else 200),
            )
            for h in range(0, days * 24, 5)
            for m in (1, 7, 30)
        ],
    )


def test_backfill_is_idempotent_and_repairs_rollups(engine: Engine) -> None:
    _some_traffic(engine)
    run_once(engine)
    before = _snapshot(engine, "agent_usage_hourly_agent")
    with engine.begin() as conn:
        conn.execute(text("UPDATE agent_usage_hourly_agent SET request_count = request_count + 5"))
        conn.execute(
            text("DELETE FROM agent_usage_minute_endpoint WHERE bucket_start < now() - interval '1 day'")
        )
    assert verify(engine, *EVERYTHING) != []
    progress = []
    result = backfill(engine, NOW - timedelta(days=4), NOW + timedelta(hours=1), progress=progress.append)
    assert result.rows_processed == raw_count(engine)
    assert [p.chunk_index for p in progress] == list(range(1, result.chunks + 1))
    assert _snapshot(engine, "agent_usage_hourly_agent") == before
    backfill(engine, NOW - timedelta(days=4), NOW + timedelta(hours=1))
    assert _snapshot(engine, "agent_usage_hourly_agent") == before
    assert_no_drift(engine)


def test_backfill_leaves_rows_above_the_watermark_to_the_next_run(engine: Engine) -> None:
    insert(engine, [row(timestamp=NOW)])
    run_once(engine)
    insert(engine, [row(timestamp=NOW)])  # not rolled up yet
    backfill(engine, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert run_once(engine).rows_processed == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT request_count FROM agent_usage_hourly_agent")).scalar_one() == 2
    assert_no_drift(engine)


def test_verify_reports_each_difference(engine: Engine) -> None:
    _some_traffic(engine, days=1)
    run_once(engine)
    assert_no_drift(engine)
    with engine.begin() as conn:
        target = conn.execute(
            text("SELECT bucket_start, agent_id FROM agent_usage_hourly_agent LIMIT 1")
        ).one()
        conn.execute(
            text(
                "UPDATE agent_usage_hourly_agent SET revenue = revenue + 0.01,"
                " latency_histogram = histogram_add(latency_histogram, '{1}')"
                " WHERE bucket_start = :b AND agent_id = :a"
            ),
            {"b": target.bucket_start, "a": target.agent_id},
        )
        conn.execute(text("DELETE FROM agent_usage_minute_status WHERE status_code = 500"))
        conn.execute(
            text(
                "INSERT INTO agent_usage_hourly_endpoint (bucket_start, endpoint, method, request_count)"
                " VALUES (:b, '/ghost', 'GET', 1)"
            ),
            {"b": target.bucket_start},
        )
    drifts = verify(engine, *EVERYTHING)
    found = {(d.table, d.column) for d in drifts}
    assert ("agent_usage_hourly_agent", "revenue") in found
    assert ("agent_usage_hourly_agent", "latency_histogram") in found
    assert ("agent_usage_hourly_agent", "request_count") not in found
    assert ("agent_usage_minute_status", "(row)") in found
    ghost = [d for d in drifts if d.key == "GET /ghost"]
    assert [(g.column, g.rollup_value, g.raw_value) for g in ghost] == [("(row)", "present", "no raw rows")]


def test_verify_command_exits_1_on_a_corrupted_rollup_row(engine: Engine) -> None:
    _some_traffic(engine, days=1)
    run_once(engine)
    since, until = (NOW - timedelta(days=2)).isoformat(), (NOW + timedelta(hours=1)).isoformat()
    clean = rollups_cli("verify", "--since", since, "--until", until)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no drift" in clean.stdout
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE agent_usage_hourly_status SET request_count = request_count + 1"
                " WHERE status_code = 500"
            )
        )
    drifted = rollups_cli("verify", "--since", since, "--until", until)
    assert drifted.returncode == 1
    assert "agent_usage_hourly_status" in drifted.stdout and "request_count" in drifted.stdout
    assert "DRIFT" in drifted.stdout


def test_purge_deletes_only_processed_old_rows_and_keeps_rollups(engine: Engine) -> None:
    old = NOW - timedelta(days=40)
    insert(engine, [row(timestamp=old + timedelta(minutes=i)) for i in range(25)])
    insert(engine, [row(timestamp=NOW - timedelta(minutes=i)) for i in range(5)])
    run_once(engine)
    insert(engine, [row(timestamp=old)])  # old but not rolled up yet: must survive
    hourly_before = _snapshot(engine, "agent_usage_hourly_agent")
    result = purge(engine, retention_days=30, batch_size=10)
    assert result.raw_rows_deleted == 25
    assert result.purged_before == (NOW - timedelta(days=30)).replace(minute=0)
    assert raw_count(engine) == 6
    assert _snapshot(engine, "agent_usage_hourly_agent") == hourly_before
    with engine.connect() as conn:
        minutes_left = conn.execute(
            text("SELECT min(bucket_start) FROM agent_usage_minute_agent")
        ).scalar_one()
        kinds = conn.execute(text("SELECT kind FROM rollup_runs ORDER BY id")).scalars().all()
    assert minutes_left > NOW - timedelta(days=8)
    assert kinds[-1] == "purge"
    # The late row is rolled up by the next run, then the next purge removes it.
    assert run_once(engine).rows_processed == 1
    assert purge(engine, retention_days=30).raw_rows_deleted == 1
    assert_no_drift(engine)  # verify starts at purged_before


def test_backfill_refuses_a_range_whose_raw_rows_are_purged(engine: Engine) -> None:
    insert(engine, [row(timestamp=NOW - timedelta(days=40))])
    run_once(engine)
    purge(engine, retention_days=30)
    hourly_before = _snapshot(engine, "agent_usage_hourly_agent")
    with pytest.raises(BackfillRefused):
        backfill(engine, NOW - timedelta(days=41), NOW)
    assert _snapshot(engine, "agent_usage_hourly_agent") == hourly_before
    refused = rollups_cli(
        "backfill", "--since", (NOW - timedelta(days=41)).isoformat(), "--until", NOW.isoformat()
    )
    assert refused.returncode == 2 and "purged" in refused.stderr
    backfill(engine, NOW - timedelta(days=2), NOW)  # after purged_before: fine


def test_command_line_times() -> None:
    assert parse_time("2026-12-01") == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_time("2026-12-01T05:30:00Z") == datetime(2026, 12, 1, 5, 30, tzinfo=UTC)
    assert parse_time("2026-12-01T05:30:00+02:00") == datetime(2026, 12, 1, 3, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("yesterday")
    bad = rollups_cli("verify", "--since", "yesterday", "--until", "2026-12-01")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


def test_backfill_of_old_hours_writes_hourly_rows_only(engine: Engine) -> None:
    old = NOW - timedelta(days=20)
    insert(engine, [row(timestamp=old + timedelta(minutes=i)) for i in range(10)])
    run_once(engine)
    before = _snapshot(engine, "agent_usage_hourly_endpoint")
    backfill(engine, old - timedelta(days=1), old + timedelta(days=1))
    assert _snapshot(engine, "agent_usage_hourly_endpoint") == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM agent_usage_minute_agent")).scalar_one() == 0
    assert_no_drift(engine)
