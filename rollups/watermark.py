"""The aggregator's shared state: the watermark row, the run records, and the transactions that use them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, text

WATERMARK_NAME = "agent_usage"

_LOCK = {
    # A second runner skips: the first one is already doing the same work.
    "skip": "SELECT last_id, purged_before FROM rollup_watermark WHERE name = :name FOR UPDATE SKIP LOCKED",
    # Backfill and purge wait their turn: an operator asked for them.
    "wait": "SELECT last_id, purged_before FROM rollup_watermark WHERE name = :name FOR UPDATE",
    # Readers (verify) take no lock; their snapshot is enough.
    "read": "SELECT last_id, purged_before FROM rollup_watermark WHERE name = :name",
}
_EXISTS = text("SELECT 1 FROM rollup_watermark WHERE name = :name")
_STATE = text(
    "SELECT w.last_id, w.as_of, w.purged_before,"
    " (SELECT max(r.id) FROM rollup_runs AS r) AS last_run_id,"
    " (SELECT r.finished_at FROM rollup_runs AS r WHERE r.kind = 'incremental' AND r.status = 'succeeded'"
    "  ORDER BY r.started_at DESC LIMIT 1) AS last_run_at"
    " FROM rollup_watermark AS w WHERE w.name = :name"
)


class WatermarkMissing(RuntimeError):
    """The watermark row is gone. The migrations create it; without it nobody can tell which raw rows are
    rolled up, so guessing (recreating it at 0 would count everything again) is worse than stopping."""

    def __init__(self) -> None:
        super().__init__(
            f"rollup_watermark has no row named {WATERMARK_NAME!r}; it is created by sql/002_rollups.sql. "
            "Restore it with the last_id the rollups were built up to (or 0 on an empty database, then "
            "backfill) before running the aggregator."
        )


@dataclass(frozen=True)
class Watermark:
    last_id: int
    purged_before: datetime | None


@dataclass(frozen=True)
class WatermarkState:
    """What readers of the rollups need to know about them, from one snapshot."""

    last_id: int  # raw rows with id <= last_id are rolled up
    as_of: datetime | None  # every raw row committed before this time is rolled up
    purged_before: datetime | None  # raw rows before this time may be gone (rollups there are final)
    last_run_id: int | None  # the newest rollup_runs id: it changes with every change to the rollups
    last_run_at: datetime | None  # end of the newest successful incremental run


@contextmanager
def rollup_transaction(engine: Engine) -> Iterator[Connection]:
    """A READ COMMITTED transaction, whatever the database's or the role's default isolation.

    The exactly-once design depends on it: a run stages its rows with a statement that starts after the
    writer wait, and only READ COMMITTED gives that statement a snapshot of its own, which sees every row
    committed during the wait. A waiting FOR UPDATE likewise needs it to read the row's new version
    instead of failing with a serialization error.
    """
    with engine.connect().execution_options(isolation_level="READ COMMITTED") as conn, conn.begin():
        yield conn


def lock_watermark(conn: Connection, mode: str) -> Watermark | None:
    """Read the watermark row, locking it for this transaction unless mode is "read".

    Returns None when mode is "skip" and another transaction holds the lock. The row lock is what makes
    runs, backfill chunks and purge batches of any number of processes take turns.
    """
    row = conn.execute(text(_LOCK[mode]), {"name": WATERMARK_NAME}).one_or_none()
    if row is None:
        if mode == "skip" and conn.execute(_EXISTS, {"name": WATERMARK_NAME}).first() is not None:
            return None
        raise WatermarkMissing()
    return Watermark(last_id=row.last_id, purged_before=row.purged_before)


def read_watermark_state(conn: Connection) -> WatermarkState:
    """The rollup state as `conn`'s snapshot sees it; takes no lock. Raises WatermarkMissing if the
    watermark row is gone."""
    row = conn.execute(_STATE, {"name": WATERMARK_NAME}).one_or_none()
    if row is None:
        raise WatermarkMissing()
    return WatermarkState(row.last_id, row.as_of, row.purged_before, row.last_run_id, row.last_run_at)


def record_run(
    conn: Connection,
    *,
    kind: str,
    started_at: datetime,
    duration_ms: float,
    rows_processed: int,
    status: str,
    from_id: int | None = None,
    to_id: int | None = None,
    error: str | None = None,
) -> None:
    conn.execute(
        text(
            "INSERT INTO rollup_runs (kind, started_at, finished_at, duration_ms, rows_processed,"
            " from_id, to_id, status, error)"
            " VALUES (:kind, :started_at, clock_timestamp(), :duration_ms, :rows,"
            " :from_id, :to_id, :status, :error)"
        ),
        {
            "kind": kind,
            "started_at": started_at,
            "duration_ms": duration_ms,
            "rows": rows_processed,
            "from_id": from_id,
            "to_id": to_id,
            "status": status,
            "error": error,
        },
    )
