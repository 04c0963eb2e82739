"""App-wide error answers: validation errors never echo input; a database outage is a fast 503."""

import socket

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.db import make_engine
from app.main import create_app


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_validation_error_names_the_field_but_never_echoes_the_input(client: TestClient) -> None:
    response = client.post("/auth/signin", json={"email": "ops@example.com", "password": 12345678901})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]
    assert "12345678901" not in response.text


def test_non_finite_number_is_a_422_not_a_500(client: TestClient, agent_key: str) -> None:
    response = client.post(
        "/agent/v1/orders",
        content=b'{"merchant_id": "m", "items": [{"product_id": 1e309, "quantity": 1}]}',
        headers={"X-API-Key": agent_key, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"]


def test_database_outage_answers_503_and_keeps_the_usage_row(
    settings: Settings, engine: Engine, staff_token: str, agent_key: str
) -> None:
    down = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/none", pool_pre_ping=False)
    app = create_app(settings, down)
    with TestClient(app, raise_server_exceptions=False) as outage_client:
        agent = outage_client.get(
            "/agent/v1/products/search", params={"q": "x"}, headers={"X-API-Key": agent_key}
        )
        staff = outage_client.get(
            "/agent/metrics/summary", headers={"Authorization": f"Bearer {staff_token}"}
        )
        buffered = app.state.usage_writer.stats()["buffered"]
    for response in (agent, staff):
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert response.json() == {"detail": "database unavailable, retry shortly"}
    # The Agent API request is still recorded: its row waits in the writer's buffer for the database.
    assert buffered == 1


def test_values_the_database_refuses_are_a_400_without_its_text(
    client: TestClient, staff_token: str, agent_key: str
) -> None:
    staff = {"Authorization": f"Bearer {staff_token}"}
    answers = [
        client.get("/agent/metrics/errors", params={"agent_id": "a\x00b"}, headers=staff),
        client.get("/agent/metrics/timeline", params={"endpoint": "/x\x00"}, headers=staff),
        client.post(
            "/agent/v1/orders",
            json={
                "merchant_id": "m\x00",
                "items": [{"product_id": 1, "quantity": 1}],
                "idempotency_key": "k\x00",
            },
            headers={"X-API-Key": agent_key},
        ),
    ]
    for response in answers:
        assert 400 <= response.status_code < 500, response.text
        assert "detail" in response.json()
        assert "NUL" not in response.text  # the database's own message stays inside
