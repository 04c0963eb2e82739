"""The JSON access log and request ids, read from the process's real stdout."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.observability.logging import configure_logging
from tests.observability.crash_app import CRASH_BODY, CRASH_HEADERS, CRASH_PATH, SECRETS, build_app


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _access(lines: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "app.access" and line["path"] == path]


def test_every_request_is_one_json_line_with_its_fields(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(build_app(settings, engine))
    response = client.get("/agent/v1/test-items/7", headers={"X-Request-ID": "client-req-0001"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "client-req-0001"

    lines = _lines(capsys.readouterr().out)
    [line] = _access(lines, "/agent/v1/test-items/7")
    assert line["method"] == "GET"
    assert line["status_code"] == 200
    assert line["route"] == "/agent/v1/test-items/{item_id}"
    assert line["request_id"] == "client-req-0001"
    assert line["agent_id"] == "agent_42"
    assert line["user_agent"] == "testclient"
    assert line["client_ip"] == "testclient"
    assert line["level"] == "INFO"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["timestamp"].endswith("+00:00")
    # Application log lines of the same request carry its id without being told.
    [app_line] = [line for line in lines if line["message"] == "looked up item"]
    assert app_line["request_id"] == "client-req-0001"


@pytest.mark.parametrize(
    "client_value", ["", "has spaces in it", "x" * 65, "id\u00e9", "a;rm -rf", '{"json":1}']
)
def test_unsafe_client_request_id_is_replaced(
    settings: Settings, engine: Engine, client_value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(build_app(settings, engine))
    response = client.get("/agent/v1/test-items/1", headers={"X-Request-ID": client_value.encode()})
    request_id = response.headers["x-request-id"]
    assert request_id != client_value
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    [line] = _access(_lines(capsys.readouterr().out), "/agent/v1/test-items/1")
    assert line["request_id"] == request_id


def test_generated_request_ids_differ(settings: Settings, engine: Engine) -> None:
    client = TestClient(build_app(settings, engine))
    ids = {client.get("/version").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_crash_is_logged_without_any_secret_of_the_request(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(build_app(settings, engine), raise_server_exceptions=False)
    response = client.post(CRASH_PATH, headers=CRASH_HEADERS, json=CRASH_BODY)
    assert response.status_code == 500

    out = capsys.readouterr().out
    lines = _lines(out)
    [line] = _access(lines, "/agent/v1/test-crash/order_17")
    assert line["status_code"] == 500
    assert line["route"] == "/agent/v1/test-crash/{order_id}"
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["agent_id"] == "agent_crashy"
    assert line["user_agent"] == "agent-sdk/1.2 (tests)"
    assert "?" not in line["path"]
    # The route's own careless warning is there, scrubbed, with the request id.
    [warning] = [entry for entry in lines if entry["logger"] == "app.agent_api.test"]
    assert "[Filtered]" in warning["message"]
    assert warning["request_id"] == line["request_id"]
    for secret in SECRETS:
        assert secret not in out, f"{secret!r} reached the log"


def test_polling_is_logged_at_debug(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app(settings.model_copy(update={"metrics_public": True}), engine)
    client = TestClient(app)
    client.get("/metrics")
    assert _access(_lines(capsys.readouterr().out), "/metrics") == []

    configure_logging(settings.model_copy(update={"log_level": "DEBUG"}))
    try:
        client.get("/metrics")
        [line] = _access(_lines(capsys.readouterr().out), "/metrics")
        assert line["level"] == "DEBUG"
    finally:
        configure_logging(settings)


def test_application_logs_are_json_with_extras_and_exceptions(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(settings)
    log = logging.getLogger("rollups.test")
    try:
        raise ValueError("bad row; token=tok-abc-123")
    except ValueError:
        log.exception("aggregator run failed", extra={"rows_processed": 12, "api_key": "k-1"})
    [line] = _lines(capsys.readouterr().out)
    assert line["level"] == "ERROR"
    assert line["logger"] == "rollups.test"
    assert line["message"] == "aggregator run failed"
    assert line["rows_processed"] == 12
    assert line["api_key"] == "[Filtered]"
    assert "ValueError" in line["exception"]
    assert "tok-abc-123" not in line["exception"]
    assert "request_id" not in line
