"""GET /metrics: staff-only Prometheus text, parsed with prometheus_client's own parser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from app.agent_api.keys import create_agent
from app.auth.employees import create_employee
from app.auth.tokens import issue_access_token
from app.config import Settings
from app.main import create_app
from app.usage.writer import UsageWriter


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Iterator[FastAPI]:
    app = create_app(settings, engine)
    if getattr(app.state, "usage_writer", None) is None:
        app.state.usage_writer = UsageWriter(engine)  # not started: stats only
    yield app


def _staff_token(settings: Settings, engine: Engine) -> str:
    employee_id = create_employee(engine, "ops@example.com", "a long enough passphrase 42", "employee")
    return issue_access_token(settings.signing_secret(), employee_id, "employee", 600)


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def _seed_rollup_history(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rollup_runs "
                "(kind, started_at, finished_at, duration_ms, rows_processed, status) "
                "SELECT kind, now() - ago, now() - ago, duration_ms, rows_processed, status FROM (VALUES "
                "  ('incremental', interval '3 min', 900, 10, 'succeeded'),"
                "  ('incremental', interval '2 min', 20, 0, 'failed'),"
                "  ('incremental', interval '1 min', 1500, 42, 'succeeded'),"
                "  ('backfill', interval '1 hour', 4000, 7000, 'succeeded')"
                ") AS r (kind, ago, duration_ms, rows_processed, status)"
            )
        )
        conn.execute(
            text(
                "UPDATE rollup_watermark SET as_of = now() - interval '90 seconds' WHERE name = 'agent_usage'"
            )
        )


def test_metrics_need_a_staff_token(app: FastAPI, settings: Settings, engine: Engine) -> None:
    client = TestClient(app)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    agent_key = create_agent(engine, "agent_scraper")
    assert client.get("/metrics", headers={"X-API-Key": agent_key}).status_code == 403
    response = client.get("/metrics", headers={"Authorization": f"Bearer {_staff_token(settings, engine)}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


def test_metrics_report_writer_and_aggregator_state(app: FastAPI, settings: Settings, engine: Engine) -> None:
    _seed_rollup_history(engine)
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {_staff_token(settings, engine)}"}
    client.get("/version")
    client.get("/version")

    samples = _samples(client.get("/metrics", headers=headers).text)

    stats = app.state.usage_writer.stats()
    assert samples[("agent_metrics_usage_writer_buffered_rows", ())] == stats["buffered"]
    assert samples[("agent_metrics_usage_writer_written_rows_total", ())] == stats["written"]
    assert samples[("agent_metrics_usage_writer_dropped_rows_total", ())] == stats["dropped"]
    assert samples[("agent_metrics_usage_writer_flush_failures_total", ())] == stats["flush_failures"]

    assert samples[("agent_metrics_rollup_stats_up", ())] == 1
    incremental = (("kind", "incremental"),)
    assert samples[("agent_metrics_rollup_last_run_duration_seconds", incremental)] == 1.5
    assert samples[("agent_metrics_rollup_last_run_rows", incremental)] == 42
    assert samples[("agent_metrics_rollup_last_run_rows", (("kind", "backfill"),))] == 7000
    # A gauge of the records in rollup_runs (purge deletes old ones), so never a *_total counter.
    runs = "agent_metrics_rollup_runs_recorded"
    assert samples[(runs, (("kind", "incremental"), ("status", "succeeded")))] == 2
    assert samples[(runs, (("kind", "incremental"), ("status", "failed")))] == 1
    assert not any(name.startswith("agent_metrics_rollup_runs_total") for name, _ in samples)
    assert 89 <= samples[("agent_metrics_rollup_lag_seconds", ())] < 150
    assert samples[("agent_metrics_rollup_pending_rows", ())] == 0

    version_requests = (
        "agent_metrics_http_requests_total",
        (("method", "GET"), ("route", "/version"), ("status_code", "200")),
    )
    assert samples[version_requests] == 2
    assert (
        samples[
            ("agent_metrics_http_request_duration_seconds_count", (("method", "GET"), ("route", "/version")))
        ]
        == 2
    )


def test_metrics_can_be_made_public(settings: Settings, engine: Engine) -> None:
    client = TestClient(create_app(settings.model_copy(update={"metrics_public": True}), engine))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert ("agent_metrics_rollup_stats_up", ()) in _samples(response.text)


def test_two_apps_in_one_process_keep_separate_registries(settings: Settings, engine: Engine) -> None:
    public = settings.model_copy(update={"metrics_public": True})
    first, second = TestClient(create_app(public, engine)), TestClient(create_app(public, engine))
    first.get("/version")
    samples = _samples(second.get("/metrics").text)
    assert not any(
        name == "agent_metrics_http_requests_total" and ("route", "/version") in labels
        for name, labels in samples
    )


def test_purged_run_records_lower_the_recorded_runs_gauge(
    app: FastAPI, settings: Settings, engine: Engine
) -> None:
    _seed_rollup_history(engine)
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {_staff_token(settings, engine)}"}
    key = ("agent_metrics_rollup_runs_recorded", (("kind", "incremental"), ("status", "succeeded")))
    assert _samples(client.get("/metrics", headers=headers).text)[key] == 2
    with engine.begin() as conn:  # what purge does to old run records
        conn.execute(text("DELETE FROM rollup_runs WHERE started_at < now() - interval '150 seconds'"))
    body = client.get("/metrics", headers=headers).text
    assert _samples(body)[key] == 1
    [family] = [f for f in text_string_to_metric_families(body) if f.name == key[0]]
    assert family.type == "gauge"
