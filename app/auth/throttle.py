"""Sign-in throttling per account, kept in PostgreSQL so every replica enforces the same limit.

Each attempt is counted *before* the password is checked, in one atomic upsert committed on its own, so
a burst of parallel guesses (on one replica or many) gets at most `max_attempts` verifications per window.
A successful sign-in clears the count. Unknown emails are counted exactly like known ones, so the 429
does not reveal whether an account exists.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text


@dataclass(frozen=True)
class ThrottlePolicy:
    max_attempts: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


DEFAULT_POLICY = ThrottlePolicy()

_REGISTER_ATTEMPT = text(
    """
    INSERT INTO signin_throttle AS t (account_key, attempt_count, window_started_at, locked_until)
    VALUES (:key, 1, :now, NULL)
    ON CONFLICT (account_key) DO UPDATE SET
        attempt_count = CASE
            WHEN t.locked_until > :now THEN t.attempt_count
            WHEN t.window_started_at <= :now - :window THEN 1
            ELSE t.attempt_count + 1 END,
        window_started_at = CASE
            WHEN t.locked_until > :now THEN t.window_started_at
            WHEN t.window_started_at <= :now - :window THEN :now
            ELSE t.window_started_at END,
        locked_until = CASE
            WHEN t.locked_until > :now THEN t.locked_until
            WHEN t.window_started_at <= :now - :window THEN NULL
            WHEN t.attempt_count + 1 > :max_attempts THEN :now + :lockout
            ELSE NULL END
    RETURNING locked_until
    """
)


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def register_attempt(engine: Engine, email: str, policy: ThrottlePolicy = DEFAULT_POLICY) -> int | None:
    """Count one sign-in attempt. Returns None when it may proceed, else the seconds until it may retry."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        locked_until = conn.execute(
            _REGISTER_ATTEMPT,
            {
                "key": account_key(email),
                "now": now,
                "window": policy.window,
                "lockout": policy.lockout,
                "max_attempts": policy.max_attempts,
            },
        ).scalar_one()
    if locked_until is None or locked_until <= now:
        return None
    return max(1, math.ceil((locked_until - now).total_seconds()))


def clear_attempts(engine: Engine, email: str, policy: ThrottlePolicy = DEFAULT_POLICY) -> None:
    """After a successful sign-in: forget this account's attempts, and rows of long-finished windows."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM signin_throttle WHERE account_key = :key"), {"key": account_key(email)}
        )
        # Rows left by guesses at unknown emails would otherwise accumulate.
        conn.execute(
            text(
                "DELETE FROM signin_throttle WHERE window_started_at < :cutoff "
                "AND (locked_until IS NULL OR locked_until < :now)"
            ),
            {"cutoff": now - policy.window - policy.lockout, "now": now},
        )
