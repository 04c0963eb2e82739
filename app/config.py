"""The one settings object: environment variables and `.env`, read once."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
# Environments where convenience beats strictness. Anything else (including a typo) is treated as
# production, so a deployment that forgets or misspells ENVIRONMENT still gets the strict behaviour.
LENIENT_ENVIRONMENTS = frozenset({"development", "test"})
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = None
    environment: str = "production"
    jwt_secret: SecretStr | None = None
    access_token_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)

    sentry_dsn: SecretStr | None = None
    sentry_traces_sample_rate: float = Field(default=0.1, ge=0.0, le=1.0)
    sentry_release: str | None = None
    railway_deployment_id: str | None = None

    scheduler_enabled: bool = True
    rollup_interval_seconds: int = Field(default=60, ge=1)
    raw_retention_days: int = Field(default=30, ge=1)

    # Where the embedded PostgreSQL and the development secret live (git-ignored).
    data_dir: Path = REPO_ROOT / ".data"

    # Usage-row buffer between the Agent API and the database.
    usage_buffer_max_rows: int = Field(default=100_000, ge=1)
    usage_flush_interval_seconds: float = Field(default=1.0, gt=0, le=1.0)

    # /metrics (Prometheus) is staff-only unless this is set, e.g. when only a scraper can reach the port.
    metrics_public: bool = False
    log_level: str = "INFO"
    # Monitoring page auto-refresh; tests shorten it.
    dashboard_refresh_seconds: int = Field(default=30, ge=1)

    @property
    def is_production(self) -> bool:
        return self.environment not in LENIENT_ENVIRONMENTS

    @property
    def release(self) -> str:
        from app import __version__

        return self.railway_deployment_id or self.sentry_release or __version__

    @model_validator(mode="after")
    def _require_real_secret_in_production(self) -> Settings:
        if self.is_production:
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"JWT_SECRET must be set to a random value of at least {MIN_SECRET_LENGTH} characters "
                    f"when ENVIRONMENT={self.environment!r} (production rules). "
                    "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
                )
        return self

    def signing_secret(self) -> str:
        """The token-signing secret; in development, one generated once and kept in the data folder."""
        if self.jwt_secret is not None and self.jwt_secret.get_secret_value():
            return self.jwt_secret.get_secret_value()
        path = self.data_dir / "jwt_secret"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Written in full to a private temporary file, then published with link(), which fails if the
            # name exists: processes starting at once agree on one secret and none reads a half-written
            # (empty) file, which would sign tokens with an empty key.
            tmp = self.data_dir / f".jwt_secret.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        secret = path.read_text().strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise RuntimeError(f"{path} holds no usable secret; delete it and a new one is generated")
        return secret


@lru_cache
def get_settings() -> Settings:
    return Settings()
