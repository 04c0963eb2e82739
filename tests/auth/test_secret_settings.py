"""The token secret: production refuses to start without a real one; development keeps its own."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import MIN_SECRET_LENGTH, Settings

REAL_SECRET = "k3J9x" * 10


def _settings(**kwargs: object) -> Settings:
    return Settings(_env_file=None, **kwargs)  # type: ignore[call-arg]


@pytest.mark.parametrize("environment", ["production", "prod", "staging", "Production"])
def test_production_refuses_to_start_without_a_secret(environment: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET must be set"):
        _settings(environment=environment, jwt_secret=None, data_dir=tmp_path)


@pytest.mark.parametrize("secret", ["", "Sh0rtS3cr3t", "Qz" * ((MIN_SECRET_LENGTH - 1) // 2)])
def test_production_refuses_short_secrets(secret: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET must be set") as raised:
        _settings(environment="production", jwt_secret=secret, data_dir=tmp_path)
    assert secret not in str(raised.value) or not secret  # the error never echoes the secret


def test_production_is_the_default_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    with pytest.raises(ValidationError, match="JWT_SECRET must be set"):
        _settings()
    monkeypatch.setenv("JWT_SECRET", REAL_SECRET)
    settings = _settings()
    assert settings.is_production
    assert settings.signing_secret() == REAL_SECRET
    assert not (tmp_path / "jwt_secret").exists()  # production never falls back to a generated file


def test_development_generates_a_secret_and_keeps_it_in_the_data_folder(tmp_path: Path) -> None:
    first = _settings(environment="development", jwt_secret=None, data_dir=tmp_path).signing_secret()
    assert len(first) >= MIN_SECRET_LENGTH
    path = tmp_path / "jwt_secret"
    assert path.read_text().strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A restart (a new settings object) signs with the same secret, so sessions survive it.
    assert _settings(environment="development", jwt_secret=None, data_dir=tmp_path).signing_secret() == first
    # Another checkout gets its own.
    other = _settings(environment="development", jwt_secret=None, data_dir=tmp_path / "other")
    assert other.signing_secret() != first


def test_an_explicit_secret_wins_in_development(tmp_path: Path) -> None:
    settings = _settings(environment="development", jwt_secret=REAL_SECRET, data_dir=tmp_path)
    assert settings.signing_secret() == REAL_SECRET
    assert not (tmp_path / "jwt_secret").exists()


def test_processes_starting_at_once_agree_on_one_secret(tmp_path: Path) -> None:
    for attempt in range(20):
        data_dir = tmp_path / str(attempt)
        barrier = threading.Barrier(8)
        seen: list[str] = []

        def read(
            data_dir: Path = data_dir, barrier: threading.Barrier = barrier, seen: list[str] = seen
        ) -> None:
            settings = _settings(environment="development", jwt_secret=None, data_dir=data_dir)
            barrier.wait()
            seen.append(settings.signing_secret())

        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(seen)) == 1
        assert len(seen[0]) >= MIN_SECRET_LENGTH


def test_a_damaged_secret_file_is_refused_not_used(tmp_path: Path) -> None:
    (tmp_path / "jwt_secret").write_text("\n")
    with pytest.raises(RuntimeError, match="no usable secret"):
        _settings(environment="development", jwt_secret=None, data_dir=tmp_path).signing_secret()


def test_an_empty_secret_in_development_means_generate_one(tmp_path: Path) -> None:
    secret = _settings(environment="development", jwt_secret="", data_dir=tmp_path).signing_secret()
    assert len(secret) >= MIN_SECRET_LENGTH
