"""Applies the versioned SQL files in `sql/` in order, once each, under a lock.

Files are named `NNN_description.sql`. All pending files are applied in one transaction, each with its
row in `schema_migrations`, while holding a transaction-level advisory lock: replicas that start at once
apply every file exactly once (the others wait, then find the work done), and a failing file leaves the
database as it was.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_MIGRATION_FILE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Arbitrary but fixed: hashtext('agent-metrics migrations') would do too; a constant is easier to grep.
_MIGRATION_LOCK_KEY = 7_315_001


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    found = []
    for path in sorted(sql_dir.glob("*.sql")):
        match = _MIGRATION_FILE.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migration files share a version number in {sql_dir}")
    return found


def migrate(engine: Engine, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply every pending migration; return the names applied. Idempotent."""
    applied_now: list[str] = []
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
        )
        done = {
            row.version: row
            for row in conn.execute(text("SELECT version, name, checksum FROM schema_migrations"))
        }
        for migration in discover(sql_dir):
            previous = done.get(migration.version)
            if previous is not None:
                if previous.checksum != migration.checksum:
                    raise RuntimeError(
                        f"{migration.name} changed after it was applied; add a new migration instead"
                    )
                continue
            # The driver's own cursor with no parameters: the file may hold many statements, dollar-quoted
            # bodies and literal '%' signs, none of which may be read as bind placeholders.
            with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute(migration.sql)
            conn.execute(
                text("INSERT INTO schema_migrations (version, name, checksum) VALUES (:v, :n, :c)"),
                {"v": migration.version, "n": migration.name, "c": migration.checksum},
            )
            applied_now.append(migration.name)
            log.info("migration applied", extra={"migration": migration.name})
    return applied_now
