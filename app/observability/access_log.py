"""The outermost middleware: request id, one JSON access-log line per request, request metrics.

Pure ASGI (no BaseHTTPMiddleware) so it adds no task hop and sees the exception of a crashing request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import sentry_sdk

from app.observability.request_id import accept_or_generate, bind_request_id, unbind_request_id
from app.observability.routes import CLIENT_CLOSED_REQUEST, app_path, is_polled, route_template

if TYPE_CHECKING:  # kept out of the import chain of sentry.py, which the scheduler and CLI load
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from app.observability.prometheus import RequestMetrics

ACCESS_LOGGER = "app.access"
log = logging.getLogger(ACCESS_LOGGER)

_MAX_USER_AGENT = 256
_INTERNAL_ERROR = b'{"detail":"Internal Server Error"}'


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = _headers(scope)
        # Before the app runs: a mount below appends its prefix to root_path, and that part is the route's.
        entry_root_path: str = scope.get("root_path", "")
        request_id = accept_or_generate(headers.get("x-request-id"))
        scope.setdefault("state", {})["request_id"] = request_id
        token = bind_request_id(request_id)
        if sentry_sdk.get_client().is_active():
            # The isolation scope is this request's own (Sentry's ASGI wrapper forks it per request).
            sentry_sdk.get_isolation_scope().set_tag("request_id", request_id)

        status_code = 500
        response_started = False
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status_code, response_started
            if message["type"] == "http.response.start":
                status_code = int(message["status"])
                response_started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except asyncio.CancelledError:
            # The client went away and the server cancelled the request: not a server error. What the
            # usage row records too; nothing is sent, there is no one to send it to.
            if not response_started:
                status_code = CLIENT_CLOSED_REQUEST
            raise
        except Exception:
            # Answer the crash ourselves so the 500 carries the id an operator can search for; re-raise
            # so Sentry's ASGI wrapper (outside us) still reports it.
            if not response_started:
                await send_with_request_id(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(_INTERNAL_ERROR)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": _INTERNAL_ERROR})
            raise
        finally:
            seconds = time.perf_counter() - started
            self._record(scope, entry_root_path, headers, request_id, status_code, seconds)
            unbind_request_id(token)

    def _record(
        self,
        scope: Scope,
        entry_root_path: str,
        headers: dict[str, str],
        request_id: str,
        status_code: int,
        seconds: float,
    ) -> None:
        method = scope["method"]
        path = scope["path"]  # never the query string: that is where tokens end up
        route = route_template(scope, entry_root_path)  # the usage row's endpoint, for the same request
        if self.metrics is not None:
            self.metrics.observe(method, route, status_code, seconds)
        polled = is_polled(app_path(scope), method)
        state = scope.get("state") or {}
        client = scope.get("client")
        log.log(
            logging.DEBUG if polled else logging.INFO,
            "%s %s %s",
            method,
            path,
            status_code,
            extra={
                "method": method,
                "path": path,
                "route": route,
                "status_code": status_code,
                "duration_ms": round(seconds * 1000, 3),
                "user_agent": headers.get("user-agent", "")[:_MAX_USER_AGENT],
                "request_id": request_id,
                "agent_id": state.get("agent_id"),
                "client_ip": client[0] if client else None,
            },
        )


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
