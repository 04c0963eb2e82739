"""The aggregator's schedule (APScheduler 3): inside the app, or as its own process.

Every process that schedules it (one per app replica, plus any standalone scheduler) is safe: within a
process max_instances=1 keeps runs from overlapping, and across processes the watermark row lock makes a
second run skip. coalesce=True folds runs missed while one was slow into a single catch-up run.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from app.config import Settings
from rollups.engine import run_once
from rollups.purge import purge

log = logging.getLogger(__name__)

RUN_JOB_ID = "rollups.run_once"
PURGE_JOB_ID = "rollups.purge"
PURGE_INTERVAL = timedelta(hours=1)
# Not at start: a restarting replica should first catch up on rollups, and purges are not urgent.
PURGE_FIRST_DELAY = timedelta(minutes=5)


def _run_job(engine: Engine) -> None:
    # run_once logs its own failures with log.exception (and so reaches Sentry); suppressing here
    # keeps one failed run from being reported twice by APScheduler.
    with contextlib.suppress(Exception):
        run_once(engine)


def _purge_job(engine: Engine, retention_days: int) -> None:
    try:
        purge(engine, retention_days=retention_days)
    except Exception:
        log.exception("rollup purge failed")


def start_scheduler(settings: Settings, engine: Engine) -> BackgroundScheduler:
    """Start the schedule in a background thread; call `.shutdown()` on the result to stop it."""
    scheduler = BackgroundScheduler(timezone=UTC)
    now = datetime.now(UTC)
    scheduler.add_job(
        _run_job,
        "interval",
        seconds=settings.rollup_interval_seconds,
        args=[engine],
        id=RUN_JOB_ID,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=settings.rollup_interval_seconds,
        next_run_time=now,  # first run immediately: a restarted replica catches up at once
    )
    scheduler.add_job(
        _purge_job,
        "interval",
        seconds=PURGE_INTERVAL.total_seconds(),
        args=[engine, settings.raw_retention_days],
        id=PURGE_JOB_ID,
        max_instances=1,
        coalesce=True,
        next_run_time=now + PURGE_FIRST_DELAY,
    )
    scheduler.start()
    log.info("rollup scheduler started", extra={"interval_seconds": settings.rollup_interval_seconds})
    return scheduler


def run_standalone(settings: Settings, engine: Engine) -> None:
    """`python -m rollups scheduler`: the same schedule as its own process, until SIGTERM or Ctrl-C."""
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("rollup scheduler stopping", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    scheduler = start_scheduler(settings, engine)
    try:
        stop.wait()
    finally:
        scheduler.shutdown()  # waits for a run in progress to finish
