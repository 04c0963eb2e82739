"""HTTP face of the metrics API: parameters, auth and status codes. The figures come from queries.py.

The router needs only `app.state.engine` and `app.state.settings`, so it mounts on any FastAPI app:
`app.include_router(router)`. Rollup answers are shared between polls of the same clock minute and
rollup state (cache.py); the error drill-down reads raw rows and is never cached.
"""

# No `from __future__ import annotations` here: FastAPI may resolve string annotations lazily, at the
# first request, and under a patched clock (freezegun) `datetime` would then name the fake class.
import base64
import binascii
import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from app import __version__
from app.auth.deps import require_staff
from app.config import Settings
from app.metrics import queries
from app.metrics.cache import RollupReadCache
from app.metrics.schemas import AgentPage, ErrorPage, Health, Summary, Timeline
from app.metrics.windows import as_utc, utc_now
from rollups.watermark import WatermarkMissing, WatermarkState, read_watermark_state

log = logging.getLogger(__name__)

MAX_HOURS = 720
MAX_AGENT_PAGE = 500
MAX_ERROR_PAGE = 200
# The aggregator counts as stalled after this many missed intervals.
STALE_INTERVALS = 3

router = APIRouter(prefix="/agent/metrics", tags=["metrics"])


def only_params(*names: str) -> Callable[[Request], None]:
    """A dependency refusing query parameters other than `names`: a misspelt filter must not silently
    widen the answer to everything."""
    allowed = frozenset(names)

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            shown = ", ".join(name[:40] for name in unknown[:5])
            expected = ", ".join(sorted(allowed)) or "none"
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                detail=f"unknown query parameter(s): {shown}; allowed: {expected}",
            )

    return check


def read_connection(request: Request) -> Iterator[Connection]:
    """One snapshot per request: REPEATABLE READ so the figures of a response agree with each other even
    when an aggregator run commits halfway through. Read only; closing the connection rolls it back."""
    engine: Engine = request.app.state.engine
    try:
        conn = engine.connect()
    except SQLAlchemyError:
        log.warning("metrics read: database unreachable")
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="database unavailable") from None
    with conn:
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        yield conn


Conn = Annotated[Connection, Depends(read_connection)]
_cache_setup = threading.Lock()


def read_cache(request: Request) -> RollupReadCache:
    """The app's cache of rollup answers, made on first use (so any app that mounts the router has one)."""
    state = request.app.state
    with _cache_setup:
        if not hasattr(state, "metrics_read_cache"):
            state.metrics_read_cache = RollupReadCache()
    cache: RollupReadCache = state.metrics_read_cache
    return cache


Cache = Annotated[RollupReadCache, Depends(read_cache)]
Staff = [Depends(require_staff)]
Hours = Annotated[int, Query(ge=1, le=MAX_HOURS, description="Window length in hours (1-720).")]


@router.get("/summary", response_model=Summary, dependencies=[*Staff, Depends(only_params())])
def get_summary(conn: Conn, cache: Cache) -> Summary:
    """Usage at a glance. Windows slide with the clock, exact to the minute: the last N minutes are the
    current minute and the N - 1 before it. `total_requests` is all-time."""
    now = utc_now()
    return cache.read(conn, now, "summary", lambda: queries.summary(conn, now))


@router.get(
    "/agents",
    response_model=AgentPage,
    dependencies=[*Staff, Depends(only_params("hours", "limit", "offset"))],
)
def get_agents(
    conn: Conn,
    cache: Cache,
    hours: Hours = 24,
    limit: Annotated[int, Query(ge=1, le=MAX_AGENT_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AgentPage:
    """One entry per agent active in the last `hours` hours (sliding, exact to the minute)."""
    now = utc_now()
    return cache.read(
        conn, now, ("agents", hours, limit, offset), lambda: queries.agents(conn, now, hours, limit, offset)
    )


@router.get(
    "/timeline",
    response_model=Timeline,
    dependencies=[*Staff, Depends(only_params("hours", "agent_id", "endpoint", "method"))],
)
def get_timeline(
    conn: Conn,
    cache: Cache,
    hours: Hours = 24,
    agent_id: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    endpoint: Annotated[
        str | None, Query(min_length=1, max_length=255, description="Route template.")
    ] = None,
    method: Annotated[str | None, Query(min_length=1, max_length=10)] = None,
) -> Timeline:
    """One point per UTC clock hour, oldest first, ending with the current (partial) hour; hours without
    traffic are zero-filled. Filter by `agent_id`, or by `endpoint` and/or `method`."""
    if agent_id is not None and (endpoint is not None or method is not None):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail="agent_id cannot be combined with endpoint or method: rollups are kept per agent and "
            "per endpoint, not per agent and endpoint; filter by one of them",
        )
    filters = queries.TimelineFilter(
        agent_id=agent_id, endpoint=endpoint, method=method.upper() if method else None
    )
    now = utc_now()
    return cache.read(
        conn, now, ("timeline", hours, filters), lambda: queries.timeline(conn, now, hours, filters)
    )


def encode_cursor(key: tuple[datetime, int]) -> str:
    raw = json.dumps([key[0].isoformat(), key[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (timestamp, id) of the last row of the previous page; ValueError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        timestamp, row_id = json.loads(raw)
        moment = datetime.fromisoformat(timestamp)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError("malformed cursor") from exc
    if moment.tzinfo is None or type(row_id) is not int or not 0 < row_id < 2**63:
        raise ValueError("malformed cursor")
    return moment, row_id


@router.get(
    "/errors",
    response_model=ErrorPage,
    dependencies=[
        *Staff,
        Depends(
            only_params("status_code", "agent_id", "endpoint", "method", "since", "until", "cursor", "limit")
        ),
    ],
)
def get_errors(
    conn: Conn,
    status_code: Annotated[int | None, Query(ge=400, le=599)] = None,
    agent_id: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    endpoint: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    method: Annotated[str | None, Query(min_length=1, max_length=10)] = None,
    since: Annotated[datetime | None, Query(description="Inclusive; ISO 8601, UTC when no offset.")] = None,
    until: Annotated[datetime | None, Query(description="Exclusive; ISO 8601, UTC when no offset.")] = None,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ERROR_PAGE)] = 50,
) -> ErrorPage:
    """Raw error rows (status >= 400), newest first. Pass `next_cursor` back as `cursor` for the next
    page; rows that arrive meanwhile never make a page repeat or skip a row."""
    since = as_utc(since) if since else None
    until = as_utc(until) if until else None
    if since is not None and until is not None and since >= until:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="`since` must be earlier than `until`")
    try:
        after = decode_cursor(cursor) if cursor is not None else None
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="invalid cursor") from None
    filters = queries.ErrorFilter(
        status_code=status_code,
        agent_id=agent_id,
        endpoint=endpoint,
        method=method.upper() if method else None,
        since=since,
        until=until,
        after=after,
    )
    items, following = queries.errors(conn, filters, limit)
    return ErrorPage(items=items, next_cursor=encode_cursor(following) if following else None)


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database is unreachable."}},
    dependencies=[Depends(only_params())],
)
def get_health(request: Request, response: Response) -> Health:
    """Public: says whether the service can answer and how fresh its figures are, and nothing more
    (no error texts, hosts or versions of dependencies)."""
    engine: Engine = request.app.state.engine
    settings: Settings = request.app.state.settings
    try:
        with engine.connect() as conn:
            try:
                state: WatermarkState | None = read_watermark_state(conn)
            except WatermarkMissing:
                state = None  # a broken install: report it as degraded, not as a server error
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(
            status="down",
            database="unreachable",
            last_run_at=None,
            as_of=None,
            lag_seconds=None,
            version=__version__,
        )

    now = utc_now()
    as_of, last_run_at = (state.as_of, state.last_run_at) if state else (None, None)
    lag = max(0.0, (now - as_of).total_seconds()) if as_of else None
    stale_after = timedelta(seconds=STALE_INTERVALS * settings.rollup_interval_seconds)
    fresh = (
        last_run_at is not None
        and now - last_run_at <= stale_after
        and lag is not None
        and lag <= stale_after.total_seconds()
    )
    return Health(
        status="ok" if fresh else "degraded",
        database="ok",
        last_run_at=last_run_at,
        as_of=as_of,
        lag_seconds=None if lag is None else round(lag, 3),
        version=__version__,
    )
