"""Agents' API keys open the Agent API only; staff tokens open staff endpoints only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.agent_api.keys import revoke_agent_keys


@pytest.mark.parametrize("header", ["X-API-Key", "Authorization"])
def test_an_agent_key_cannot_read_staff_endpoints(client: TestClient, agent_key: str, header: str) -> None:
    value = agent_key if header == "X-API-Key" else f"Bearer {agent_key}"
    response = client.get("/auth/me", headers={header: value})
    assert response.status_code == 403
    assert response.json() == {"detail": "agent API keys cannot access staff endpoints"}


def test_an_agent_key_beside_a_staff_token_does_not_block_the_staff(
    client: TestClient, agent_key: str, staff_token: str
) -> None:
    headers = {"Authorization": f"Bearer {staff_token}", "X-API-Key": agent_key}
    assert client.get("/auth/me", headers=headers).status_code == 200


def test_an_unknown_or_revoked_agent_key_is_401_on_staff_endpoints(
    client: TestClient, engine: object, agent_key: str
) -> None:
    assert client.get("/auth/me", headers={"X-API-Key": "amk_" + "a" * 43}).status_code == 401
    revoke_agent_keys(engine, "agent_test")  # type: ignore[arg-type]
    assert client.get("/auth/me", headers={"X-API-Key": agent_key}).status_code == 401


def test_a_staff_token_is_not_an_agent_key(client: TestClient, staff_token: str) -> None:
    response = client.get("/agent/v1/merchants", headers={"Authorization": f"Bearer {staff_token}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid API key"}
