"""What the real sentry-sdk sends to a real (local) receiver: crashes yes, secrets and 4xx never."""

from __future__ import annotations

import logging

import pytest
import sentry_sdk
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine

from app.config import Settings
from app.observability.sentry import init_sentry, traces_sampler
from rollups.scheduler import _run_job
from tests.observability.conftest import SentryReceiver, reset_sentry
from tests.observability.crash_app import CRASH_BODY, CRASH_HEADERS, CRASH_PATH, SECRETS, build_app


def _crash(client: TestClient) -> str:
    response = client.post(CRASH_PATH, headers=CRASH_HEADERS, json=CRASH_BODY)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    return response.headers["x-request-id"]


def test_agent_api_crash_is_one_event_tagged_with_request_id_and_free_of_secrets(
    sentry_settings: Settings, engine: Engine, sentry_receiver: SentryReceiver
) -> None:
    client = TestClient(build_app(sentry_settings, engine), raise_server_exceptions=False)
    request_id = _crash(client)
    sentry_sdk.flush(timeout=10)

    events = sentry_receiver.events()
    assert len(events) == 1
    event = events[0]
    assert event["tags"]["request_id"] == request_id
    assert event["tags"]["component"] == "app"
    assert event["environment"] == "test"
    assert event["release"] == sentry_settings.release
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    # Scrubbed, not dropped: the operator still sees which header and body fields were there.
    headers = {k.lower(): v for k, v in event["request"]["headers"].items()}
    assert headers["x-api-key"] == "[Filtered]"
    assert headers["authorization"] == "[Filtered]"
    assert headers["user-agent"] == "agent-sdk/1.2 (tests)"
    assert event["request"]["data"]["password"] == "[Filtered]"
    assert event["request"]["data"]["username"] == "agent-bot"
    assert "limit=5" in event["request"]["query_string"]
    assert "[Filtered]" in event["exception"]["values"][-1]["value"]
    assert all("vars" not in frame for frame in event["exception"]["values"][-1]["stacktrace"]["frames"])
    assert event["transaction"] == "/agent/v1/test-crash/{order_id}"
    crumbs = event["breadcrumbs"]["values"]
    [warning] = [crumb for crumb in crumbs if crumb.get("category") == "app.agent_api.test"]
    assert "[Filtered]" in warning["message"]
    assert not any(crumb.get("category") == "app.access" for crumb in crumbs)

    raw = sentry_receiver.raw()
    assert raw, "nothing reached the receiver"
    for secret in SECRETS:
        assert secret.encode() not in raw, f"{secret!r} reached Sentry"


def test_client_errors_are_not_events(
    sentry_settings: Settings, engine: Engine, sentry_receiver: SentryReceiver
) -> None:
    client = TestClient(build_app(sentry_settings, engine), raise_server_exceptions=False)
    assert client.get("/agent/v1/test-forbidden").status_code == 403
    assert client.get("/agent/v1/test-items/not-a-number").status_code == 422
    assert client.get("/agent/v1/no-such-route").status_code == 404
    assert client.post(CRASH_PATH, headers=CRASH_HEADERS, content=b"{not json").status_code == 422
    sentry_sdk.flush(timeout=10)
    assert sentry_receiver.events() == []


def test_failed_aggregator_run_becomes_an_event(
    sentry_settings: Settings, sentry_receiver: SentryReceiver
) -> None:
    assert init_sentry(sentry_settings, component="scheduler") is True
    # A database that refuses connections: the scheduler's real job fails the way an outage does.
    unreachable = create_engine(
        "postgresql+psycopg://am:pw-9911@127.0.0.1:1/nowhere", connect_args={"connect_timeout": 2}
    )
    try:
        _run_job(unreachable)  # the scheduler's job wrapper: it only logs, never raises
    finally:
        unreachable.dispose()
    sentry_sdk.flush(timeout=10)

    events = sentry_receiver.events()
    [run_failed] = [event for event in events if event["logentry"]["message"] == "rollup run failed"]
    assert run_failed["logger"] == "rollups.engine"
    assert run_failed["level"] == "error"
    assert run_failed["tags"]["component"] == "scheduler"
    assert run_failed["exception"]["values"][-1]["type"] == "OperationalError"
    assert b"pw-9911" not in sentry_receiver.raw()


def test_without_dsn_nothing_is_sent(
    settings: Settings, engine: Engine, sentry_receiver: SentryReceiver, caplog: object
) -> None:
    assert settings.sentry_dsn is None
    assert init_sentry(settings, component="app") is False
    client = TestClient(build_app(settings, engine), raise_server_exceptions=False)
    _crash(client)
    try:
        raise ValueError("aggregator broke")
    except ValueError:
        logging.getLogger("rollups.scheduler").exception("aggregator run failed")
    sentry_sdk.flush(timeout=2)
    assert not sentry_sdk.get_client().is_active()
    assert sentry_receiver.envelopes == []


def test_init_is_idempotent(sentry_settings: Settings, sentry_receiver: SentryReceiver) -> None:
    assert init_sentry(sentry_settings, component="app") is True
    client = sentry_sdk.get_client()
    assert init_sentry(sentry_settings, component="scheduler") is True
    assert sentry_sdk.get_client() is client
    assert client.should_send_default_pii() is False
    assert client.options["include_local_variables"] is False


def test_polling_is_never_traced(settings: Settings) -> None:
    sample = traces_sampler(settings.model_copy(update={"sentry_traces_sample_rate": 0.5}))
    for path in ("/agent/metrics/health", "/metrics", "/version", "/agent/metrics/summary"):
        assert sample({"asgi_scope": {"type": "http", "path": path}}) == 0.0
    assert sample({"asgi_scope": {"type": "http", "path": "/agent/v1/orders"}}) == 0.5
    # Behind a proxy prefix the same endpoints are the same polls.
    assert sample({"asgi_scope": {"type": "http", "path": "/proxy/metrics", "root_path": "/proxy"}}) == 0.0
    assert sample({"transaction_context": {"name": "rollups.run_once"}}) == 0.5


def test_empty_dsn_counts_as_unset(settings: Settings) -> None:
    assert init_sentry(settings.model_copy(update={"sentry_dsn": SecretStr("  ")}), component="app") is False


def test_sentry_disabled_is_said_once_per_start_up(
    settings: Settings,
    sentry_settings: Settings,
    sentry_receiver: SentryReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def disabled_lines() -> int:
        return sum("Sentry error tracking disabled" in r.getMessage() for r in caplog.records)

    assert init_sentry(sentry_settings, component="app") is True  # a start-up with Sentry on...
    reset_sentry()
    with caplog.at_level(logging.INFO, logger="app.observability.sentry"):
        # ...then one without: `python -m app` calls init_sentry, and create_app calls it again.
        assert init_sentry(settings, component="app") is False
        assert init_sentry(settings, component="app") is False
        assert disabled_lines() == 1
        assert init_sentry(sentry_settings, component="app") is True  # a change is said again
        reset_sentry()
        assert init_sentry(settings, component="app") is False
        assert disabled_lines() == 2
