"""The exactly-once design must not depend on the server's default isolation level.

The staging statement has to see every row committed while the run waited for writers, which needs a
fresh snapshot after the wait (READ COMMITTED). A database whose default is REPEATABLE READ would
otherwise give the whole run the snapshot of its first statement, taken before the wait: the in-flight
row would be skipped while the watermark moved past it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, text

from rollups import RunResult, backfill, purge, run_once, verify
from tests.rollups.helpers import assert_no_drift, insert, rollup_totals, row, watermark_last_id

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.fixture
def rr_engine(engine: Engine, database_url: str) -> Iterator[Engine]:
    """The test database, reached by sessions whose default isolation is REPEATABLE READ, as when
    `default_transaction_isolation = 'repeatable read'` is set on the server or the role."""
    rr = create_engine(
        database_url,
        pool_size=2,
        connect_args={"options": "-c default_transaction_isolation=repeatable\\ read"},
    )
    with rr.connect() as conn:
        assert conn.execute(text("SHOW transaction_isolation")).scalar_one() == "repeatable read"
    yield rr
    rr.dispose()


def _wait_until_blocked(engine: Engine, query_like: str, thread: threading.Thread) -> None:
    """Until the thread's statement matching `query_like` waits for a lock held by the test."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert thread.is_alive(), "the thread finished before the test released its lock"
        with engine.connect() as conn:
            waiting = conn.execute(
                text(
                    "SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND query LIKE :q AND wait_event_type = 'Lock'"
                ),
                {"q": query_like},
            ).first()
        if waiting:
            return
        time.sleep(0.01)
    raise AssertionError(f"no statement like {query_like!r} ever waited for the test's lock")


def test_row_committed_while_the_run_waits_is_counted_once_under_repeatable_read_default(
    engine: Engine, rr_engine: Engine
) -> None:
    with engine.connect() as writer:
        tx = writer.begin()
        # Draws id 1 and stays in flight; a second writer then commits id 2 (out of id order).
        insert(writer, [row(agent_id="in_flight", timestamp=NOW - timedelta(minutes=3))])
        insert(engine, [row(agent_id="committed_first", timestamp=NOW - timedelta(minutes=2))])

        results: list[RunResult] = []
        run = threading.Thread(target=lambda: results.append(run_once(rr_engine, writer_wait_ms=30_000)))
        run.start()
        _wait_until_blocked(engine, "LOCK TABLE agent_usage_logs%", run)
        tx.commit()
        run.join(timeout=30)

    assert [(r.status, r.rows_processed, r.to_id) for r in results] == [("succeeded", 2, 2)]
    assert watermark_last_id(engine) == 2
    assert set(rollup_totals(engine).values()) == {2}
    # Counted once: a second run finds nothing new, and the rollups match the raw rows.
    again = run_once(rr_engine)
    assert (again.status, again.rows_processed) == ("succeeded", 0)
    assert set(rollup_totals(engine).values()) == {2}
    assert_no_drift(engine)


def test_backfill_purge_and_verify_work_under_repeatable_read_default(
    engine: Engine, rr_engine: Engine
) -> None:
    insert(engine, [row(timestamp=NOW - timedelta(hours=h)) for h in range(5)])
    assert run_once(rr_engine).rows_processed == 5
    # A backfill chunk waits behind the watermark lock; under a REPEATABLE READ snapshot taken before the
    # wait, its FOR UPDATE would fail with a serialization error once the run it waited for commits.
    with engine.connect() as holder:
        holder_tx = holder.begin()
        holder.execute(text("SELECT 1 FROM rollup_watermark FOR UPDATE"))
        done: list[int] = []
        worker = threading.Thread(
            target=lambda: done.append(
                backfill(rr_engine, NOW - timedelta(hours=6), NOW + timedelta(hours=1)).rows_processed
            )
        )
        worker.start()
        _wait_until_blocked(engine, "SELECT last_id%FOR UPDATE", worker)
        holder.execute(text("UPDATE rollup_watermark SET updated_at = clock_timestamp()"))
        holder_tx.commit()
        worker.join(timeout=30)
    assert done == [5]
    assert verify(rr_engine, NOW - timedelta(days=1), NOW + timedelta(hours=1)) == []
    purged = purge(rr_engine, retention_days=1)
    assert purged.raw_rows_deleted == 0
    assert set(rollup_totals(engine).values()) == {5}
