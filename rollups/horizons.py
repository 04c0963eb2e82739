"""How long each kind of rollup row is kept, in one place: purge deletes by it, backfill and verify
skip what it would delete, and the metrics windows read around it."""

from __future__ import annotations

from datetime import datetime, timedelta

from rollups.timeutil import floor_hour

# Minute rollups are kept this long: a 7-day sliding window plus a day of margin. Hourly rows are kept
# forever.
MINUTE_RETENTION = timedelta(days=8)


def minute_horizon(now: datetime) -> datetime:
    """The oldest bucket whose minute rollup rows are still guaranteed to exist at `now`.

    Purge deletes minute rows before floor_hour(purge time - MINUTE_RETENTION), and a purge never runs
    later than `now`, so every minute row from this hour on is still there; older ones may be gone.
    Hour-aligned, so an hour has either all of its minute rows or none.
    """
    return floor_hour(now - MINUTE_RETENTION)
