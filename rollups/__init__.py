"""The rollup engine: exact, incremental, concurrency-safe rollups of `agent_usage_logs`.

Plain functions that take an engine; the scheduler and the command line (`python -m rollups`) only
call them, and so do the tests.
"""

from rollups.backfill import BackfillProgress, BackfillRefused, BackfillResult, backfill
from rollups.engine import RunResult, run_once
from rollups.purge import PurgeResult, purge
from rollups.verify import Drift, verify

__all__ = [
    "BackfillProgress",
    "BackfillRefused",
    "BackfillResult",
    "Drift",
    "PurgeResult",
    "RunResult",
    "backfill",
    "purge",
    "run_once",
    "verify",
]
