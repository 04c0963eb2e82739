"""Randomized traffic: any mix of rows, NULLs, late timestamps, runs and backfills ends with zero drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from rollups import backfill, run_once
from tests.conftest import _truncate_all
from tests.rollups.helpers import assert_no_drift, insert, raw_count, rollup_totals, row

# Recent, so the rows straddle the 8-day minute horizon: both paths of backfill are exercised.
BASE = datetime.now(UTC).replace(microsecond=0)

raw_rows = st.builds(
    lambda agent, endpoint, method, status, latency, order, amount, offset: row(
        agent_id=agent,
        endpoint=endpoint,
        method=method,
        status_code=status,
        response_time_ms=latency,
        order_id=order,
        order_amount=amount,
        timestamp=BASE - timedelta(seconds=offset),
    ),
    st.one_of(st.none(), st.sampled_from(["a1", "a2", "x" * 50])),
    st.one_of(st.none(), st.sampled_from(["/agent/v1/orders", "/agent/v1/orders/{order_id}", "<unmatched>"])),
    st.one_of(st.none(), st.sampled_from(["GET", "POST"])),
    st.one_of(st.none(), st.sampled_from([100, 200, 399, 400, 404, 499, 500, 503])),
    st.one_of(st.none(), st.integers(min_value=-5, max_value=120_000)),
    st.one_of(st.none(), st.just("o-1")),
    st.one_of(st.none(), st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99999999.99"), places=2)),
    st.integers(min_value=0, max_value=10 * 24 * 3600),  # up to ten days late
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.lists(raw_rows, min_size=1, max_size=25)),
        st.tuples(st.just("run"), st.none()),
        st.tuples(st.just("backfill"), st.integers(min_value=0, max_value=10)),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=steps)
def test_random_traffic_runs_and_backfills_leave_zero_drift(
    engine: Engine, script: list[tuple[str, object]]
) -> None:
    _truncate_all(engine)
    for action, arg in script:
        if action == "insert":
            insert(engine, arg)  # type: ignore[arg-type]
        elif action == "run":
            run_once(engine)
        else:
            day = BASE - timedelta(days=arg)  # type: ignore[operator]
            backfill(engine, day - timedelta(hours=30), day)
        assert_no_drift(engine)
    run_once(engine)
    hourly = {t: n for t, n in rollup_totals(engine).items() if "hourly" in t}
    assert set(hourly.values()) == {raw_count(engine)}
    assert_no_drift(engine)
