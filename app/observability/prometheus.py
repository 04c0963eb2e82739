"""GET /metrics: the service's own health in Prometheus text format.

Each app gets its own CollectorRegistry (not prometheus_client's global one), so several apps in one
process (tests, the CLI) never clash over metric names. Writer and aggregator figures are read at scrape
time, so the endpoint shows the truth even when the aggregator runs in another process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from app.config import Settings
from app.usage.row import UNMATCHED_ENDPOINT
from rollups.watermark import read_watermark_state

log = logging.getLogger(__name__)

PREFIX = "agent_metrics"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_RUNS_BY_STATUS = text("SELECT kind, status, count(*) AS run_count FROM rollup_runs GROUP BY kind, status")
_LAST_FINISHED_RUN = text(
    "SELECT DISTINCT ON (kind) kind, duration_ms, rows_processed, "
    "extract(epoch FROM finished_at) AS finished_epoch "
    "FROM rollup_runs WHERE finished_at IS NOT NULL ORDER BY kind, started_at DESC"
)
# The newest raw id: a backward scan of the primary key, one index page.
_NEWEST_RAW_ID = text("SELECT coalesce(max(id), 0) FROM agent_usage_logs")


class RequestMetrics:
    """Request count and latency of this service, by route template (bounded cardinality)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests served, by method, route template and status code.",
            ["method", "route", "status_code"],
            registry=registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Time from request start to the end of the response, by method and route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )

    def observe(self, method: str, route: str | None, status_code: int, seconds: float) -> None:
        # Unmatched paths are client-chosen: one label value for all of them, the usage rows' own.
        route_label = route or UNMATCHED_ENDPOINT
        self.requests.labels(method, route_label, str(status_code)).inc()
        self.latency.labels(method, route_label).observe(seconds)


class ServiceCollector(Collector):
    """Usage-writer and aggregator figures, collected at scrape time."""

    def __init__(self, writer_stats: Callable[[], Mapping[str, Any] | None], engine: Engine) -> None:
        self._writer_stats = writer_stats
        self._engine = engine

    def collect(self) -> Iterable[Metric]:
        yield from self._usage_writer()
        yield from self._rollups()

    def _usage_writer(self) -> Iterable[Metric]:
        stats = self._writer_stats()
        if stats is None:
            return
        yield _gauge("usage_writer_buffered_rows", "Usage rows waiting in memory.", stats.get("buffered"))
        yield _counter(
            "usage_writer_written_rows", "Usage rows written to the database.", stats.get("written")
        )
        yield _counter(
            "usage_writer_dropped_rows",
            "Usage rows dropped: buffer full, refused by the database, or unwritable at shutdown.",
            stats.get("dropped"),
        )
        yield _counter(
            "usage_writer_flush_failures",
            "Flushes that failed and were retried.",
            stats.get("flush_failures"),
        )

    def _rollups(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_rollup_stats_up", "1 when the rollup tables could be read.")
        try:
            with self._engine.connect() as conn:
                runs = conn.execute(_RUNS_BY_STATUS).all()
                last = conn.execute(_LAST_FINISHED_RUN).all()
                watermark = read_watermark_state(conn)
                newest_raw_id = int(conn.execute(_NEWEST_RAW_ID).scalar_one())
        except Exception:  # a scrape must not fail because the database is down; say so instead
            log.warning("could not read rollup state for /metrics", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        # A gauge, not a counter: purge deletes old run records, so this number falls, and Prometheus would
        # read a falling counter as a restart. Counting runs in-process instead would miss every run made
        # by the standalone scheduler or another replica; the table sees them all.
        by_status = GaugeMetricFamily(
            f"{PREFIX}_rollup_runs_recorded",
            "Aggregator runs currently recorded in rollup_runs (purge removes old ones), by kind and status.",
            labels=["kind", "status"],
        )
        for row in runs:
            by_status.add_metric([row.kind, row.status], row.run_count)
        yield by_status

        duration = GaugeMetricFamily(
            f"{PREFIX}_rollup_last_run_duration_seconds",
            "Duration of the last finished run.",
            labels=["kind"],
        )
        rows = GaugeMetricFamily(
            f"{PREFIX}_rollup_last_run_rows", "Raw rows processed by the last finished run.", labels=["kind"]
        )
        finished = GaugeMetricFamily(
            f"{PREFIX}_rollup_last_run_finished_timestamp_seconds",
            "Unix time the last run finished.",
            labels=["kind"],
        )
        for row in last:
            if row.duration_ms is not None:
                duration.add_metric([row.kind], float(row.duration_ms) / 1000.0)
            rows.add_metric([row.kind], float(row.rows_processed))
            finished.add_metric([row.kind], float(row.finished_epoch))
        yield from (duration, rows, finished)

        if watermark.as_of is not None:
            yield _gauge(
                "rollup_lag_seconds",
                "Age of the rollups' 'data as of' time (now minus the watermark).",
                (datetime.now(UTC) - watermark.as_of).total_seconds(),
            )
        yield _gauge(
            "rollup_pending_rows",
            "Raw rows above the watermark, not yet rolled up.",
            max(newest_raw_id - watermark.last_id, 0),
        )


def _gauge(name: str, doc: str, value: Any) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=float(value or 0))


def _counter(name: str, doc: str, value: Any) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", doc, value=float(value or 0))


def build_registry(app_state: Any, engine: Engine) -> tuple[CollectorRegistry, RequestMetrics]:
    """A fresh registry for one app; the writer is looked up at scrape time (it starts in the lifespan)."""

    def writer_stats() -> Mapping[str, Any] | None:
        writer = getattr(app_state, "usage_writer", None)
        return writer.stats() if writer is not None else None

    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(writer_stats, engine))
    return registry, RequestMetrics(registry)


def metrics_router(settings: Settings) -> APIRouter:
    """GET /metrics: staff-only unless METRICS_PUBLIC is set (say, only a scraper can reach the port)."""
    dependencies = []
    if not settings.metrics_public:
        from app.auth.deps import require_staff

        dependencies.append(Depends(require_staff))
    router = APIRouter(tags=["service"], dependencies=dependencies)

    @router.get("/metrics", response_class=Response, include_in_schema=False)
    def metrics(request: Request) -> Response:
        registry: CollectorRegistry = request.app.state.metrics_registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
