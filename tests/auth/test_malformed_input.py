"""Malformed sign-in requests get a 4xx JSON error, never a 500."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        {"content": b"", "headers": {"Content-Type": "application/json"}},
        {"content": b"\xff\xfe\x00", "headers": {"Content-Type": "application/json"}},
        {"content": b"email=a&password=b", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"content": b'{"email": 1e309, "password": "x"}', "headers": {"Content-Type": "application/json"}},
        {"content": b'{"email": "a@b.c", "password": NaN}', "headers": {"Content-Type": "application/json"}},
        {"json": []},
        {"json": "a string"},
        {"json": None},
        {"json": {}},
        {"json": {"email": "a@b.c"}},
        {"json": {"email": 123, "password": "x"}},
        {"json": {"email": "a@b.c", "password": ["x"]}},
        {"json": {"email": "a@b.c", "password": None}},
        {"json": {"email": "", "password": ""}},
        {"json": {"email": "a\u0000b@example.com", "password": "x"}},
        {"json": {"email": "a@example.com", "password": "x\u0000"}},
        {"json": {"email": "a@b.c", "password": "x" * 5000}},
        {"json": {"email": "a" * 400 + "@b.c", "password": "x"}},
    ],
)
def test_malformed_signin_gives_4xx_json(app: FastAPI, kwargs: dict) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/auth/signin", **kwargs)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/json")
    assert "detail" in response.json()


def test_signin_with_a_get_is_405_json(client: TestClient) -> None:
    response = client.get("/auth/signin")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize(
    "body",
    [
        {"email": 123, "password": "hunter2-secret-value"},
        {"email": "a@b.c", "password": "hunter2-secret-value" * 100},  # too long: the error is about it
        {"email": "a@b.c", "password": "hunter2-secret-value", "extra": {"password": "hunter2-secret-value"}},
    ],
)
def test_password_never_echoed_in_validation_errors(client: TestClient, body: dict) -> None:
    response = client.post("/auth/signin", json=body)
    assert response.status_code in (401, 422)
    assert "hunter2-secret-value" not in response.text
