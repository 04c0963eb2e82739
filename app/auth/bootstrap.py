"""Development convenience: the first admin account, created by `make run` when there is none.

Only ever in ENVIRONMENT=development (checked here too, not just by the caller): a production database
never gets an account whose password went to a terminal.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import Engine, text

from app.auth.employees import EmployeeError, admin_exists, insert_employee
from app.auth.passwords import hash_password
from app.config import Settings

BOOTSTRAP_ADMIN_EMAIL = "admin@example.com"
# Serialises bootstrap across processes starting at once (distinct from the migration lock).
_BOOTSTRAP_LOCK_KEY = 7_315_002


@dataclass(frozen=True)
class BootstrapCredentials:
    email: str
    password: str


def ensure_first_admin(
    settings: Settings, engine: Engine, out: TextIO | None = None
) -> BootstrapCredentials | None:
    """Create an admin with a random password when none exists (development only); print it once."""
    if settings.environment != "development":
        return None
    with engine.connect() as conn:
        if admin_exists(conn):
            return None
    password = secrets.token_urlsafe(18)
    password_hash = hash_password(password)  # outside the lock: argon2 is slow on purpose
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _BOOTSTRAP_LOCK_KEY})
        if admin_exists(conn):  # another process won the race
            return None
        email = BOOTSTRAP_ADMIN_EMAIL
        try:
            insert_employee(conn, email, "admin", password_hash)
        except EmployeeError:  # the address is taken by a non-admin account
            email = f"admin-{secrets.token_hex(3)}@example.com"
            insert_employee(conn, email, "admin", password_hash)
    stream = out or sys.stdout
    print(
        "\nFirst admin account created (development only; the password is shown this once):\n"
        f"  email:    {email}\n"
        f"  password: {password}\n"
        "Sign in at /dashboard/monitoring. Create more accounts with `make create-employee`.\n",
        file=stream,
        flush=True,
    )
    return BootstrapCredentials(email=email, password=password)
