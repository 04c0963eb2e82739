"""Window arithmetic: the rollup pieces of a window always add up to exactly its minutes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.metrics.windows import (
    HOUR,
    MINUTE,
    Window,
    floor_hour,
    floor_minute,
    sliding_window,
    timeline_buckets,
)
from rollups.horizons import MINUTE_RETENTION, minute_horizon


def minute_weights(window: Window) -> dict[datetime, int]:
    """How many times each minute is counted by the window's pieces (hourly rows count all 60)."""
    weights: dict[datetime, int] = {}

    def add(start: datetime, end: datetime, sign: int) -> None:
        minute = start
        while minute < end:
            weights[minute] = weights.get(minute, 0) + sign
            minute += MINUTE

    if window.hours:
        add(*window.hours, 1)
    for start, end in window.add_minutes:
        add(start, end, 1)
    for start, end in window.subtract_minutes:
        add(start, end, -1)
    return {minute: weight for minute, weight in weights.items() if weight}


def test_last_hour_at_a_minute_boundary_excludes_the_row_exactly_60_minutes_old() -> None:
    window = sliding_window(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), 60)
    assert window.start == datetime(2026, 3, 1, 11, 1, tzinfo=UTC)
    assert window.end == datetime(2026, 3, 1, 12, 1, tzinfo=UTC)


def test_current_hour_is_read_from_its_hourly_row_minus_future_minutes() -> None:
    window = sliding_window(datetime(2026, 3, 1, 12, 40, 5, tzinfo=UTC), 24 * 60)
    assert window.hours == (datetime(2026, 2, 28, 13, tzinfo=UTC), datetime(2026, 3, 1, 13, tzinfo=UTC))
    assert (datetime(2026, 3, 1, 12, 41, tzinfo=UTC), datetime(2026, 3, 1, 13, tzinfo=UTC)) in (
        window.subtract_minutes
    )


def test_additive_window_never_subtracts() -> None:
    window = sliding_window(datetime(2026, 3, 1, 12, 40, 5, tzinfo=UTC), 24 * 60, subtract=False)
    assert window.subtract_minutes == ()
    assert window.hours == (datetime(2026, 2, 28, 13, tzinfo=UTC), datetime(2026, 3, 1, 12, tzinfo=UTC))


@given(
    now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
    minutes=st.integers(min_value=1, max_value=720 * 60),
    subtract=st.booleans(),
)
def test_pieces_cover_every_minute_of_the_window_exactly_once(
    now: datetime, minutes: int, subtract: bool
) -> None:
    window = sliding_window(now, minutes, subtract=subtract)
    asked = window.end - minutes * MINUTE
    assert window.end == floor_minute(now) + MINUTE
    # The documented rule: the start moves back to its hour only when that hour is past the horizon.
    if floor_hour(asked) < minute_horizon(now):
        assert window.start == floor_hour(asked)
    else:
        assert window.start == asked
    expected = {window.start + i * MINUTE: 1 for i in range((window.end - window.start) // MINUTE)}
    assert window.start <= now < window.end
    assert minute_weights(window) == expected
    # No minute row is read where purge may have deleted it.
    assert all(start >= minute_horizon(now) for start, _ in (*window.add_minutes, *window.subtract_minutes))
    # Reads stay small: at most one partial hour of minute rows at each end, excluding future minutes.
    past_minutes = sum(
        (min(e, window.end) - s) // MINUTE for s, e in (*window.add_minutes, *window.subtract_minutes)
    )
    assert past_minutes <= 2 * 60


@pytest.mark.parametrize("subtract", [True, False])
def test_windows_up_to_the_minute_horizon_are_exact_and_longer_ones_start_on_the_hour(subtract: bool) -> None:
    now = datetime(2026, 3, 1, 12, 40, 5, tzinfo=UTC)
    assert timedelta(hours=192) == MINUTE_RETENTION
    exact = sliding_window(now, 192 * 60, subtract=subtract)
    assert exact.start == datetime(2026, 2, 21, 12, 41, tzinfo=UTC)
    widened = sliding_window(now, 193 * 60, subtract=subtract)
    assert widened.start == datetime(2026, 2, 21, 11, 0, tzinfo=UTC)  # asked: 11:41
    longest = sliding_window(now, 720 * 60, subtract=subtract)
    assert longest.start == datetime(2026, 1, 30, 12, 0, tzinfo=UTC)  # asked: 12:41
    assert longest.hours is not None and longest.hours[0] == longest.start


def test_timeline_ends_with_the_current_hour_oldest_first() -> None:
    buckets = timeline_buckets(datetime(2026, 3, 1, 12, 40, tzinfo=UTC), 3)
    assert buckets == [datetime(2026, 3, 1, h, tzinfo=UTC) for h in (10, 11, 12)]
    assert all(b - a == HOUR for a, b in itertools.pairwise(buckets))


@pytest.mark.parametrize("minutes", [0, -5])
def test_empty_windows_are_refused(minutes: int) -> None:
    with pytest.raises(ValueError):
        sliding_window(datetime(2026, 3, 1, tzinfo=UTC), minutes)
