"""Fixtures for the metrics API tests: a staff client, a clock near the real one, JSON read exactly."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time

from app.auth.tokens import decode_access_token, issue_access_token
from app.config import Settings

# Traffic is generated around a clock a day behind the real one (so no row is really in the future) and
# at a known position inside its hour; tests move the frozen clock around it.
_real = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
BASE_NOW = _real - timedelta(days=1) + timedelta(minutes=34, seconds=56, microseconds=789_000)

GetJson = Callable[..., Any]


@pytest.fixture
def staff_headers(staff_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token}"}


@pytest.fixture
def get_json(client: TestClient, settings: Settings, staff_token: str) -> GetJson:
    """GET as staff with the clock frozen at `now`; JSON numbers parsed as exact Decimals.
    The token is issued under the frozen clock too, so it is valid at that time."""
    employee_id = decode_access_token(settings.signing_secret(), staff_token).employee_id

    def get(path: str, now: datetime = BASE_NOW, expect: int = 200, **params: Any) -> Any:
        with freeze_time(now, real_asyncio=True):
            token = issue_access_token(settings.signing_secret(), employee_id, "employee", 3600)
            response = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == expect, response.text
        return json.loads(response.text, parse_float=Decimal)

    return get
