"""POST /auth/signin and the staff token it returns."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time
from sqlalchemy import Engine, text

from app.auth.tokens import AUDIENCE, ISSUER
from app.config import Settings
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD


def _signin(client: TestClient, email: str = STAFF_EMAIL, password: str = STAFF_PASSWORD) -> dict:
    response = client.post("/auth/signin", json={"email": email, "password": password})
    return {"status": response.status_code, "body": response.json(), "headers": response.headers}


def _me(client: TestClient, token: str) -> int:
    return client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture
def account(staff_token: str) -> str:
    """The staff account exists (created by the staff_token fixture)."""
    return STAFF_EMAIL


def test_good_credentials_give_a_bearer_token_that_works(client: TestClient, account: str) -> None:
    result = _signin(client, email="  Staff@Example.com ")  # emails are case- and space-insensitive
    assert result["status"] == 200
    body = result["body"]
    assert body["token_type"] == "bearer"
    assert body["role"] == "employee"
    assert body["expires_in"] == 3600
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {"employee_id": me.json()["employee_id"], "email": STAFF_EMAIL, "role": "employee"}


def test_wrong_password_and_unknown_email_get_identical_401s(client: TestClient, account: str) -> None:
    wrong_password = _signin(client, password="not the password at all")
    unknown_email = _signin(client, email="nobody@example.com")
    assert wrong_password["status"] == unknown_email["status"] == 401
    assert wrong_password["body"] == unknown_email["body"] == {"detail": "invalid email or password"}


def test_disabled_account_cannot_sign_in_nor_use_its_token(
    client: TestClient, engine: Engine, staff_token: str
) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE employees SET is_active = false"))
    assert _signin(client)["body"] == {"detail": "invalid email or password"}
    assert _me(client, staff_token) == 401


def test_token_expires(client: TestClient, account: str) -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with freeze_time(start) as frozen:
        token = _signin(client)["body"]["access_token"]
        assert _me(client, token) == 200
        frozen.move_to(start + timedelta(seconds=3600 + 60))
        response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid or expired token"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_token_is_refused(client: TestClient, staff_token: str) -> None:
    header, payload, signature = staff_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    assert _me(client, f"{header}.{_b64(claims)}.{signature}") == 401


def _claims(staff_token: str, settings: Settings) -> dict:
    return jwt.decode(staff_token, settings.signing_secret(), algorithms=["HS256"], audience=AUDIENCE)


def test_alg_none_token_is_refused(client: TestClient, staff_token: str, settings: Settings) -> None:
    unsigned = jwt.encode(_claims(staff_token, settings), None, algorithm="none")
    assert _me(client, unsigned) == 401
    # Hand-made too, in case a library ever refuses to produce it.
    claims = _claims(staff_token, settings)
    assert _me(client, f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.") == 401


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512 with a 52-byte key
@pytest.mark.parametrize(
    ("change", "secret_override", "algorithm"),
    [
        ({}, "another-secret-" + "z" * 40, "HS256"),  # signed with another secret
        ({}, None, "HS512"),  # right secret, algorithm not the pinned one
        ({"aud": "someone-else"}, None, "HS256"),
        ({"iss": "someone-else"}, None, "HS256"),
        ({"exp": None}, None, "HS256"),  # no expiry at all
        ({"sub": "not-a-number"}, None, "HS256"),
        ({"sub": "999999"}, None, "HS256"),  # a well-signed token for an account that does not exist
    ],
)
def test_forged_or_foreign_tokens_are_refused(
    client: TestClient,
    staff_token: str,
    settings: Settings,
    change: dict,
    secret_override: str | None,
    algorithm: str,
) -> None:
    claims = _claims(staff_token, settings) | change
    claims = {k: v for k, v in claims.items() if v is not None}
    token = jwt.encode(claims, secret_override or settings.signing_secret(), algorithm=algorithm)
    assert _me(client, token) == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic c3RhZmY6cGFzcw=="},
        {"Authorization": "Bearer a.b.c"},
    ],
)
def test_missing_or_garbage_credentials_give_401_json(client: TestClient, headers: dict) -> None:
    response = client.get("/auth/me", headers=headers)
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


def test_issued_token_claims(staff_token: str, settings: Settings) -> None:
    claims = _claims(staff_token, settings)
    assert claims["iss"] == ISSUER
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds
    assert jwt.get_unverified_header(staff_token)["alg"] == "HS256"
