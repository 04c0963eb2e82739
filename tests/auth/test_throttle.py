"""Repeated failed sign-ins for one account are refused with 429, on every replica alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from freezegun import freeze_time
from sqlalchemy import Engine

from app.auth.throttle import DEFAULT_POLICY
from app.config import Settings
from app.main import create_app
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LIMIT = DEFAULT_POLICY.max_attempts


def _signin(client: TestClient, password: str, email: str = STAFF_EMAIL) -> tuple[int, dict, dict]:
    response = client.post("/auth/signin", json={"email": email, "password": password})
    return response.status_code, response.json(), dict(response.headers)


def test_repeated_failures_lock_the_account_with_retry_after(client: TestClient, staff_token: str) -> None:
    with freeze_time(START):
        for _ in range(LIMIT):
            assert _signin(client, "wrong password!")[0] == 401
        status, body, headers = _signin(client, "wrong password!")
        assert status == 429
        assert body == {"detail": "too many sign-in attempts for this account; try again later"}
        assert int(headers["retry-after"]) == int(DEFAULT_POLICY.lockout.total_seconds())
        # While locked, even the right password is refused: guessing cannot continue.
        assert _signin(client, STAFF_PASSWORD)[0] == 429
        # Other accounts are not affected.
        assert _signin(client, "wrong password!", email="other@example.com")[0] == 401


def test_lock_expires_and_the_right_password_works_again(client: TestClient, staff_token: str) -> None:
    with freeze_time(START) as frozen:
        for _ in range(LIMIT + 1):
            _signin(client, "wrong password!")
        frozen.move_to(START + DEFAULT_POLICY.lockout - timedelta(seconds=30))
        status, _, headers = _signin(client, STAFF_PASSWORD)
        assert status == 429
        assert 1 <= int(headers["retry-after"]) <= 30
        frozen.move_to(START + DEFAULT_POLICY.lockout + timedelta(seconds=1))
        assert _signin(client, STAFF_PASSWORD)[0] == 200


def test_successful_signin_resets_the_count(client: TestClient, staff_token: str) -> None:
    with freeze_time(START):
        for _ in range(LIMIT - 1):
            assert _signin(client, "wrong password!")[0] == 401
        assert _signin(client, STAFF_PASSWORD)[0] == 200
        for _ in range(LIMIT - 1):
            assert _signin(client, "wrong password!")[0] == 401
        assert _signin(client, STAFF_PASSWORD)[0] == 200


def test_failures_spread_beyond_the_window_do_not_lock(client: TestClient, staff_token: str) -> None:
    with freeze_time(START) as frozen:
        for _ in range(LIMIT):
            assert _signin(client, "wrong password!")[0] == 401
        frozen.move_to(START + DEFAULT_POLICY.window + timedelta(seconds=1))
        assert _signin(client, "wrong password!")[0] == 401
        assert _signin(client, STAFF_PASSWORD)[0] == 200


def test_unknown_emails_are_throttled_like_real_ones(client: TestClient, engine: Engine) -> None:
    # Otherwise a 429 would reveal which emails have accounts.
    with freeze_time(START):
        statuses = [_signin(client, "whatever12345", email="ghost@example.com")[0] for _ in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]


def test_the_lock_holds_on_another_replica(
    app: FastAPI, client: TestClient, settings: Settings, engine: Engine, staff_token: str
) -> None:
    replica = create_app(settings, engine)
    with freeze_time(START), TestClient(replica) as other:
        for i in range(LIMIT):
            # Failures alternate between the two replicas; the count is shared in the database.
            assert _signin(client if i % 2 else other, "wrong password!")[0] == 401
        assert _signin(other, STAFF_PASSWORD)[0] == 429
        assert _signin(client, STAFF_PASSWORD)[0] == 429
