"""UTC bucket arithmetic and the command line's time format."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

HOUR = timedelta(hours=1)


def as_utc(moment: datetime) -> datetime:
    """A naive time is taken as UTC, the time zone of every bucket."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def floor_hour(moment: datetime) -> datetime:
    return as_utc(moment).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floor = floor_hour(moment)
    return floor if floor == as_utc(moment) else floor + HOUR


def floor_minute(moment: datetime) -> datetime:
    return as_utc(moment).replace(second=0, microsecond=0)


def parse_time(value: str) -> datetime:
    """ISO 8601 time (`2026-12-01T00:00:00Z`, offset optional, UTC assumed) or a date (its UTC midnight)."""
    value = value.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        raise ValueError(f"not an ISO 8601 time or date: {value!r}") from None
