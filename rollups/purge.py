"""Purge: raw retention in bounded batches, never touching a raw row the aggregator has not processed.

Rollups are kept: hourly rows forever, minute rows for MINUTE_RETENTION (rollups/horizons.py; sliding
windows read the hourly rows beyond it).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from rollups.horizons import minute_horizon
from rollups.timeutil import floor_hour
from rollups.watermark import WATERMARK_NAME, lock_watermark, record_run, rollup_transaction

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 10_000

# Only rows the aggregator has counted (id <= last_id): a late or in-flight row below the cutoff stays
# until a run has rolled it up, and the next purge removes it.
_DELETE_RAW_BATCH = text(
    "DELETE FROM agent_usage_logs WHERE id IN ("
    ' SELECT id FROM agent_usage_logs WHERE "timestamp" < :cutoff AND id <= :last_id LIMIT :batch)'
)
# Set before the first delete, in the same transaction: from then on backfill refuses the range.
_MARK_PURGED = text(
    "UPDATE rollup_watermark SET purged_before = greatest(coalesce(purged_before, '-infinity'), :cutoff)"
    " WHERE name = :name"
)
_MINUTE_TABLES = ("agent_usage_minute_agent", "agent_usage_minute_endpoint", "agent_usage_minute_status")


@dataclass(frozen=True)
class PurgeResult:
    purged_before: datetime
    raw_rows_deleted: int
    minute_rows_deleted: int
    runs_deleted: int
    duration_s: float


def purge(
    engine: Engine,
    *,
    retention_days: int | None = None,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> PurgeResult:
    """Delete raw rows older than `retention_days` (default RAW_RETENTION_DAYS) and minute rollups
    older than MINUTE_RETENTION, in batches of `batch_size` rows, each batch its own transaction."""
    if retention_days is None:
        from app.config import get_settings

        retention_days = get_settings().raw_retention_days
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    now = now or started_at
    # Hour-aligned, so an hour's raw rows are either all kept or all eligible, and backfill/verify can
    # start exactly at purged_before.
    cutoff = floor_hour(now - timedelta(days=retention_days))
    raw_deleted = 0
    while True:
        with rollup_transaction(engine) as conn:
            # The watermark lock orders each batch with runs and backfill chunks (no deadlock, no race
            # with a backfill that is rebuilding these hours).
            watermark = lock_watermark(conn, "wait")
            assert watermark is not None  # "wait" never returns None
            conn.execute(_MARK_PURGED, {"cutoff": cutoff, "name": WATERMARK_NAME})
            deleted = conn.execute(
                _DELETE_RAW_BATCH, {"cutoff": cutoff, "last_id": watermark.last_id, "batch": batch_size}
            ).rowcount
        raw_deleted += deleted
        if deleted < batch_size:
            break

    minute_cutoff = minute_horizon(now)
    minute_deleted = 0
    for table in _MINUTE_TABLES:
        delete_batch = text(
            f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
            f" SELECT ctid FROM {table} WHERE bucket_start < :cutoff LIMIT :batch))"
        )
        while True:
            with rollup_transaction(engine) as conn:
                deleted = conn.execute(delete_batch, {"cutoff": minute_cutoff, "batch": batch_size}).rowcount
            minute_deleted += deleted
            if deleted < batch_size:
                break

    with rollup_transaction(engine) as conn:
        # Run records live as long as raw rows do.
        runs_deleted = conn.execute(
            text("DELETE FROM rollup_runs WHERE started_at < :cutoff"), {"cutoff": cutoff}
        ).rowcount
        duration = time.perf_counter() - t0
        record_run(
            conn,
            kind="purge",
            started_at=started_at,
            duration_ms=round(duration * 1000, 3),
            rows_processed=raw_deleted,
            status="succeeded",
        )
    log.info(
        "purge",
        extra={
            "purged_before": cutoff.isoformat(),
            "raw_rows_deleted": raw_deleted,
            "minute_rows_deleted": minute_deleted,
        },
    )
    return PurgeResult(cutoff, raw_deleted, minute_deleted, runs_deleted, duration)
