"""The first admin that `make run` creates in development, and never anywhere else."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.auth.bootstrap import ensure_first_admin
from app.auth.employees import create_employee
from app.config import Settings


def _dev_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"environment": "development", "data_dir": tmp_path})


def _admins(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM employees WHERE role = 'admin'")).scalar_one())


def test_development_creates_one_admin_and_prints_it_once(
    settings: Settings, engine: Engine, client: TestClient, tmp_path: Path
) -> None:
    out = io.StringIO()
    credentials = ensure_first_admin(_dev_settings(settings, tmp_path), engine, out=out)
    assert credentials is not None
    assert credentials.email in out.getvalue()
    assert credentials.password in out.getvalue()
    assert len(credentials.password) >= 20
    signin = client.post("/auth/signin", json={"email": credentials.email, "password": credentials.password})
    assert signin.status_code == 200
    assert signin.json()["role"] == "admin"

    again = io.StringIO()
    assert ensure_first_admin(_dev_settings(settings, tmp_path), engine, out=again) is None
    assert again.getvalue() == ""
    assert _admins(engine) == 1


@pytest.mark.parametrize("environment", ["production", "test", "staging"])
def test_no_bootstrap_admin_outside_development(settings: Settings, engine: Engine, environment: str) -> None:
    out = io.StringIO()
    strict = settings.model_copy(update={"environment": environment})
    assert ensure_first_admin(strict, engine, out=out) is None
    assert out.getvalue() == ""
    assert _admins(engine) == 0


def test_no_bootstrap_when_an_admin_exists(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    create_employee(engine, "boss@example.com", "a long enough password", "admin")
    assert ensure_first_admin(_dev_settings(settings, tmp_path), engine, out=io.StringIO()) is None
    assert _admins(engine) == 1


def test_bootstrap_email_taken_by_an_employee_still_gets_an_admin(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    create_employee(engine, "admin@example.com", "a long enough password", "employee")
    credentials = ensure_first_admin(_dev_settings(settings, tmp_path), engine, out=io.StringIO())
    assert credentials is not None
    assert credentials.email != "admin@example.com"
    assert _admins(engine) == 1
