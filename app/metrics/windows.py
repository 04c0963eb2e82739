"""Sliding time windows, exact to the minute, and the rollup rows that answer them.

Boundary convention (the tests compute the raw-row truth with the same rule):

    a window of N minutes at clock time `now` holds the raw rows with
        floor_minute(now) - (N - 1) min  <=  timestamp  <  floor_minute(now) + 1 min

i.e. the current (partial) minute plus the N - 1 whole minutes before it. At a minute boundary
(now = 12:00:00) the last hour is 11:01:00 .. 12:00:59.999999: a row exactly 60 minutes old (11:00:00)
is out, one 59 minutes old is in, and a row later than the current minute ("in the future") is out.
Minute granularity is the rollups' granularity: that is what "exact to the minute" buys.

How a window [start, end) is read. The whole hours inside it come from the hourly tables. An hour that
the window covers only in part can be read two ways, and we take the cheaper one:
  * add:      the minute rows of the part inside the window;
  * subtract: the hour's hourly row minus the minute rows of the part outside the window.
Minutes at or after `end` are in the future and normally hold no rows, so the current hour costs one
hourly row per key instead of up to 60 minute rows, and the oldest hour at most 30 minute rows. Every
rollup column used with subtraction is a sum (counts, sums, histogram counts), so the result is exact.
Maxima (`last_seen_at`) cannot be subtracted: callers that need them ask for an additive window.

Beyond the minute horizon the start edge is widened to its whole hour. Minute rollups are kept for
MINUTE_RETENTION (8 days, rollups/horizons.py); hourly rows forever. When the window's oldest, partial
hour lies before `minute_horizon(now)` its minute rows may be purged, so neither reading above is exact.
The window then starts at that hour's start instead and reads its hourly row whole:

    start = floor_hour(start)   when   floor_hour(start) < minute_horizon(now) = floor_hour(now - 8 days)

so a window of more than 192 hours holds up to 59 minutes more than asked for, never less, and
`Window.start` (reported as `window_start`) is that real start. Windows of up to 192 hours are exact to
the minute as above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rollups.horizons import minute_horizon
from rollups.timeutil import HOUR, as_utc, floor_hour, floor_minute

__all__ = [
    "HOUR",
    "MINUTE",
    "Range",
    "Window",
    "as_utc",
    "floor_hour",
    "floor_minute",
    "sliding_window",
    "timeline_buckets",
    "utc_now",
]

MINUTE = timedelta(minutes=1)


def utc_now() -> datetime:
    """The clock every window is measured from (freezegun patches it in tests)."""
    return datetime.now(UTC)


Range = tuple[datetime, datetime]  # [start, end)


@dataclass(frozen=True)
class Window:
    """Raw rows with start <= timestamp < end, answered by
    hourly rows in `hours` + minute rows in `add_minutes` - minute rows in `subtract_minutes`."""

    start: datetime
    end: datetime
    hours: Range | None = None
    add_minutes: tuple[Range, ...] = field(default=())
    subtract_minutes: tuple[Range, ...] = field(default=())


def sliding_window(now: datetime, minutes: int, *, subtract: bool = True) -> Window:
    """The last `minutes` minutes at `now` (see the module docstring for the boundary convention), with
    the start widened to its hour beyond the minute horizon.

    With `subtract=False` the window is read additively only (hourly rows of whole hours plus minute rows
    of the partial ones), which keeps maxima such as `last_seen_at` exact.
    """
    if minutes < 1:
        raise ValueError("a window holds at least one minute")
    end = floor_minute(now) + MINUTE
    start = end - minutes * MINUTE
    if floor_hour(start) < minute_horizon(now):
        start = floor_hour(start)  # its minute rows may be purged: read the whole hour from its hourly row

    hour_first: datetime | None = None  # the contiguous run of hours read from the hourly tables
    hour_last: datetime | None = None
    add: list[Range] = []
    sub: list[Range] = []
    hour = floor_hour(start)
    while hour < end:
        inside = (max(start, hour), min(end, hour + HOUR))
        whole = inside == (hour, hour + HOUR)
        outside_minutes = (inside[0] - hour) // MINUTE  # the past part; the future part costs nothing
        inside_minutes = (inside[1] - inside[0]) // MINUTE
        if whole or (subtract and 1 + outside_minutes < inside_minutes):
            hour_first = hour_first or hour
            hour_last = hour
            if inside[0] > hour:
                sub.append((hour, inside[0]))
            if inside[1] < hour + HOUR:
                sub.append((inside[1], hour + HOUR))
        else:
            add.append(inside)
        hour += HOUR

    hours = (hour_first, hour_last + HOUR) if hour_first and hour_last else None
    return Window(start, end, hours, tuple(add), tuple(sub))


def timeline_buckets(now: datetime, hours: int) -> list[datetime]:
    """The `hours` UTC hour starts ending with the current (partial) hour, oldest first."""
    if hours < 1:
        raise ValueError("a timeline holds at least one hour")
    current = floor_hour(now)
    return [current - (hours - 1 - i) * HOUR for i in range(hours)]
