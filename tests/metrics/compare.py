"""Comparing an API answer with the truth from raw rows: exact everywhere except percentiles."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

PERCENTILE_TOLERANCE = 0.05


def _is_percentile(key: str) -> bool:
    return key.startswith(("p50_", "p95_", "p99_"))


def assert_same(actual: Any, expected: Any, path: str = "") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} missing"
            if _is_percentile(key) and value is not None:
                got = actual[key]
                assert got is not None, f"{path}.{key}"
                assert abs(Decimal(got) - Decimal(value)) <= Decimal(str(PERCENTILE_TOLERANCE)) * abs(
                    Decimal(value)
                ), f"{path}.{key}: {got} vs exact {value}"
            else:
                assert_same(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{path}: {actual} vs {expected}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{path}[{i}]")
    elif isinstance(expected, datetime):
        assert datetime.fromisoformat(actual) == expected, f"{path}: {actual} vs {expected}"
    elif isinstance(expected, float):
        # Rates and averages: both sides round the same exact ratio to two decimals.
        assert actual == Decimal(str(expected)), f"{path}: {actual} vs {expected}"
    elif isinstance(expected, Decimal):
        # Money: the JSON text must be the exact sum to the cent.
        assert isinstance(actual, (Decimal, int)) and Decimal(actual) == expected, (
            f"{path}: {actual} vs {expected}"
        )
    else:
        assert actual == expected, f"{path}: {actual!r} vs {expected!r}"
