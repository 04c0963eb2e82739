"""The aggregator's shared state: the watermark row and the run records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

WATERMARK_NAME = "agent_usage"

_LOCK = {
    # A second runner skips: the first one is already doing the same work.
    "skip": "SELECT last_id, purged_before FROM rollup_watermark WHERE name = :name FOR UPDATE SKIP LOCKED",
    # Backfill and purge wait their turn: an operator asked for them.
    "wait": "SELECT last_id, purged_before FROM rollup_watermark WHERE name = :name FOR UPDATE",
    # Readers (verify) take no lock; their snapshot is enough.
    "read": "SELECT last_id, purged_before FROM rollup_watermark WHERE name = :name",
}


@dataclass(frozen=True)
class Watermark:
    last_id: int
    purged_before: datetime | None


def lock_watermark(conn: Connection, mode: str) -> Watermark | None:
    """Read the watermark row, locking it for this transaction unless mode is "read".

    Returns None when mode is "skip" and another transaction holds the lock. The row lock is what makes
    runs, backfill chunks and purge batches of any number of processes take turns.
    """
    row = conn.execute(text(_LOCK[mode]), {"name": WATERMARK_NAME}).one_or_none()
    if row is None:
        if mode == "skip" and _watermark_exists(conn):
            return None
        # A fresh schema always has the row (002_rollups.sql); recreate it if someone removed it.
        conn.execute(
            text("INSERT INTO rollup_watermark (name) VALUES (:name) ON CONFLICT (name) DO NOTHING"),
            {"name": WATERMARK_NAME},
        )
        return lock_watermark(conn, "wait" if mode == "skip" else mode)
    return Watermark(last_id=row.last_id, purged_before=row.purged_before)


def _watermark_exists(conn: Connection) -> bool:
    found = conn.execute(text("SELECT 1 FROM rollup_watermark WHERE name = :name"), {"name": WATERMARK_NAME})
    return found.first() is not None


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
