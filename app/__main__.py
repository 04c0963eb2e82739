"""`python -m app` (what `make run` starts): migrate, then serve on port 8000."""

from __future__ import annotations

import argparse

import uvicorn

from app.config import get_settings
from app.db import get_engine
from app.main import create_app
from app.migrations import migrate


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()

    settings = get_settings()
    engine = get_engine()
    migrate(engine)
    uvicorn.run(create_app(settings, engine), host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
