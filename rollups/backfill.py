"""Backfill: recompute the rollups of a time range from the raw rows, in bounded chunks.

Each chunk is one transaction that holds the watermark row lock, so it never interleaves with an
incremental run: it deletes the rollup rows of its hours and rebuilds them from the raw rows with
id <= watermark, exactly the rows the incremental runs have counted. Running it twice gives the same
rows (idempotent); rows above the watermark are left to the next incremental run. Hours older than
the minute horizon (rollups/horizons.py) get hourly rows only: purge would remove their minute rows anyway.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from rollups.engine import stage_and_merge
from rollups.horizons import minute_horizon
from rollups.sqlfiles import statements
from rollups.timeutil import ceil_hour, floor_hour
from rollups.watermark import lock_watermark, record_run, rollup_transaction

log = logging.getLogger(__name__)

DEFAULT_CHUNK = timedelta(days=1)


class BackfillRefused(ValueError):
    """The range reaches back before `purged_before`: its raw rows are gone, recomputing would lose data."""


@dataclass(frozen=True)
class BackfillProgress:
    chunk_since: datetime
    chunk_until: datetime
    chunk_index: int  # 1-based
    chunk_count: int
    chunk_rows: int
    total_rows: int
    elapsed_s: float


@dataclass(frozen=True)
class BackfillResult:
    since: datetime
    until: datetime
    rows_processed: int
    chunks: int
    duration_s: float


def backfill(
    engine: Engine,
    since: datetime,
    until: datetime,
    *,
    chunk: timedelta = DEFAULT_CHUNK,
    progress: Callable[[BackfillProgress], None] | None = None,
) -> BackfillResult:
    """Recompute every rollup row of the whole UTC hours covering [since, until)."""
    start, end = floor_hour(since), ceil_hour(until)
    if end <= start:
        raise ValueError("backfill: --until must be after --since")
    if chunk < timedelta(hours=1) or chunk % timedelta(hours=1):
        raise ValueError("backfill: the chunk must be a whole number of hours")
    bounds = []
    cursor = start
    while cursor < end:
        bounds.append((cursor, min(cursor + chunk, end)))
        cursor += chunk

    t0 = time.perf_counter()
    total = 0
    for index, (lo, hi) in enumerate(bounds, start=1):
        rows = _backfill_chunk(engine, lo, hi)
        total += rows
        if progress is not None:
            progress(BackfillProgress(lo, hi, index, len(bounds), rows, total, time.perf_counter() - t0))
    return BackfillResult(start, end, total, len(bounds), time.perf_counter() - t0)


def _backfill_chunk(engine: Engine, since: datetime, until: datetime) -> int:
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    with rollup_transaction(engine) as conn:
        watermark = lock_watermark(conn, "wait")
        assert watermark is not None  # "wait" never returns None
        # Checked under the lock, per chunk: a purge may have run since the previous chunk.
        if watermark.purged_before is not None and since < watermark.purged_before:
            raise BackfillRefused(
                f"raw rows before {watermark.purged_before.isoformat()} have been purged; "
                f"cannot recompute from {since.isoformat()} (the rollups there are final)"
            )
        # Cleared first: staging reads only raw rows, and the merge then adds into empty buckets.
        for stmt in statements("clear_time_range"):
            conn.execute(stmt, {"since": since, "until": until})
        # Minute rows before the minute horizon would only be removed by the next purge.
        rows = stage_and_merge(
            conn,
            "stage_time_range",
            {"since": since, "until": until, "to_id": watermark.last_id},
            minutes=until > minute_horizon(datetime.now(UTC)),
        )
        duration_ms = round((time.perf_counter() - t0) * 1000, 3)
        record_run(
            conn,
            kind="backfill",
            started_at=started_at,
            duration_ms=duration_ms,
            rows_processed=rows,
            status="succeeded",
            to_id=watermark.last_id,
        )
    return rows
