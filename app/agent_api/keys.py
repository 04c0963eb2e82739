"""Agent API keys: `amk_` + 256 random bits, shown once at creation and stored as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import Connection, Engine, text

KEY_PREFIX = "amk_"
AGENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
# A real key is 4 + 43 characters; anything much longer is not worth hashing.
MAX_KEY_LENGTH = 200


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_agent_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX)


def create_agent(engine: Engine, agent_id: str, name: str | None = None) -> str:
    """Create the agent if it is new (or update its name) and return a new plaintext key for it.

    Calling it again for an existing agent adds another key; earlier keys keep working until revoked,
    so keys can be rotated without downtime.
    """
    if not AGENT_ID_PATTERN.match(agent_id):
        raise ValueError("agent_id must be 1-50 characters of letters, digits, '_', '.' or '-'")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agents (agent_id, name) VALUES (:agent_id, :name) "
                "ON CONFLICT (agent_id) DO UPDATE SET name = coalesce(EXCLUDED.name, agents.name)"
            ),
            {"agent_id": agent_id, "name": name},
        )
        conn.execute(
            text(
                "INSERT INTO agent_api_keys (agent_id, key_digest, key_prefix) "
                "VALUES (:agent_id, :digest, :prefix)"
            ),
            {"agent_id": agent_id, "digest": key_digest(key), "prefix": key[:12]},
        )
    return key


def agent_for_key(conn: Connection, key: str) -> str | None:
    """The agent id a valid, unrevoked key belongs to (its agent active), else None."""
    if not looks_like_agent_key(key) or len(key) > MAX_KEY_LENGTH:
        return None
    return conn.execute(
        text(
            "SELECT a.agent_id FROM agent_api_keys k JOIN agents a USING (agent_id) "
            "WHERE k.key_digest = :digest AND k.revoked_at IS NULL AND a.is_active"
        ),
        {"digest": key_digest(key)},
    ).scalar_one_or_none()


def revoke_agent_keys(engine: Engine, agent_id: str) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            text("UPDATE agent_api_keys SET revoked_at = now() WHERE agent_id = :a AND revoked_at IS NULL"),
            {"a": agent_id},
        )
    return int(result.rowcount)
