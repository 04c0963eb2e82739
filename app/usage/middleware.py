"""`UsageLoggingMiddleware`: one usage row for every request under a path prefix, whatever its outcome.

A pure ASGI middleware (no BaseHTTPMiddleware): it wraps `send` to see the status and, for error
responses only, the start of the JSON body, and it sees exceptions as they propagate. It reads what the
request left in `scope["state"]` (the dict behind `request.state`) after the app has answered:
`agent_id` (set by `require_agent` once the key is valid), `merchant_id`, `order_id`, `order_amount`,
`request_id`. It can be added to any Starlette/FastAPI app with `app.add_middleware(...)`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.routes import CLIENT_CLOSED_REQUEST, app_path, route_template
from app.usage.log import log_agent_request
from app.usage.writer import UsageWriter

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "/agent/v1"
# Enough for any `detail` worth storing; the message is capped far below this anyway.
_MAX_ERROR_BODY_BYTES = 16_384


class UsageLoggingMiddleware:
    def __init__(
        self, app: ASGIApp, *, prefix: str = DEFAULT_PREFIX, writer: UsageWriter | None = None
    ) -> None:
        """`writer` defaults to the running app's `app.state.usage_writer`, looked up per request, so the
        middleware can be added before the lifespan has created the writer."""
        self.app = app
        self.prefix = prefix.rstrip("/")
        self.writer = writer

    def _applies_to(self, scope: Scope) -> bool:
        if scope["type"] != "http":
            return False
        path = app_path(scope)  # behind a proxy's root_path too
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._applies_to(scope):
            await self.app(scope, receive, send)
            return

        # Everything is captured before the app runs: a mounted sub-application replaces scope["app"],
        # and `setdefault` makes the app's `request.state` and this middleware share one dict.
        exchange = _Exchange(
            scope=scope,
            state=scope.setdefault("state", {}),
            entry_root_path=scope.get("root_path", ""),
            writer=self.writer or _app_writer(scope),
        )
        status: int | None = None
        error_body: bytearray | None = None

        async def send_and_watch(message: Message) -> None:
            nonlocal status, error_body
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if status >= 400:
                    error_body = bytearray()
            elif message["type"] == "http.response.body" and error_body is not None:
                room = _MAX_ERROR_BODY_BYTES - len(error_body)
                if room > 0:
                    error_body.extend(message.get("body", b"")[:room])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except asyncio.CancelledError:
            exchange.record(
                status or CLIENT_CLOSED_REQUEST, "request cancelled: client closed the connection"
            )
            raise
        except Exception as exc:
            # The server answers an unhandled exception with 500 (outside this middleware) unless a
            # response had already started; either way the exception continues on its way.
            exchange.record(status or HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")
            raise
        else:
            error = _error_message(status, error_body) if status is not None and status >= 400 else None
            exchange.record(status, error)


@dataclass(slots=True)
class _Exchange:
    """One request as the middleware saw it start."""

    scope: Scope
    state: dict[str, Any]
    entry_root_path: str
    writer: UsageWriter | None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)

    def record(self, status: int | None, error_message: str | None) -> None:
        elapsed_ms = (time.perf_counter() - self.started) * 1000.0
        if self.writer is None:
            return
        try:
            log_agent_request(
                self.writer,
                agent_id=self.state.get("agent_id"),
                # The same template the access log and Prometheus use; None (no route) -> <unmatched>.
                endpoint=route_template(self.scope, self.entry_root_path),
                method=self.scope.get("method"),
                status_code=status,
                response_time_ms=elapsed_ms,
                merchant_id=self.state.get("merchant_id"),
                error_message=error_message,
                order_id=self.state.get("order_id"),
                order_amount=self.state.get("order_amount"),
                request_id=self.state.get("request_id"),
                timestamp=self.started_at,
            )
        except Exception:
            # Usage logging must never turn a request into a failure.
            log.exception("usage row could not be recorded")


def _app_writer(scope: Scope) -> UsageWriter | None:
    app = scope.get("app")
    writer = getattr(getattr(app, "state", None), "usage_writer", None)
    return writer if isinstance(writer, UsageWriter) else None


def _error_message(status: int, body: bytearray | None) -> str:
    """The JSON `detail` of an error response (FastAPI's error shape), else its text, else the reason."""
    text = bytes(body or b"").decode("utf-8", "replace").strip()
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        payload = None
    if isinstance(payload, dict) and "detail" in payload:
        return _format_detail(payload["detail"])
    if payload is None and text and not text.startswith(("{", "[")):
        return text
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _format_detail(detail: object) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        # FastAPI's validation errors: [{"loc": [...], "msg": "...", ...}, ...]. Keep location and message;
        # `input` is dropped because it echoes what the client sent, secrets included.
        parts = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                loc = ".".join(str(p) for p in item.get("loc", ()))
                parts.append(f"{loc}: {item['msg']}" if loc else str(item["msg"]))
            else:
                parts.append(json.dumps(item, default=str))
        return "; ".join(parts)
    return json.dumps(detail, default=str)
