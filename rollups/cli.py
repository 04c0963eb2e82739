"""The command line: `python -m rollups run-once | backfill | verify | purge | scheduler`.

backfill and verify take `--since T --until T`, T an ISO 8601 time (`2026-12-01T00:00:00Z`) or a date
(its UTC midnight). Exit status: 0 on success, 1 when verify finds drift, 2 on bad arguments or a
refused backfill.
"""

from __future__ import annotations

import argparse
import logging
import sys

from app.config import get_settings
from app.db import get_engine
from app.observability.logging import configure_logging
from rollups.backfill import BackfillProgress, backfill
from rollups.engine import DEFAULT_WRITER_WAIT_MS, run_once
from rollups.purge import purge
from rollups.timeutil import parse_time
from rollups.verify import verify_range


def _time(value: str) -> object:
    try:
        return parse_time(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rollups", description="The rollup aggregator.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run-once", help="roll up the raw rows that are new since the last run")
    run.add_argument("--wait", action="store_true", help="wait for a run in progress instead of skipping")
    run.add_argument(
        "--writer-wait-ms",
        type=int,
        default=DEFAULT_WRITER_WAIT_MS,
        help="how long to wait for in-flight writers before skipping (default %(default)s)",
    )
    for name, text in (
        ("backfill", "recompute rollups from raw rows"),
        ("verify", "compare rollups with raw rows"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--since", type=_time, required=True, help="ISO 8601 time or date (UTC)")
        cmd.add_argument("--until", type=_time, required=True, help="ISO 8601 time or date (UTC), exclusive")
    purge_cmd = sub.add_parser("purge", help="delete raw rows older than RAW_RETENTION_DAYS (rollups kept)")
    purge_cmd.add_argument("--retention-days", type=int, default=None, help="default: RAW_RETENTION_DAYS")
    sub.add_parser("scheduler", help="run the aggregator schedule as its own process")
    return parser


def _print_progress(p: BackfillProgress) -> None:
    rate = p.total_rows / p.elapsed_s if p.elapsed_s > 0 else 0.0
    print(
        f"[{p.chunk_index}/{p.chunk_count}] "
        f"{p.chunk_since:%Y-%m-%dT%H:%MZ} .. {p.chunk_until:%Y-%m-%dT%H:%MZ}: "
        f"{p.chunk_rows:,} rows ({p.total_rows:,} total, {p.elapsed_s:.1f} s, {rate:,.0f} rows/s)",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = get_settings()
    from app.observability.sentry import init_sentry

    if args.command == "scheduler":
        from app.migrations import migrate
        from rollups.scheduler import run_standalone

        # A daemon: JSON logs on stdout at LOG_LEVEL (INFO by default), a line per run.
        configure_logging(settings)
        init_sentry(settings, "scheduler")
        engine = get_engine()
        migrate(engine)
        run_standalone(settings, engine)
        return 0

    # One-shot commands print their result for a person (or a cron mail) on stdout and backfill progress
    # on stderr; logs are the same JSON lines as the app's, on stderr, warnings and up only.
    configure_logging(settings, stream=sys.stderr)
    logging.getLogger().setLevel(logging.WARNING)
    init_sentry(settings, "rollups-cli")
    engine = get_engine()
    if args.command == "run-once":
        result = run_once(engine, wait=args.wait, writer_wait_ms=args.writer_wait_ms)
        detail = f"ids {result.from_id}..{result.to_id}" if result.to_id is not None else ""
        print(
            f"{result.status}: {result.rows_processed:,} rows {detail} in {result.duration_ms:.1f} ms"
            + (f" ({result.reason})" if result.reason else "")
        )
        return 0
    if args.command == "backfill":
        try:
            done = backfill(engine, args.since, args.until, progress=_print_progress)
        except ValueError as exc:  # bad range, or BackfillRefused (a ValueError): the range is purged
            print(f"backfill refused: {exc}", file=sys.stderr)
            return 2
        print(
            f"backfill {done.since:%Y-%m-%dT%H:%MZ} .. {done.until:%Y-%m-%dT%H:%MZ}: "
            f"{done.rows_processed:,} rows in {done.chunks} chunks, {done.duration_s:.1f} s"
        )
        return 0
    if args.command == "verify":
        drifts, checked = verify_range(engine, args.since, args.until)
        if checked.clamped_to_purge:
            print(f"note: raw rows before {checked.since:%Y-%m-%dT%H:%MZ} are purged; checking from there")
        for drift in drifts:
            print(drift)
        scope = (
            f"hours {checked.since:%Y-%m-%dT%H:%MZ} .. {checked.until:%Y-%m-%dT%H:%MZ}, minutes from "
            f"{checked.minute_since:%Y-%m-%dT%H:%MZ}, raw ids <= {checked.last_id}"
        )
        if drifts:
            print(f"DRIFT: {len(drifts)} difference(s) ({scope})")
            return 1
        print(f"no drift ({scope})")
        return 0
    if args.command == "purge":
        purged = purge(engine, retention_days=args.retention_days)
        print(
            f"purged raw rows before {purged.purged_before:%Y-%m-%dT%H:%MZ}: "
            f"{purged.raw_rows_deleted:,} raw rows, "
            f"{purged.minute_rows_deleted:,} minute rollup rows, {purged.runs_deleted:,} run records"
        )
        return 0
    return 2
