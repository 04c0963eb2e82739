"""`make bench` keeps working: the metrics and rollup benchmarks run end to end at a tiny size.

Nothing here is timed; it only proves the benchmark code still fits the code it measures (a changed
response model or function signature breaks a benchmark long before anyone runs `make bench`).
"""

import os
import subprocess
import sys

from app.config import REPO_ROOT

TINY = {
    "BENCH_METRICS_SIZES": "3000",
    "BENCH_METRICS_DAYS": "2",
    "BENCH_METRICS_REPEAT": "2",
    "BENCH_METRICS_BASELINE_REPEAT": "1",
    "BENCH_ROLLUPS_NEW_ROWS": "500",
    "BENCH_ROLLUPS_TABLE_SIZES": "2000,4000",
}


def test_metrics_and_rollup_benchmarks_print_their_table(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "metrics", "rollups"],
        env=os.environ | TINY,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    for case in ("summary, polled (rollups + cache)", "summary, raw-scan baseline", "empty run", "backfill"):
        assert case in table
