"""Real concurrency: aggregators in parallel processes, a backfill beside them, writers committing out of
order all the while, and an aggregator killed with SIGKILL mid-run. Nothing missed, nothing twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from app.config import REPO_ROOT
from rollups import run_once
from tests.rollups.helpers import (
    assert_no_drift,
    insert,
    raw_count,
    rollup_totals,
    rollups_cli,
    row,
    watermark_last_id,
)

NOW = datetime.now(UTC).replace(microsecond=0)


def _random_row(rng: random.Random) -> dict[str, object]:
    late = rng.random() < 0.1
    return row(
        agent_id=rng.choice(["a1", "a2", "a3", None]),
        endpoint=rng.choice(["/agent/v1/orders", "/agent/v1/orders/{order_id}", None]),
        status_code=rng.choice([200, 200, 201, 404, 500, None]),
        response_time_ms=rng.choice([None, rng.randint(0, 5000)]),
        order_id=rng.choice([None, "o1"]),
        order_amount=rng.choice([None, 12.34]),
        timestamp=NOW - timedelta(days=rng.randint(1, 3) if late else 0, seconds=rng.randint(0, 7200)),
    )


def _writer(engine: Engine, stop: threading.Event, seed: int) -> None:
    """Small transactions, some held open a moment, so commits land out of id order."""
    rng = random.Random(seed)
    while not stop.is_set():
        with engine.begin() as conn:
            insert(conn, [_random_row(rng) for _ in range(rng.randint(1, 40))])
            if rng.random() < 0.3:
                time.sleep(rng.uniform(0.01, 0.15))


def _loop(args: list[str], stop: threading.Event, failures: list[str]) -> None:
    while not stop.is_set():
        done = rollups_cli(*args)
        if done.returncode != 0:
            failures.append(f"{args}: exit {done.returncode}: {done.stderr[-2000:]}")


@pytest.mark.parametrize("aggregators", [2, 4])
def test_parallel_aggregators_and_a_backfill_never_double_count(engine: Engine, aggregators: int) -> None:
    stop_writers, stop_runners = threading.Event(), threading.Event()
    failures: list[str] = []
    writers = [threading.Thread(target=_writer, args=(engine, stop_writers, seed)) for seed in range(2)]
    since, until = (NOW - timedelta(days=4)).isoformat(), (NOW + timedelta(hours=1)).isoformat()
    runners = [
        threading.Thread(target=_loop, args=(["run-once"], stop_runners, failures))
        for _ in range(aggregators)
    ]
    runners.append(
        threading.Thread(
            target=_loop, args=(["backfill", "--since", since, "--until", until], stop_runners, failures)
        )
    )
    for thread in writers + runners:
        thread.start()
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and not failures:
        time.sleep(0.1)
    stop_writers.set()
    for thread in writers:
        thread.join()
    stop_runners.set()
    for thread in runners:
        thread.join()
    assert failures == []

    run_once(engine, wait=True)
    total = raw_count(engine)
    assert total > 100
    with engine.connect() as conn:
        max_id = conn.execute(text("SELECT max(id) FROM agent_usage_logs")).scalar_one()
        succeeded = conn.execute(
            text("SELECT count(*) FROM rollup_runs WHERE kind = 'incremental' AND status = 'succeeded'")
        ).scalar_one()
        backfills = conn.execute(
            text("SELECT count(*) FROM rollup_runs WHERE kind = 'backfill'")
        ).scalar_one()
    assert watermark_last_id(engine) == max_id
    assert succeeded >= 2 and backfills >= 1  # runs and backfills really happened alongside the writers
    assert set(rollup_totals(engine).values()) == {total}
    assert_no_drift(engine)


def _spawn_run_once(*extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rollups", "run-once", *extra],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_backend(engine: Engine, query_prefix: str, state_sql: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the aggregator finished before it could be killed"
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                    f" AND pid <> pg_backend_pid() AND query LIKE :q AND {state_sql}"
                ),
                {"q": query_prefix + "%"},
            ).first()
        if found:
            return
        time.sleep(0.01)
    raise AssertionError("the aggregator never reached the expected step")


def test_aggregator_killed_while_waiting_for_writers_then_a_normal_run(engine: Engine) -> None:
    insert(engine, [row(timestamp=NOW)])
    with engine.connect() as writer:
        tx = writer.begin()
        insert(writer, [row(timestamp=NOW - timedelta(days=2))])
        proc = _spawn_run_once("--writer-wait-ms", "60000")
        _wait_for_backend(engine, "LOCK TABLE agent_usage_logs", "wait_event_type = 'Lock'", proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        tx.commit()
    result = run_once(engine, wait=True)
    assert (result.status, result.rows_processed) == ("succeeded", 2)
    assert set(rollup_totals(engine).values()) == {2}
    assert_no_drift(engine)


def test_aggregator_killed_mid_merge_then_a_normal_run(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agent_usage_logs (agent_id, endpoint, method, status_code, response_time_ms,"
                " \"timestamp\") SELECT 'agent_' || (g % 7), '/agent/v1/e' || (g % 5), 'GET',"
                " CASE WHEN g % 13 = 0 THEN 500 ELSE 200 END, g % 3000,"
                " now() - g * interval '1 second' FROM generate_series(1, 300000) AS g"
            )
        )
    proc = _spawn_run_once()
    _wait_for_backend(engine, "INSERT INTO agent_usage_", "state = 'active'", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    result = run_once(engine, wait=True)
    assert (result.status, result.rows_processed) == ("succeeded", 300_000)
    assert set(rollup_totals(engine).values()) == {300_000}
    assert_no_drift(engine)
