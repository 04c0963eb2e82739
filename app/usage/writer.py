"""The usage-row buffer between the Agent API and PostgreSQL.

Requests hand rows to `submit()`, which only appends to an in-memory deque under a lock held for a few
instructions: it never touches the network, never blocks on the database and never raises. A daemon
thread drains the buffer at least every `flush_interval_seconds` (sooner when a batch's worth is waiting)
with COPY over the engine's psycopg connection, one transaction per batch.

While the database is unreachable the rows stay buffered and the thread retries with exponential
backoff; they are written, in order, when it returns. The buffer is bounded by `max_rows` (rows being
written count against it). When it is full the OLDEST row is dropped and counted: after an outage the
rows that matter most are the recent ones, which describe the present that staff are looking at, while
the gap left in older history is bounded and visible in `stats()["dropped"]`. When the oldest rows are
in a batch being written at that moment, the drop is owed rather than done: if the write succeeds
nothing is lost, if it fails the owed number of rows is dropped from the front of that batch. So memory
holds at most `max_rows` plus one batch, and the rows kept are always the newest.
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
        self._in_flight = 0  # rows popped for the batch being written
        self._owed = 0  # drops of in-flight rows, settled when their write fails (forgiven if it succeeds)
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
                room = len(self._buffer) + self._in_flight - self._owed < self._max_rows
                if not room:
                    if self._owed < self._in_flight:  # the oldest rows are in flight: owe one of them
                        self._owed += 1
                    else:  # the buffer holds at least max_rows >= 1 rows here
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
                "buffered": len(self._buffer) + self._in_flight - self._owed,
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
                self._note_failure(exc)
                written, refused, complete = self._copy_one_by_one(batch)
                self._finish(written, dropped=refused)
                if not complete:
                    return False
            except Exception as exc:
                self._note_failure(exc)
                self._requeue(batch)
                return False
            else:
                self._finish(len(batch), dropped=0)

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

    def _copy_one_by_one(self, rows: Sequence[UsageRow]) -> tuple[int, int, bool]:
        """Isolate the rows the database refuses, so one bad row costs itself and not its batch.

        Returns (written, refused, complete); not complete when the database went away mid-way, in which
        case the rows not yet tried are back at the front of the buffer.
        """
        written = refused = 0
        for index, row in enumerate(rows):
            try:
                self._copy([row])
                written += 1
            except _DATA_ERRORS as exc:
                refused += 1
                log.error("usage row refused by the database and dropped: %s", type(exc).__name__)
            except Exception:
                self._requeue(rows[index:])
                return written, refused, False
        return written, refused, True

    def _requeue(self, rows: Sequence[UsageRow]) -> None:
        """Put unwritten rows back at the front, in order, first settling the drops owed on them."""
        with self._lock:
            settled = min(self._owed, len(rows))
            self._dropped += settled
            self._buffer.extendleft(reversed(rows[settled:]))
            self._in_flight = self._owed = 0

    def _finish(self, written: int, *, dropped: int) -> None:
        with self._lock:
            self._in_flight = self._owed = 0
            self._written += written
            self._dropped += dropped
            self._last_flush_at = time.time()
            recovered = self._failing and written > 0
            if recovered:
                self._failing = False
        if recovered:
            log.info("usage writer reaches the database again; buffered rows are being written")

    def _note_failure(self, exc: Exception) -> None:
        with self._lock:
            first, self._failing = not self._failing, True
            self._flush_failures += 1
            self._last_error = type(exc).__name__
        # The first failure of an outage is an event worth an alert; the retries after it are noise.
        if first:
            log.warning("usage writer cannot write to the database; rows stay buffered and are retried")
