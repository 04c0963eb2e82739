"""One usage row per request under the prefix, whatever the outcome, on an app built for the test."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.usage import UsageWriter
from tests.usage.agent_app import AGENT_ID, AGENT_KEY, build_agent_app, usage_rows

KEY = {"X-API-Key": AGENT_KEY}


def run_requests(
    writer: UsageWriter, calls: Callable[[TestClient], None], raise_server_exceptions: bool = False
) -> None:
    """Serve the calls, then shut the app down: its lifespan stops the writer, which writes every row."""
    with TestClient(build_agent_app(writer), raise_server_exceptions=raise_server_exceptions) as client:
        calls(client)


def only_row(engine: Engine) -> dict[str, Any]:
    rows = usage_rows(engine)
    assert len(rows) == 1, rows
    return rows[0]


def test_created_order_row_has_template_agent_merchant_order_amount_and_time(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    def calls(client: TestClient) -> None:
        response = client.post(
            "/agent/v1/merchants/m_acme/orders",
            json={"product_id": "p1", "amount": "12.34"},
            headers={**KEY, "X-Request-ID": "req-123"},
        )
        assert response.status_code == 201

    run_requests(make_writer(), calls)
    row = only_row(engine)
    assert row["endpoint"] == "/agent/v1/merchants/{merchant_id}/orders"
    assert row["method"] == "POST"
    assert row["agent_id"] == AGENT_ID
    assert row["merchant_id"] == "m_acme"
    assert row["status_code"] == 201
    assert row["order_id"] == "ord_p1"
    assert row["order_amount"] == Decimal("12.34")
    assert row["request_id"] == "req-123"
    assert row["error_message"] is None
    assert 0 <= row["response_time_ms"] < 5_000
    assert row["timestamp"] is not None


def test_route_template_not_raw_path(engine: Engine, make_writer: Callable[..., UsageWriter]) -> None:
    run_requests(make_writer(), lambda c: [c.get(f"/agent/v1/orders/ord_{i}", headers=KEY) for i in range(3)])
    assert {r["endpoint"] for r in usage_rows(engine)} == {"/agent/v1/orders/{order_id}"}


def test_client_error_keeps_the_json_detail(engine: Engine, make_writer: Callable[..., UsageWriter]) -> None:
    run_requests(make_writer(), lambda c: c.get("/agent/v1/orders/missing_7", headers=KEY))
    row = only_row(engine)
    assert (row["status_code"], row["error_message"]) == (404, "order missing_7 not found")
    assert row["endpoint"] == "/agent/v1/orders/{order_id}"
    assert row["agent_id"] == AGENT_ID


def test_validation_error_is_422_with_the_failing_field(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    run_requests(
        make_writer(),
        lambda c: c.post(
            "/agent/v1/merchants/m1/orders", json={"product_id": "p", "amount": -1}, headers=KEY
        ),
    )
    row = only_row(engine)
    assert row["status_code"] == 422
    assert row["error_message"].startswith("body.amount:")
    assert row["order_id"] is None


def test_server_error_response_is_recorded(engine: Engine, make_writer: Callable[..., UsageWriter]) -> None:
    run_requests(make_writer(), lambda c: c.get("/agent/v1/upstream"))
    row = only_row(engine)
    assert (row["status_code"], row["error_message"]) == (503, "payment provider unavailable")


def test_unhandled_exception_is_recorded_as_500_and_still_raised(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    def calls(client: TestClient) -> None:
        with pytest.raises(RuntimeError, match="lost connection"):
            client.get("/agent/v1/explode")

    run_requests(make_writer(), calls, raise_server_exceptions=True)
    row = only_row(engine)
    assert row["status_code"] == 500
    assert row["endpoint"] == "/agent/v1/explode"
    assert row["error_message"].startswith("RuntimeError: lost connection")
    assert "hunter2" not in row["error_message"]


def test_client_sees_500_for_an_unhandled_exception(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    def calls(client: TestClient) -> None:
        assert client.get("/agent/v1/explode").status_code == 500

    run_requests(make_writer(), calls)
    assert only_row(engine)["status_code"] == 500


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "amk_wrong_key_123456"}], ids=["missing", "bad"])
def test_missing_or_bad_key_is_logged_as_unknown_agent(
    engine: Engine, make_writer: Callable[..., UsageWriter], headers: dict[str, str]
) -> None:
    def calls(client: TestClient) -> None:
        assert client.get("/agent/v1/products/search?q=tea", headers=headers).status_code == 401

    run_requests(make_writer(), calls)
    row = only_row(engine)
    assert (row["agent_id"], row["status_code"]) == ("unknown", 401)
    assert row["endpoint"] == "/agent/v1/products/search"
    assert row["error_message"] == "invalid or missing API key"
    assert "amk_wrong" not in str(row)


def test_unmatched_path_is_recorded_as_unmatched(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    run_requests(make_writer(), lambda c: c.get("/agent/v1/no/such/thing/42"))
    row = only_row(engine)
    assert (row["endpoint"], row["status_code"], row["agent_id"]) == ("<unmatched>", 404, "unknown")


def test_wrong_method_keeps_the_route_template(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    run_requests(make_writer(), lambda c: c.delete("/agent/v1/orders/ord_1", headers=KEY))
    row = only_row(engine)
    assert (row["endpoint"], row["method"], row["status_code"]) == (
        "/agent/v1/orders/{order_id}",
        "DELETE",
        405,
    )


def test_mounted_app_template_includes_the_mount_prefix(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    run_requests(make_writer(), lambda c: c.get("/agent/v1/legacy/things/t9"))
    assert only_row(engine)["endpoint"] == "/agent/v1/legacy/things/{thing_id}"


def test_requests_outside_the_prefix_are_not_logged(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    run_requests(make_writer(), lambda c: [c.get("/outside"), c.get("/agent/v10/x"), c.get("/docs")])
    assert usage_rows(engine) == []


SECRETS = {
    "agent key": "amk_live_9f8e7d6c5b4a3210",
    "bearer token": "Bearer abcDEF123456.ghiJKL",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
    "password": "password=hunter2",
    "api_key param": "/x?api_key=k3y-value&page=2",
    "token param": "/x?token=t0k3n-value",
}


@pytest.mark.parametrize("secret", SECRETS.values(), ids=SECRETS.keys())
def test_secrets_are_scrubbed_from_error_messages(
    engine: Engine, make_writer: Callable[..., UsageWriter], secret: str
) -> None:
    run_requests(
        make_writer(), lambda c: c.get("/agent/v1/echo-error", params={"message": f"rejected {secret}"})
    )
    message = only_row(engine)["error_message"]
    assert message.startswith("rejected")
    assert "[Filtered]" in message
    for fragment in (
        "9f8e7d6c5b4a3210",
        "abcDEF123456",
        "eyJzdWIiOiJ4In0",
        "hunter2",
        "k3y-value",
        "t0k3n-value",
    ):
        assert fragment not in message


def test_error_message_length_is_capped(engine: Engine, make_writer: Callable[..., UsageWriter]) -> None:
    run_requests(make_writer(), lambda c: c.get("/agent/v1/echo-error", params={"message": "x" * 5000}))
    message = only_row(engine)["error_message"]
    assert len(message) == 500
    assert message.endswith("...")


def test_middleware_honours_a_custom_prefix(engine: Engine, make_writer: Callable[..., UsageWriter]) -> None:
    writer = make_writer()
    with TestClient(build_agent_app(writer, prefix="/partner/v2")) as client:
        client.get("/partner/v2/orders/o1", headers=KEY)
        client.get("/agent/v1/orders/o1", headers=KEY)
    assert [r["endpoint"] for r in usage_rows(engine)] == ["/partner/v2/orders/{order_id}"]


def test_without_a_writer_requests_are_served_unlogged(engine: Engine) -> None:
    from fastapi import FastAPI

    from app.usage import UsageLoggingMiddleware

    app = FastAPI()

    @app.get("/agent/v1/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(UsageLoggingMiddleware)
    with TestClient(app) as client:
        assert client.get("/agent/v1/ping").json() == {"ok": True}
    assert usage_rows(engine) == []


def test_requests_behind_a_proxy_prefix_are_recorded_without_it(
    engine: Engine, make_writer: Callable[..., UsageWriter]
) -> None:
    with TestClient(build_agent_app(make_writer()), root_path="/proxy") as client:
        assert client.get("/proxy/agent/v1/items/3").status_code == 200
        assert client.get("/proxy/outside").status_code == 200
    row = only_row(engine)
    assert (row["endpoint"], row["order_id"]) == ("/agent/v1/items/{n}", "item-3")
