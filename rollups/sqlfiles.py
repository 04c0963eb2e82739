"""Loads the rollup statements from `sql/rollup/*.sql`, where analysts can read them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlalchemy import TextClause, text

SQL_DIR = Path(__file__).resolve().parent.parent / "sql" / "rollup"


@cache
def statements(name: str) -> tuple[TextClause, ...]:
    """The statements of `sql/rollup/<name>.sql`, in order, with `:name` bind parameters.

    Whole-line comments are dropped first (they may mention parameters), then the file is split at
    semicolons that end a line; the files hold no dollar-quoted bodies, so that split is exact.
    """
    lines = [
        line
        for line in (SQL_DIR / f"{name}.sql").read_text().splitlines()
        if not line.lstrip().startswith("--")
    ]
    chunks = "\n".join(lines).split(";\n")
    return tuple(text(chunk.strip().rstrip(";")) for chunk in chunks if chunk.strip())


def statement(name: str) -> TextClause:
    """The single statement of `sql/rollup/<name>.sql`."""
    (only,) = statements(name)
    return only
