"""The rollup SQL comes in near-identical pairs, kept as separate files so an analyst can read and run
each one by hand. These tests pin down how each pair differs: the first file, rewritten by the listed
rules (each applied exactly the listed number of times), must give the second file's statements line for
line. A change made to one file of a pair and not the other fails here instead of drifting silently."""

from __future__ import annotations

import re

import pytest

from rollups.sqlfiles import SQL_DIR

Rule = tuple[str, str, int]  # regular expression, replacement, number of matches expected

_HOUR_BUCKET = r"date_trunc('hour', \g<alias>.bucket_start, 'UTC') AS bucket_start"
PAIRS: dict[tuple[str, str], list[Rule]] = {
    # The grain: the minute tables take the staged minute as it is, the hourly ones truncate it.
    ("merge_minute", "merge_hourly"): [
        (r"\bagent_usage_minute_", "agent_usage_hourly_", 3),
        # The grouping subqueries (the outer SELECTs read their already truncated bucket_start).
        (r"(?m)^        (?P<alias>c)\.bucket_start(?=, c\.)", "        " + _HOUR_BUCKET, 2),
        (r"SELECT (?P<alias>s)\.bucket_start(?=, s\.)", "SELECT " + _HOUR_BUCKET, 2),
        (r"SELECT (?P<alias>c)\.bucket_start(?=, c\.status_code)", "SELECT " + _HOUR_BUCKET, 1),
    ],
    # Which raw rows: ids after the watermark, or a time range up to it.
    ("stage_new_rows", "stage_time_range"): [
        (
            re.escape("WHERE l.id > :from_id AND l.id <= :to_id"),
            'WHERE l."timestamp" >= :since AND l."timestamp" < :until AND l.id <= :to_id',
            2,
        ),
    ],
    # The key: agent_id, or endpoint + method.
    ("verify_agent", "verify_endpoint"): [
        (r"\b(agent_usage_(?:hourly|minute))_agent\b", r"\1_endpoint", 4),
        (
            re.escape("coalesce(l.agent_id, 'unknown') AS agent_id,"),
            "coalesce(l.endpoint, 'unknown') AS endpoint,\n"
            "           coalesce(l.method, 'unknown') AS method,",
            1,
        ),
        (r"GROUP BY 1, 2, 3\n", "GROUP BY 1, 2, 3, 4\n", 1),
        (
            re.escape("coalesce(r.agent_id, x.agent_id) AS key,"),
            "coalesce(r.method, x.method) || ' ' || coalesce(r.endpoint, x.endpoint) AS key,",
            1,
        ),
        (
            re.escape("AND x.agent_id = r.agent_id"),
            "AND x.endpoint = r.endpoint AND x.method = r.method",
            1,
        ),
    ],
}


def code_lines(name: str) -> str:
    """The file's statements without whole-line comments (which the loader drops too)."""
    lines = (SQL_DIR / f"{name}.sql").read_text().splitlines()
    return "\n".join(line.rstrip() for line in lines if not line.lstrip().startswith("--")) + "\n"


@pytest.mark.parametrize(("first", "second"), list(PAIRS), ids=lambda name: name)
def test_each_pair_differs_only_in_its_expected_lines(first: str, second: str) -> None:
    rewritten = code_lines(first)
    for pattern, replacement, expected in PAIRS[(first, second)]:
        rewritten, found = re.subn(pattern, replacement, rewritten)
        assert found == expected, f"{first}.sql: {pattern!r} matched {found} times, expected {expected}"
    assert rewritten == code_lines(second), (
        f"{first}.sql and {second}.sql differ beyond their expected lines; change both the same way"
    )


def test_a_one_sided_change_is_caught() -> None:
    """The check above can fail: an edit to one file only of a pair is not matched by its rules."""
    rules = PAIRS[("merge_minute", "merge_hourly")]
    edited = code_lines("merge_minute").replace(
        "r.order_count + excluded.order_count", "excluded.order_count"
    )
    for pattern, replacement, _ in rules:
        edited = re.sub(pattern, replacement, edited)
    assert edited != code_lines("merge_hourly")
