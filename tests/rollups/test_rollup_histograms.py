"""Latency percentiles from the rollup histograms against percentile_disc over the raw rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from rollups import run_once
from tests.rollups.helpers import assert_no_drift, insert, row

START = datetime(2026, 5, 1, tzinfo=UTC)
# histogram_from_buckets exactly as 002_rollups.sql defines it; 004 replaced it with a faster loop.
_REFERENCE = """
CREATE FUNCTION pg_temp.reference_from_buckets(buckets integer[], counts bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_agg(coalesce(c.n, 0) ORDER BY g.k)
    FROM generate_series(0, (SELECT max(b) FROM unnest(buckets) AS b)) AS g(k)
    LEFT JOIN (SELECT b, sum(n)::bigint AS n FROM unnest(buckets, counts) AS u(b, n) GROUP BY b) AS c
        ON c.b = g.k
$$
"""


def test_percentiles_within_5_percent_of_percentile_disc(engine: Engine) -> None:
    rng = random.Random(7)
    rows = [
        row(
            timestamp=START + timedelta(minutes=rng.randint(0, 6 * 60 - 1)),
            agent_id=rng.choice(["a", "b", "c"]),
            response_time_ms=int(rng.lognormvariate(4.5, 1.2)) if rng.random() > 0.02 else None,
        )
        for _ in range(20_000)
    ]
    insert(engine, rows[:12_000])
    run_once(engine)
    insert(engine, rows[12_000:])
    run_once(engine)
    windows = [  # (agent filter, since, until, table)
        (None, START, START + timedelta(hours=6), "agent_usage_hourly_agent"),
        ("a", START + timedelta(hours=1), START + timedelta(hours=3), "agent_usage_hourly_agent"),
        ("b", START + timedelta(minutes=37), START + timedelta(minutes=95), "agent_usage_minute_agent"),
    ]
    with engine.connect() as conn:
        for agent, since, until, table in windows:
            for q in (0.5, 0.95, 0.99):
                params = {"a": agent, "s": since, "u": until, "q": q}
                estimate = conn.execute(
                    text(
                        f"SELECT histogram_quantile(histogram_sum(latency_histogram), :q) FROM {table}"
                        " WHERE (agent_id = :a OR CAST(:a AS text) IS NULL)"
                        " AND bucket_start >= :s AND bucket_start < :u"
                    ),
                    params,
                ).scalar_one()
                exact = conn.execute(
                    text(
                        "SELECT percentile_disc(:q) WITHIN GROUP (ORDER BY response_time_ms)"
                        " FROM agent_usage_logs WHERE (agent_id = :a OR CAST(:a AS text) IS NULL)"
                        ' AND "timestamp" >= :s AND "timestamp" < :u'
                    ),
                    params,
                ).scalar_one()
                assert exact > 0
                assert abs(estimate - exact) / exact <= 0.05, (agent, table, q, estimate, exact)
    assert_no_drift(engine)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pairs=st.lists(
        st.tuples(st.one_of(st.none(), st.integers(-2, 300)), st.one_of(st.none(), st.integers(0, 10**6))),
        max_size=30,
    )
)
def test_faster_histogram_from_buckets_matches_the_documented_definition(
    engine: Engine, pairs: list[tuple[int | None, int | None]]
) -> None:
    buckets = [b for b, _ in pairs]
    counts = [c for _, c in pairs]
    with engine.connect() as conn:
        conn.execute(text(_REFERENCE))
        fast, reference = conn.execute(
            text(
                "SELECT histogram_from_buckets(CAST(:b AS integer[]), CAST(:c AS bigint[])),"
                " pg_temp.reference_from_buckets(CAST(:b AS integer[]), CAST(:c AS bigint[]))"
            ),
            {"b": buckets, "c": counts},
        ).one()
        conn.rollback()
    # The reference pads buckets below 0 out and counts a NULL count as 0 in a bucket it creates.
    assert fast == reference or (reference is not None and fast is None and not any(reference))


_REFERENCE_ADD = """
CREATE FUNCTION pg_temp.reference_add(a bigint[], b bigint[]) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN a IS NULL THEN b
        WHEN b IS NULL THEN a
        ELSE (SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i)
              FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i))
    END
$$
"""
histograms = st.one_of(st.none(), st.lists(st.integers(0, 10**9), min_size=1, max_size=40))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=histograms, b=histograms)
def test_faster_histogram_add_matches_the_documented_definition(
    engine: Engine, a: list[int] | None, b: list[int] | None
) -> None:
    with engine.connect() as conn:
        conn.execute(text(_REFERENCE_ADD))
        fast, reference = conn.execute(
            text(
                "SELECT histogram_add(CAST(:a AS bigint[]), CAST(:b AS bigint[])),"
                " pg_temp.reference_add(CAST(:a AS bigint[]), CAST(:b AS bigint[]))"
            ),
            {"a": a, "b": b},
        ).one()
        conn.rollback()
    assert fast == reference
