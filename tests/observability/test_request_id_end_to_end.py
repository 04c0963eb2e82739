"""One request, one id: the response header, the access log, the usage row and the Sentry event agree."""

from __future__ import annotations

import json

import pytest
import sentry_sdk
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.config import Settings
from tests.observability.conftest import SentryReceiver
from tests.observability.crash_app import CRASH_BODY, CRASH_HEADERS, CRASH_PATH, SECRETS, build_app


def test_crash_carries_one_request_id_everywhere(
    sentry_settings: Settings,
    engine: Engine,
    sentry_receiver: SentryReceiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = build_app(sentry_settings, engine)
    # The context manager runs the lifespan: the real usage writer starts, and stops (flushing) on exit.
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            CRASH_PATH, headers={**CRASH_HEADERS, "X-Request-ID": "trace-me-42"}, json=CRASH_BODY
        )
    sentry_sdk.flush(timeout=10)
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-me-42"

    [event] = sentry_receiver.events()
    assert event["tags"]["request_id"] == "trace-me-42"

    with engine.connect() as conn:
        query = "SELECT request_id, status_code, agent_id, error_message FROM agent_usage_logs"
        rows = conn.execute(text(query)).all()
    assert [(row.request_id, row.status_code, row.agent_id) for row in rows] == [
        ("trace-me-42", 500, "agent_crashy")
    ]
    assert not any(secret in (rows[0].error_message or "") for secret in SECRETS)

    out = capsys.readouterr().out
    access = [
        line
        for line in map(json.loads, out.splitlines())
        if line["logger"] == "app.access" and line["path"].startswith("/agent/v1/test-crash")
    ]
    assert [line["request_id"] for line in access] == ["trace-me-42"]
    for secret in SECRETS:
        assert secret not in out
