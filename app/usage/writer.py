"""The usage-row buffer between the Agent API and PostgreSQL.

Requests hand rows to `submit()`, which only appends to an in-memory deque under a lock held for a few
instructions: it never touches the network, never blocks on the database and never raises. A daemon
thread drains the buffer at least every `flush_interval_seconds` (sooner when a batch's worth is waiting)
with COPY over the engine's psycopg connection, one transaction per batch.

While the database is unreachable the rows stay buffered and the thread retries with exponential
backoff; they are written, in order, when it returns.

The bound: the deque of pending rows never holds more than `max_rows`. When it is full, `submit()` drops
its OLDEST row and counts it; a batch that could not be written goes back to the front of the deque, and
whatever then exceeds `max_rows` is dropped from the front the same way. The oldest rows go because after
an outage the rows that matter most are the recent ones, which describe the present that staff are looking
at, while the gap left in older history is bounded and visible in `stats()["dropped"]`. Rows of the batch
being written (at most `batch_rows`) are not counted against the bound, so memory holds at most
`max_rows + batch_rows` rows; `stats()["buffered"]` counts both, i.e. every row not yet written.

A row the database refuses (a data error: retrying it would fail forever) costs only itself: the batch is
split in halves until the refused rows are isolated, and one warning per batch says how many were dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence

import psycopg
from sqlalchemy import Engine

from app.config import Settings
from app.usage.row import COLUMNS, UsageRow

log = logging.getLogger(__name__)

_QUOTED_COLUMNS = ", ".join(f'"{column}"' for column in COLUMNS)
_COPY_SQL = f"COPY agent_usage_logs ({_QUOTED_COLUMNS}) FROM STDIN"
# Errors caused by the rows themselves: retrying the same batch would fail forever.
_DATA_ERRORS: tuple[type[Exception], ...] = (psycopg.DataError, psycopg.IntegrityError)


class UsageWriter:
    def __init__(
        self,
        engine: Engine,
        *,
        max_rows: int = 100_000,
        flush_interval_seconds: float = 1.0,
        batch_rows: int = 5_000,
        max_backoff_seconds: float = 30.0,
        stop_timeout_seconds: float = 10.0,
    ) -> None:
        if max_rows < 1 or batch_rows < 1 or flush_interval_seconds <= 0:
            raise ValueError("max_rows, batch_rows and flush_interval_seconds must be positive")
        self._engine = engine
        self._max_rows = max_rows
        self._interval = flush_interval_seconds
        self._batch_rows = min(batch_rows, max_rows)
        self._max_backoff = max(max_backoff_seconds, flush_interval_seconds)
        self._stop_timeout = stop_timeout_seconds

        self._lock = threading.Lock()
        self._buffer: deque[UsageRow] = deque()
        self._in_flight = 0  # rows of the batch being written, not yet written, refused or put back
        self._written = 0
        self._dropped = 0
        self._flush_failures = 0
        self._last_error: str | None = None
        self._failing = False
        self._last_flush_at: float | None = None

        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> UsageWriter:
        return cls(
            engine,
            max_rows=settings.usage_buffer_max_rows,
            flush_interval_seconds=settings.usage_flush_interval_seconds,
        )

    # -- the request path ---------------------------------------------------------------------------

    def submit(self, row: UsageRow) -> bool:
        """Buffer one row. Never blocks on I/O, never raises; False when an older row has to make room."""
        try:
            with self._lock:
                room = len(self._buffer) < self._max_rows
                if not room:
                    self._buffer.popleft()
                    self._dropped += 1
                self._buffer.append(row)
                wake = len(self._buffer) == self._batch_rows
            if wake:
                self._wake.set()
            return room
        except Exception:  # pragma: no cover - defensive: a usage row must never fail a request
            return False

    def stats(self) -> dict[str, int | float | str | None]:
        with self._lock:
            return {
                "buffered": len(self._buffer) + self._in_flight,
                "written": self._written,
                "dropped": self._dropped,
                "flush_failures": self._flush_failures,
                "max_rows": self._max_rows,
                "last_error": self._last_error,
                "last_flush_at": self._last_flush_at,
            }

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="usage-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write everything buffered, then end the thread.

        If the database stays unreachable for `stop_timeout_seconds`, what is left is counted as dropped
        and logged: shutdown must finish.
        """
        thread, self._thread = self._thread, None
        self._stopping.set()
        self._wake.set()
        if thread is not None:
            thread.join(self._stop_timeout + 5)
            if thread.is_alive():
                log.error("usage writer did not stop within %.0f s", self._stop_timeout + 5)
                return
        else:
            self._drain_before_exit()

    # -- the background thread ----------------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.0
        while not self._stopping.is_set():
            if self._flush_all():
                backoff = 0.0
                self._wake.wait(self._interval)
                self._wake.clear()
            else:
                # A full buffer wakes `_wake`; during an outage only the backoff or stop() may end the wait,
                # so load cannot turn retries into a tight loop against a database that is down.
                backoff = min(self._max_backoff, backoff * 2 if backoff else self._interval)
                self._stopping.wait(backoff)
        self._drain_before_exit()

    def _drain_before_exit(self) -> None:
        deadline = time.monotonic() + self._stop_timeout
        pause = min(self._interval, 0.1)
        while not self._flush_all():
            if time.monotonic() >= deadline:
                with self._lock:
                    lost = len(self._buffer)
                    self._buffer.clear()
                    self._dropped += lost
                log.error("usage writer stopped with the database unreachable; %d rows dropped", lost)
                return
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _flush_all(self) -> bool:
        """Write batches until the buffer is empty. False when the database could not be reached."""
        while True:
            with self._lock:
                if not self._buffer:
                    return True
                count = min(self._batch_rows, len(self._buffer))
                batch = [self._buffer.popleft() for _ in range(count)]
                self._in_flight = count
            try:
                self._copy(batch)
            except _DATA_ERRORS as exc:
                if not self._write_isolating_refused(batch, exc):
                    return False
            except Exception as exc:
                self._requeue(batch)
                self._note_outage(exc)
                return False
            else:
                self._settle(written=len(batch))

    def _copy(self, rows: Sequence[UsageRow]) -> None:
        raw = self._engine.raw_connection()
        try:
            conn = raw.driver_connection
            assert isinstance(conn, psycopg.Connection)
            with conn.cursor() as cur, cur.copy(_COPY_SQL) as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
        except BaseException:
            # The connection may be half-way through a COPY or dead; never hand it back to the pool.
            raw.invalidate()
            raise
        finally:
            raw.close()

    def _write_isolating_refused(self, batch: Sequence[UsageRow], first_error: Exception) -> bool:
        """Write a batch the database refused, minus the rows it refuses: one bad row costs only itself.

        The batch is bisected: each half is copied on its own, and only a half that fails again is split
        further, so k bad rows among n cost about 2*k*log2(n) small transactions instead of n. The
        refused rows are dropped and reported in ONE warning per batch (a count and the error types, never
        row contents: they may hold client data), below the level that makes Sentry events.

        False when the database went away mid-way; the rows not yet written are then back at the front of
        the buffer.
        """
        with self._lock:
            self._flush_failures += 1
            self._last_error = type(first_error).__name__
        refused = 0
        reasons = {type(first_error).__name__}
        # Segments still to try; the last one is the oldest, so rows are written in their order.
        pending = _halves(batch)
        reachable = True
        while pending:
            segment = pending.pop()
            try:
                self._copy(segment)
            except _DATA_ERRORS as exc:
                reasons.add(type(exc).__name__)
                if len(segment) == 1:
                    refused += 1
                    self._settle(refused=1)
                else:
                    pending += _halves(segment)
            except Exception as exc:
                self._requeue([row for rows in (segment, *reversed(pending)) for row in rows])
                self._note_outage(exc)
                reachable = False
                break
            else:
                self._settle(written=len(segment))
        if refused:
            log.warning(
                "usage writer: %d of %d rows in a batch refused by the database and dropped (%s)",
                refused,
                len(batch),
                ", ".join(sorted(reasons)),
            )
        return reachable

    def _requeue(self, rows: Sequence[UsageRow]) -> None:
        """Put unwritten rows back at the front, in order; beyond `max_rows`, the oldest are dropped."""
        with self._lock:
            self._in_flight -= len(rows)
            self._buffer.extendleft(reversed(rows))
            excess = len(self._buffer) - self._max_rows
            for _ in range(excess):
                self._buffer.popleft()
            self._dropped += max(excess, 0)

    def _settle(self, *, written: int = 0, refused: int = 0) -> None:
        """Rows of the batch in flight that are done with: written, or refused and dropped."""
        with self._lock:
            self._in_flight -= written + refused
            self._written += written
            self._dropped += refused
            recovered = self._failing and written > 0
            if written:
                self._last_flush_at = time.time()
                self._failing = False
        if recovered:
            log.info("usage writer reaches the database again; buffered rows are being written")

    def _note_outage(self, exc: Exception) -> None:
        with self._lock:
            first, self._failing = not self._failing, True
            self._flush_failures += 1
            self._last_error = type(exc).__name__
        # The first failure of an outage is an event worth an alert; the retries after it are noise.
        if first:
            log.warning("usage writer cannot write to the database; rows stay buffered and are retried")


def _halves(rows: Sequence[UsageRow]) -> list[Sequence[UsageRow]]:
    """The two halves of a segment, newer first (they go on a stack); a single row is its own half."""
    middle = len(rows) // 2
    return [rows[middle:], rows[:middle]] if len(rows) > 1 else [rows]
