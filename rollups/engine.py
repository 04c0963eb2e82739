"""The incremental run: roll the raw rows committed since the last run into the rollup tables, exactly once.

One READ COMMITTED transaction does everything (see sql/rollup/README.md):
  lock the watermark row -> read the id sequence's upper bound -> wait for writers that may still hold
  lower ids -> stage the rows in (last_id, upper] -> merge them into the six rollup tables -> advance the
  watermark -> record the run. If anything fails or the process dies, the transaction rolls back and the
  next run takes the same rows again, so nothing is lost and nothing is counted twice.

READ COMMITTED is pinned, not inherited from the database: the staging statement must take a fresh
snapshot after the writer wait (rollups/watermark.py: rollup_transaction).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg import errors as pg_errors
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from rollups.sqlfiles import statements
from rollups.watermark import WATERMARK_NAME, lock_watermark, record_run, rollup_transaction

log = logging.getLogger(__name__)

# How long a run may hold up new inserts while it waits for in-flight writers. Short, because writers
# queue behind the lock request; a run that cannot get the lock in time skips and the next one retries.
DEFAULT_WRITER_WAIT_MS = 500
# The staging GROUP BYs hash every group in memory; the default 4 MB would spill a large batch to disk.
STAGE_WORK_MEM = "128MB"

_READ_UPPER = text(
    # clock_timestamp() is read before the sequence: any row committed before that instant drew its id
    # before it too, so once the rows up to `upper` are rolled up, "data as of" this time is true.
    "SELECT clock_timestamp() AS as_of,"
    " pg_sequence_last_value(pg_get_serial_sequence('agent_usage_logs', 'id')::regclass) AS upper"
)
_ADVANCE = text(
    "UPDATE rollup_watermark SET last_id = :to_id, as_of = :as_of, updated_at = clock_timestamp()"
    " WHERE name = :name"
)
_STAGED_ROWS = text("SELECT coalesce(sum(request_count), 0) FROM rollup_stage_counts")


@dataclass(frozen=True)
class RunResult:
    status: str  # "succeeded" or "skipped"
    rows_processed: int
    from_id: int | None
    to_id: int | None
    duration_ms: float
    as_of: datetime | None = None
    reason: str | None = None


def run_once(
    engine: Engine, *, wait: bool = False, writer_wait_ms: int = DEFAULT_WRITER_WAIT_MS
) -> RunResult:
    """Roll up every raw row committed since the last run. Safe to call from any number of processes.

    With wait=False a run that finds another one in progress returns at once with status "skipped";
    with wait=True it waits for it and then does whatever work is left.
    """
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    try:
        with rollup_transaction(engine) as conn:
            result = _run(conn, wait=wait, writer_wait_ms=writer_wait_ms, started_at=started_at, t0=t0)
    except Exception as exc:
        # log.exception reaches Sentry through its logging integration.
        log.exception("rollup run failed")
        _record_failure(engine, started_at, t0, exc)
        raise
    if result.status == "succeeded" and result.rows_processed:
        log.info(
            "rollup run",
            extra={
                "rows_processed": result.rows_processed,
                "to_id": result.to_id,
                "duration_ms": result.duration_ms,
            },
        )
    elif result.status == "skipped":
        log.info("rollup run skipped", extra={"reason": result.reason})
    return result


def _elapsed_ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)


def _run(conn: Connection, *, wait: bool, writer_wait_ms: int, started_at: datetime, t0: float) -> RunResult:
    watermark = lock_watermark(conn, "wait" if wait else "skip")
    if watermark is None:
        return RunResult("skipped", 0, None, None, _elapsed_ms(t0), reason="another run is in progress")
    from_id = watermark.last_id
    bounds = conn.execute(_READ_UPPER).one()
    upper = from_id if bounds.upper is None else max(int(bounds.upper), from_id)

    rows, to_id = 0, from_id
    reason: str | None = None
    if upper > from_id and not _wait_for_writers(conn, writer_wait_ms):
        reason = f"in-flight writers held agent_usage_logs longer than {writer_wait_ms} ms"
    else:
        if upper > from_id:
            rows = stage_and_merge(conn, "stage_new_rows", {"from_id": from_id, "to_id": upper})
        # An empty run still advances as_of: every row committed before it is rolled up.
        conn.execute(_ADVANCE, {"to_id": upper, "as_of": bounds.as_of, "name": WATERMARK_NAME})
        to_id = upper
    status = "skipped" if reason else "succeeded"
    duration = _elapsed_ms(t0)
    record_run(
        conn,
        kind="incremental",
        started_at=started_at,
        duration_ms=duration,
        rows_processed=rows,
        status=status,
        from_id=from_id,
        to_id=to_id,
        error=reason,
    )
    as_of = None if reason else bounds.as_of
    return RunResult(status, rows, from_id, to_id, duration, as_of=as_of, reason=reason)


def stage_and_merge(
    conn: Connection, stage_file: str, params: dict[str, object], minutes: bool = True
) -> int:
    """Stage raw rows with `sql/rollup/<stage_file>.sql` and `params`, then add the staged groups into the
    hourly rollup tables, and into the minute ones too unless `minutes` is False. Returns the number of
    raw rows staged. Shared by the incremental run and backfill, so both build rollups the same way."""
    conn.execute(text("SELECT set_config('work_mem', :v, true)"), {"v": STAGE_WORK_MEM})
    for stmt in statements(stage_file):
        conn.execute(stmt, params)
    rows = int(conn.execute(_STAGED_ROWS).scalar_one())
    for stmt in (statements("merge_minute") if minutes else ()) + statements("merge_hourly"):
        conn.execute(stmt)
    return rows


def _wait_for_writers(conn: Connection, timeout_ms: int) -> bool:
    """Wait until every transaction that may hold an id <= upper has committed or rolled back.

    An INSERT takes its ROW EXCLUSIVE table lock before it draws an id from the sequence, so every
    writer holding such an id holds that lock now. EXCLUSIVE mode conflicts with it: once granted, they
    are all finished, and the next statement's snapshot sees every committed row up to `upper`. The lock
    is taken in a savepoint that is rolled back at once, so writers wait at most `timeout_ms`.
    """
    savepoint = conn.begin_nested()
    try:
        conn.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": str(int(timeout_ms))})
        conn.execute(text("LOCK TABLE agent_usage_logs IN EXCLUSIVE MODE"))
    except DBAPIError as exc:
        savepoint.rollback()
        if isinstance(exc.orig, pg_errors.LockNotAvailable):
            return False
        raise
    # Rolling back releases the table lock and restores lock_timeout (both are savepoint-scoped).
    savepoint.rollback()
    return True


def _record_failure(engine: Engine, started_at: datetime, t0: float, exc: BaseException) -> None:
    try:
        with rollup_transaction(engine) as conn:
            record_run(
                conn,
                kind="incremental",
                started_at=started_at,
                duration_ms=_elapsed_ms(t0),
                rows_processed=0,
                status="failed",
                error=type(exc).__name__,
            )
    except Exception:
        log.exception("could not record the failed rollup run")
