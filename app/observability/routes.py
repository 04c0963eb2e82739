"""What the access log, Prometheus, Sentry and the usage rows must agree on about a request.

One definition each, so a request's route in the log line, its Prometheus label and its usage row are the
same string, and "polled" means the same to the log level as to trace sampling. Nothing here imports
Starlette: sentry.py (loaded by the scheduler and the CLI) depends on this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Dashboards, scrapers and health checks poll these every few seconds: their access-log lines go to DEBUG
# and they are never traced, so they drown neither real traffic nor the Sentry quota.
POLLED_PATHS = frozenset({"/agent/metrics/health", "/metrics", "/version"})
POLLED_PREFIXES = ("/agent/metrics/",)
_READ_METHODS = frozenset({"GET", "HEAD"})

# nginx's code for "the client went away before the answer": a client-side outcome, not a server error.
CLIENT_CLOSED_REQUEST = 499


def is_polled(path: str, method: str | None = None) -> bool:
    """A read of a polled endpoint. `method` None (unknown, e.g. a trace without a request) is a read."""
    if method is not None and method.upper() not in _READ_METHODS:
        return False  # a write is an action someone took, worth its INFO line and its trace
    return path in POLLED_PATHS or path.startswith(POLLED_PREFIXES)


def app_path(scope: Mapping[str, Any]) -> str:
    """The request path as the app routes it: without the server's root_path (a proxy's prefix), which
    servers include in `path` (as the ASGI spec asks) but older ones and test clients may not."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] in ("", "/"):
        return path[len(root_path) :] or "/"
    return path


def route_template(scope: Mapping[str, Any], entry_root_path: str = "") -> str | None:
    """The matched route's path template (`/agent/v1/orders/{order_id}`), None when no route matched.

    Call it after the app has answered: routing records the route in the scope. `entry_root_path` is the
    scope's root_path when the caller's middleware was entered: a mount appends its prefix to root_path,
    and that part belongs to the template (the route's own template is relative to its mount), while the
    server's root_path (a proxy prefix) does not. `path_format` is the template without converters
    (`{order_id}`, not `{order_id:str}`).
    """
    route = scope.get("route")
    path_format = getattr(route, "path_format", None)
    if not isinstance(path_format, str):
        return None
    root_path: str = scope.get("root_path", "")
    mount_prefix = root_path[len(entry_root_path) :] if root_path.startswith(entry_root_path) else ""
    return mount_prefix + path_format
