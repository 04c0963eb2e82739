"""The real app (create_app) plus Agent API routes that misbehave on purpose, and the secrets they carry."""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app

API_KEY = "amk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
BEARER_TOKEN = "opaque-bearer-0b9e6f1d4c2a7788"
PASSWORD = "hunter2-correct-horse-battery"
QUERY_TOKEN = "qs-tok-5d4c3b2a1f0e9988"
SECRETS = (API_KEY, BEARER_TOKEN, PASSWORD, QUERY_TOKEN)

CRASH_PATH = f"/agent/v1/test-crash/order_17?token={QUERY_TOKEN}&limit=5"
CRASH_HEADERS = {
    "X-API-Key": API_KEY,
    "Authorization": f"Bearer {BEARER_TOKEN}",
    "Cookie": f"session={BEARER_TOKEN}",
    "User-Agent": "agent-sdk/1.2 (tests)",
}
CRASH_BODY = {"username": "agent-bot", "password": PASSWORD, "api_key": API_KEY, "note": "hello"}

log = logging.getLogger("app.agent_api.test")


class Credentials(BaseModel):
    username: str
    password: str
    api_key: str
    note: str


def build_app(settings: Settings, engine: Engine) -> FastAPI:
    app = create_app(settings, engine)

    @app.post("/agent/v1/test-crash/{order_id}")
    def crash(order_id: str, body: Credentials, request: Request) -> None:
        request.state.agent_id = "agent_crashy"
        key = request.headers["x-api-key"]
        bearer = request.headers["authorization"].split()[1]
        # Careless code that logs and raises with secrets in the text: the scrubbers must catch it.
        log.warning("calling upstream for %s with key %s", order_id, key)
        raise RuntimeError(
            f"upstream rejected key {key} (Authorization: Bearer {bearer}) for {body.username}"
        )

    @app.get("/agent/v1/test-forbidden")
    def forbidden() -> None:
        raise HTTPException(status_code=403, detail="not your order")

    @app.get("/agent/v1/test-items/{item_id}")
    def item(item_id: int, request: Request) -> dict[str, int]:
        request.state.agent_id = "agent_42"
        log.info("looked up item")
        return {"item_id": item_id}

    return app
