"""The JSON access log and request ids, read from the process's real stdout."""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, text

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


def _usage_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM agent_usage_logs ORDER BY id"))]


def _requests_counted(app: FastAPI, route: str, status_code: int) -> float | None:
    registry: CollectorRegistry = app.state.metrics_registry
    labels = {"method": "GET", "route": route, "status_code": str(status_code)}
    return registry.get_sample_value("agent_metrics_http_requests_total", labels)


def test_log_line_prometheus_label_and_usage_row_name_the_same_route(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app(settings, engine)

    @app.get("/agent/v1/test-things/{thing_id:int}")  # a converter: the template is still {thing_id}
    def thing(thing_id: int) -> dict[str, int]:
        return {"thing_id": thing_id}

    legacy = FastAPI()

    @legacy.get("/parts/{part_id}")
    def part(part_id: str) -> dict[str, str]:
        return {"part_id": part_id}

    app.mount("/agent/v1/test-legacy", legacy)  # a mount: its prefix belongs to the template

    # Served under a proxy prefix: that is the deployment's, not part of any route.
    with TestClient(app, root_path="/proxy") as client:
        assert client.get("/proxy/agent/v1/test-things/5").status_code == 200
        assert client.get("/proxy/agent/v1/test-legacy/parts/p-1").status_code == 200
        assert client.get("/proxy/agent/v1/no-such-thing").status_code == 404
    # Leaving the client ran the lifespan's shutdown: the usage writer has written every row.

    expected = [
        "/agent/v1/test-things/{thing_id}",
        "/agent/v1/test-legacy/parts/{part_id}",
        "<unmatched>",
    ]
    assert [row["endpoint"] for row in _usage_rows(engine)] == expected
    lines = _lines(capsys.readouterr().out)
    logged = [
        line["route"]
        for path in (
            "/proxy/agent/v1/test-things/5",
            "/proxy/agent/v1/test-legacy/parts/p-1",
            "/proxy/agent/v1/no-such-thing",
        )
        for line in _access(lines, path)
    ]
    assert logged == [*expected[:2], None]
    assert _requests_counted(app, expected[0], 200) == 1
    assert _requests_counted(app, expected[1], 200) == 1
    assert _requests_counted(app, "<unmatched>", 404) == 1


def test_a_request_cancelled_by_a_client_disconnect_is_499_not_a_server_error(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app(settings, engine)
    handler_started = asyncio.Event()

    @app.get("/agent/v1/test-slow/{order_id}")
    async def slow(order_id: str, request: Request) -> None:
        request.state.agent_id = "agent_slow"
        handler_started.set()
        await asyncio.sleep(3600)

    sent: list[dict[str, Any]] = []

    async def serve_then_lose_the_client() -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/agent/v1/test-slow/o-1",
            "raw_path": b"/agent/v1/test-slow/o-1",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"user-agent", b"agent-sdk/1.2")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }

        async def receive() -> dict[str, Any]:
            await asyncio.sleep(3600)  # the body was read; the next message never comes
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        request = asyncio.create_task(app(scope, receive, send))
        await asyncio.wait_for(handler_started.wait(), timeout=5)
        request.cancel()  # what the server does with the request's task when its client goes away
        with pytest.raises(asyncio.CancelledError):
            await request

    # A loop of its own in a thread of its own: earlier tests (the browser's) may leave this thread's running.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, serve_then_lose_the_client()).result(timeout=30)

    assert sent == []  # nobody to answer
    [line] = _access(_lines(capsys.readouterr().out), "/agent/v1/test-slow/o-1")
    assert line["status_code"] == 499
    assert line["agent_id"] == "agent_slow"
    route = "/agent/v1/test-slow/{order_id}"
    assert _requests_counted(app, route, 499) == 1
    assert _requests_counted(app, route, 500) is None
    # The usage row (the writer was never started: stop() writes what is buffered) says the same.
    app.state.usage_writer.stop()
    [row] = _usage_rows(engine)
    assert (row["status_code"], row["endpoint"], row["agent_id"]) == (499, route, "agent_slow")
