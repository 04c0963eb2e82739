"""`make demo-data`: realistic usage history written straight into `agent_usage_logs` with COPY.

Rows are generated hour by hour and streamed into COPY, so memory stays flat whatever the volume (10 M
rows is a matter of minutes, most of it PostgreSQL's). Output is a pure function of the seed, the
parameters and the end of the window: the same inputs give the same rows. Only raw rows are written;
the rollup engine catches up with them like with any late rows.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import psycopg
from sqlalchemy import Engine

from app.demo import profile
from app.demo.profile import Endpoint
from rollups.timeutil import parse_time

_COPY_SQL = (
    "COPY agent_usage_logs (agent_id, endpoint, method, merchant_id, status_code, response_time_ms, "
    'error_message, order_id, order_amount, "timestamp") FROM STDIN'
)
_NULL = "\\N"
# An outage-like hour on roughly one day in three: extra 5xx across the API, as real incidents look.
_INCIDENT_DAY_SHARE = 0.35
_INCIDENT_SERVER_ERROR_RATE = 0.06
_COMMIT_EVERY_ROWS = 500_000  # bounded transactions: the aggregator sees history arrive while it is written


T = TypeVar("T")


@dataclass(frozen=True)
class DemoDataSummary:
    rows: int
    since: datetime
    until: datetime
    seconds: float


class _Picker(Generic[T]):
    """Weighted choice with precomputed cumulative weights (random.choices recomputes them per call)."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]

    def many(self, rng: random.Random, k: int) -> list[T]:
        return rng.choices(self.items, cum_weights=self.cumulative, k=k)


def _hour_allocation(rows_per_day: int) -> list[int]:
    """Rows per UTC hour of day, summing exactly to rows_per_day (largest remainder)."""
    shape = profile.hourly_shape()
    total = sum(shape)
    exact = [rows_per_day * w / total for w in shape]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(24), key=lambda h: exact[h] - counts[h], reverse=True)
    for h in by_remainder[: rows_per_day - sum(counts)]:
        counts[h] += 1
    return counts


class _Generator:
    def __init__(self, seed: int, peak_rows_per_hour: int) -> None:
        self.rng = random.Random(seed)
        self.peak_rows = max(1, peak_rows_per_hour)
        agents = profile.agent_ids()
        self.agents = _Picker(agents, profile.agent_weights(len(agents)))
        self.endpoints = _Picker(list(profile.ENDPOINTS), [e.weight for e in profile.ENDPOINTS])
        self.merchants = _Picker([m for m, _ in profile.MERCHANTS], [w for _, w in profile.MERCHANTS])
        self.client_errors = _Picker(
            [(s, m) for s, m, _ in profile.COMMON_CLIENT_ERRORS],
            [w for *_, w in profile.COMMON_CLIENT_ERRORS],
        )
        self.server_errors = _Picker(
            [(s, m) for s, m, _ in profile.COMMON_SERVER_ERRORS],
            [w for *_, w in profile.COMMON_SERVER_ERRORS],
        )
        # Scale each endpoint's error propensity so the whole mix lands on the target rate.
        mean_rate = sum(e.weight * e.error_rate for e in profile.ENDPOINTS) / self.endpoints.total
        self.error_scale = profile.TARGET_ERROR_RATE / mean_rate

    def hour(self, start: datetime, count: int, incident: bool) -> str:
        """COPY text for `count` rows in the hour beginning at `start`, in time order."""
        rng = self.rng
        stamp = start.strftime("%Y-%m-%d %H:")
        offsets = sorted(rng.random() * 3600.0 for _ in range(count))
        agents = self.agents.many(rng, count)
        endpoints = self.endpoints.many(rng, count)
        # Busy hours are a little slower: shared databases and merchant APIs feel the load.
        load = 1.0 + 0.25 * count / self.peak_rows
        lines = []
        for offset, agent, ep in zip(offsets, agents, endpoints, strict=True):
            merchant = self.merchants.pick(rng) if ep.has_merchant else None
            latency = ep.median_ms * load * math.exp(ep.sigma * rng.gauss(0.0, 1.0))
            status, error, order_id, amount = ep.ok_status, None, None, None
            roll = rng.random()
            if ep.template == "<unmatched>":
                status, error, agent = 404, "Not Found", "unknown"
            elif incident and roll < _INCIDENT_SERVER_ERROR_RATE:
                status, error = self.server_errors.pick(rng)
            elif roll < ep.error_rate * self.error_scale:
                status, error = self._error(ep)
                if status == 401:
                    agent = "unknown"  # no valid key: the middleware cannot know who called
            elif ep.creates_order:
                order_id = f"ord_{rng.getrandbits(48):012x}"
                # Basket values are log-normal too: many small orders, a few large ones.
                amount = f"{min(9_999.0, 55.0 * math.exp(0.9 * rng.gauss(0.0, 1.0))) + 5.0:.2f}"
            latency_ms = _error_latency(status, latency, rng) if error else latency
            minute, second = divmod(offset, 60.0)
            lines.append(
                f"{agent}\t{ep.template}\t{ep.method}\t{merchant or _NULL}\t{status}\t{round(latency_ms)}\t"
                f"{error or _NULL}\t{order_id or _NULL}\t{amount or _NULL}\t"
                f"{stamp}{int(minute):02d}:{second:09.6f}+00\n"
            )
        return "".join(lines)

    def _error(self, ep: Endpoint) -> tuple[int, str]:
        rng = self.rng
        if rng.random() < profile.SERVER_ERROR_SHARE:
            return self.server_errors.pick(rng)
        if ep.errors and rng.random() < 0.5:
            return ep.errors[int(rng.random() * len(ep.errors))]
        return self.client_errors.pick(rng)


def _error_latency(status: int, normal_ms: float, rng: random.Random) -> float:
    if status in (401, 403, 404, 429, 400) and normal_ms > 0:
        return min(normal_ms, 3.0 + 6.0 * rng.random())  # refused before any real work
    if status == 504:
        return 5_000.0 + 400.0 * rng.random()  # the upstream timeout
    if status == 503:
        return 2.0 + 10.0 * rng.random()  # shed at once
    if status in (500, 502):
        return normal_ms * 1.8
    return normal_ms * 0.6  # validation and conflicts: answered part-way


def demo_rows(*, days: int, rows_per_day: int, seed: int, until: datetime) -> Iterator[tuple[datetime, str]]:
    """(hour start, COPY text of that hour's rows) for every hour of the window, oldest first."""
    if days < 1 or rows_per_day < 1:
        raise ValueError("days and rows_per_day must be at least 1")
    end = until.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    allocation = _hour_allocation(rows_per_day)
    generator = _Generator(seed, max(allocation))
    incident_rng = random.Random(seed + 1)  # incidents do not shift when row volume changes
    for day in range(days):
        incident_hour = int(incident_rng.random() * 24) if incident_rng.random() < _INCIDENT_DAY_SHARE else -1
        for step in range(24):
            hour_start = start + timedelta(days=day, hours=step)
            count = allocation[hour_start.hour]
            if count:
                yield hour_start, generator.hour(hour_start, count, incident=hour_start.hour == incident_hour)


def write_demo_data(
    engine: Engine,
    *,
    days: int = 7,
    rows_per_day: int = 20_000,
    seed: int = 42,
    until: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoDataSummary:
    """Append `days` days of history ending at `until` (default: now) to agent_usage_logs."""
    until = until or datetime.now(UTC)
    began = time.perf_counter()
    written = 0
    first: datetime | None = None
    hours = demo_rows(days=days, rows_per_day=rows_per_day, seed=seed, until=until)
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert isinstance(conn, psycopg.Connection)
        more = True
        while more:
            more, in_transaction = False, 0
            with conn.cursor() as cur, cur.copy(_COPY_SQL) as copy:
                for hour_start, chunk in hours:  # resumes where the previous transaction stopped
                    first = first or hour_start
                    copy.write(chunk)
                    in_transaction += chunk.count("\n")
                    if in_transaction >= _COMMIT_EVERY_ROWS:
                        more = True
                        break
            conn.commit()
            written += in_transaction
            if progress:
                progress(written)
    except BaseException:
        raw.invalidate()
        raise
    finally:
        raw.close()
    end = until.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return DemoDataSummary(written, first or end, end, time.perf_counter() - began)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.cli demo-data", description="Write realistic usage history into agent_usage_logs."
    )
    parser.add_argument("--days", type=int, default=7, help="days of history ending now (default 7)")
    parser.add_argument("--rows-per-day", type=int, default=20_000, help="rows per day (default 20000)")
    parser.add_argument("--seed", type=int, default=42, help="same seed, same rows (default 42)")
    parser.add_argument(
        "--until", type=parse_time, help="end of the window, ISO 8601, UTC if no offset (default now)"
    )
    args = parser.parse_args(argv)
    if args.days < 1 or args.rows_per_day < 1:
        parser.error("--days and --rows-per-day must be at least 1")
    until = args.until

    from app.db import get_engine
    from app.migrations import migrate

    engine = get_engine()
    migrate(engine)
    total = args.days * args.rows_per_day
    summary = write_demo_data(
        engine,
        days=args.days,
        rows_per_day=args.rows_per_day,
        seed=args.seed,
        until=until,
        progress=lambda n: print(f"  {n:,} / {total:,} rows", file=sys.stderr),
    )
    rate = summary.rows / summary.seconds if summary.seconds else 0.0
    print(
        f"wrote {summary.rows:,} usage rows from {summary.since:%Y-%m-%d %H:%M} "
        f"to {summary.until:%Y-%m-%d %H:%M} UTC in {summary.seconds:.1f} s "
        f"({rate:,.0f} rows/s); the aggregator rolls them up on its next runs"
    )
    return 0
