"""Verify: compare every rollup row of a time range with the same aggregate computed from raw rows."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from rollups.horizons import minute_horizon
from rollups.sqlfiles import statement
from rollups.timeutil import ceil_hour, floor_hour
from rollups.watermark import lock_watermark

log = logging.getLogger(__name__)

_VERIFY_FILES = ("verify_agent", "verify_endpoint", "verify_status")


@dataclass(frozen=True)
class Drift:
    table: str
    bucket_start: datetime
    key: str
    column: str  # "(row)" when the whole row is missing on one side
    rollup_value: str | None
    raw_value: str | None

    def __str__(self) -> str:
        return (
            f"{self.table} {self.bucket_start.isoformat()} {self.key!r} {self.column}: "
            f"rollup={self.rollup_value} raw={self.raw_value}"
        )


@dataclass(frozen=True)
class VerifyRange:
    """What verify compares: hours in [since, until), minutes in [minute_since, until)."""

    since: datetime
    until: datetime
    minute_since: datetime
    last_id: int
    clamped_to_purge: bool


def verify(engine: Engine, since: datetime, until: datetime, *, now: datetime | None = None) -> list[Drift]:
    """Every difference between the rollups and the raw rows over the whole hours covering [since, until)."""
    drifts, _ = verify_range(engine, since, until, now=now)
    return drifts


def verify_range(
    engine: Engine, since: datetime, until: datetime, *, now: datetime | None = None
) -> tuple[list[Drift], VerifyRange]:
    start, end = floor_hour(since), ceil_hour(until)
    # Minute rows older than the horizon may be purged already; they are not compared.
    minute_since = minute_horizon(now or datetime.now(UTC))
    # REPEATABLE READ, pinned whatever the default: the watermark, the rollups and the raw rows come from
    # one snapshot. A run that commits while we compare is invisible to us as a whole, so it cannot show
    # up as drift. Read only, and no locks.
    with (
        engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        ) as conn,
        conn.begin(),
    ):
        watermark = lock_watermark(conn, "read")
        assert watermark is not None
        clamped = False
        if watermark.purged_before is not None and start < watermark.purged_before:
            # The raw rows before it are gone; the rollups there cannot be checked against them.
            start, clamped = ceil_hour(watermark.purged_before), True
            log.warning("verify starts at purged_before", extra={"purged_before": watermark.purged_before})
        checked = VerifyRange(start, end, max(start, minute_since), watermark.last_id, clamped)
        drifts: list[Drift] = []
        if start < end:
            params = {
                "since": start,
                "until": end,
                "minute_since": min(checked.minute_since, end),
                "last_id": watermark.last_id,
            }
            for name in _VERIFY_FILES:
                for row in conn.execute(statement(name), params):
                    drifts.append(
                        Drift(
                            row.table_name,
                            row.bucket_start,
                            row.key,
                            row.column_name,
                            row.rollup_value,
                            row.raw_value,
                        )
                    )
    return drifts, checked
