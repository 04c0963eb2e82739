"""GET /agent/metrics/health: public, reports rollup freshness, 503 without a database, no internals."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from freezegun import freeze_time
from sqlalchemy import Engine

from app import __version__
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from tests.metrics.traffic import insert_rows, roll_up, row

HEALTH = "/agent/metrics/health"
FIELDS = {"status", "database", "last_run_at", "as_of", "lag_seconds", "version"}


def test_fresh_rollups_are_ok_without_credentials(engine: Engine, client: TestClient) -> None:
    insert_rows(engine, [row(datetime.now(UTC))])
    roll_up(engine)
    response = client.get(HEALTH)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FIELDS
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["version"] == __version__
    assert 0 <= body["lag_seconds"] < 60
    assert datetime.fromisoformat(body["last_run_at"]) <= datetime.now(UTC)


def test_degraded_when_the_aggregator_has_not_run_for_several_intervals(
    engine: Engine, client: TestClient, settings: Settings
) -> None:
    roll_up(engine)
    interval = settings.rollup_interval_seconds
    with freeze_time(datetime.now(UTC) + timedelta(seconds=2 * interval), real_asyncio=True):
        assert client.get(HEALTH).json()["status"] == "ok"  # one missed run is not an alarm
    with freeze_time(datetime.now(UTC) + timedelta(seconds=10 * interval), real_asyncio=True):
        body = client.get(HEALTH).json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["lag_seconds"] >= 10 * interval - 1


def test_degraded_when_the_aggregator_never_ran(engine: Engine, client: TestClient) -> None:
    body = client.get(HEALTH).json()
    assert body["status"] == "degraded"
    assert body["last_run_at"] is None and body["lag_seconds"] is None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_503_without_a_database_and_no_internals(settings: Settings) -> None:
    port = _closed_port()
    dead = make_engine(f"postgresql+psycopg://postgres:s3cret@127.0.0.1:{port}/nowhere", pool_pre_ping=False)
    try:
        client = TestClient(create_app(settings, dead))  # no lifespan: nothing else touches the database
        response = client.get(HEALTH)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "down"
        assert body["database"] == "unreachable"
        assert set(body) == FIELDS
        for internal in ("127.0.0.1", str(port), "s3cret", "nowhere", "psycopg", "refused"):
            assert internal not in response.text
        # The staff endpoints say so too, as JSON (after authentication fails closed or succeeds).
        summary = client.get("/agent/metrics/summary")
        assert summary.status_code in (401, 503)
        assert "127.0.0.1" not in summary.text
    finally:
        dead.dispose()
