"""Answers computed from rollups, shared by the requests of one process while nothing can change them.

The monitoring page polls the summary every 30 s from every open browser. Between two aggregator runs,
and within one clock minute (the windows' resolution), every poll would compute the same answer, so
the first computes it and the others reuse it. The key holds the clock minute and the rollup state:
the newest `rollup_runs` id (every change to the rollup tables — incremental run, backfill chunk,
purge — records a run in the same transaction, while holding the watermark lock, so run ids follow
commit order) and `rollup_watermark.as_of`. It is read in the request's own snapshot, before the
figures, so a cached answer always belongs to the state its key names.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection

from app.metrics.windows import floor_minute
from rollups.watermark import read_watermark_state

T = TypeVar("T")


class RollupReadCache:
    def __init__(self, max_entries: int = 256) -> None:
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def read(self, conn: Connection, now: datetime, request: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` (which must read through `conn`, after this call's state query), or the answer it
        gave for the same `request`, clock minute and rollup state."""
        state = read_watermark_state(conn)
        key = (request, floor_minute(now), state.last_run_id, state.as_of)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]  # type: ignore[return-value]
        # Computed outside the lock: a slow answer must not hold up other requests. Two requests that
        # miss together both compute; they get the same figures, and the second simply replaces the first.
        value = compute()
        with self._lock:
            self.misses += 1
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return value
