"""`python -m app` (what `make run` starts): migrate, then serve on port 8000."""

from __future__ import annotations

import argparse

import uvicorn

from app.agent_api.catalog import seed_demo_catalog
from app.auth.bootstrap import ensure_first_admin
from app.config import get_settings
from app.db import get_engine
from app.main import create_app
from app.migrations import migrate
from app.observability.logging import configure_logging
from app.observability.sentry import init_sentry


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()

    settings = get_settings()
    # Before migrating, so start-up logs are JSON and a failed migration reaches Sentry.
    configure_logging(settings)
    init_sentry(settings, component="app")
    engine = get_engine()
    migrate(engine)
    if settings.environment == "development":
        ensure_first_admin(settings, engine)
        seed_demo_catalog(engine)
    uvicorn.run(create_app(settings, engine), host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
