"""Sentry error tracking, configured in one place for the app and the standalone scheduler.

Enabled only when SENTRY_DSN is set. What the SDK would send is scrubbed here (see scrubbing.py) on top
of its own defaults, because those defaults leave gaps: exact key names only, hyphenated header names,
free-text messages, and frame local variables (which hold the raw request) unless turned off.
"""

from __future__ import annotations

import logging
from typing import Any

import sentry_sdk
from sentry_sdk.integrations import Integration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

from app.config import Settings
from app.observability.access_log import ACCESS_LOGGER
from app.observability.request_id import get_request_id
from app.observability.routes import app_path, is_polled
from app.observability.scrubbing import scrub

log = logging.getLogger(__name__)

# The component that serves HTTP (and needs the FastAPI/Starlette integrations); others are the
# standalone scheduler and the command line.
WEB_COMPONENT = "app"

# Only server errors become events. A 4xx (bad key, malformed body, unknown agent) is the API working
# as designed; reporting it would bury real crashes and let any client fill the quota.
FAILED_REQUEST_STATUS_CODES = set(range(500, 600))

# The SDK's exact-match list, extended with the spellings it misses (it is applied before before_send,
# which does the thorough, substring-based pass).
_EXTRA_DENYLIST = [
    "x-api-key",
    "api-key",
    "set-cookie",
    "proxy_authorization",
    "access_token",
    "refresh_token",
    "client_secret",
    "key",
    "jwt",
    # Client addresses are personal data; the SDK's PII list only has the underscored spellings.
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
]


def traces_sampler(settings: Settings) -> Any:
    rate = settings.sentry_traces_sample_rate

    def sample(context: dict[str, Any]) -> float:
        # Polled endpoints: a transaction every few seconds per dashboard or scraper is noise and quota.
        path, method = _sampled_request(context)
        if path is not None and is_polled(path, method):
            return 0.0
        return rate

    return sample


def _sampled_request(context: dict[str, Any]) -> tuple[str | None, str | None]:
    """(path, method) of the transaction to sample; the method is None when there is no request."""
    scope = context.get("asgi_scope")
    if isinstance(scope, dict) and isinstance(scope.get("path"), str):
        method = scope.get("method")
        return app_path(scope), method if isinstance(method, str) else None
    name = (context.get("transaction_context") or {}).get("name")
    return (name if isinstance(name, str) else None), None


def before_send(event: Any, hint: dict[str, Any]) -> Any:
    scrubbed = scrub(event)
    request_id = get_request_id()
    if request_id is not None:
        scrubbed.setdefault("tags", {}).setdefault("request_id", request_id)
    return scrubbed


def before_breadcrumb(crumb: Any, hint: dict[str, Any]) -> Any:
    if crumb.get("category") == ACCESS_LOGGER:
        # The event already describes its request; this line would only add the client's IP address.
        return None
    return scrub(crumb)


def _integrations(web: bool) -> list[Integration]:
    integrations: list[Integration] = [
        SqlalchemyIntegration(),
        # log.exception / log.error become events: the aggregator only has to log its failures.
        LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
    ]
    if web:
        from sentry_sdk.integrations.fastapi import FastApiIntegration
        from sentry_sdk.integrations.starlette import StarletteIntegration

        integrations += [
            StarletteIntegration(
                transaction_style="url", failed_request_status_codes=FAILED_REQUEST_STATUS_CODES
            ),
            FastApiIntegration(
                transaction_style="url", failed_request_status_codes=FAILED_REQUEST_STATUS_CODES
            ),
        ]
    return integrations


# Whether "disabled" has been said since the last start of the SDK: `python -m app` and create_app both
# call init_sentry, and one start-up should say it once.
_disabled_announced = False


def init_sentry(settings: Settings, component: str) -> bool:
    """Start the SDK when SENTRY_DSN is set; True when enabled. Safe to call more than once: a repeated
    call that changes nothing neither restarts the SDK nor logs again."""
    global _disabled_announced
    if settings.sentry_dsn is None or not settings.sentry_dsn.get_secret_value().strip():
        if not _disabled_announced:
            _disabled_announced = True
            log.info("Sentry error tracking disabled (SENTRY_DSN not set)", extra={"component": component})
        return False
    dsn = settings.sentry_dsn.get_secret_value().strip()
    web = component == WEB_COMPONENT
    client = sentry_sdk.get_client()
    if client.is_active() and client.transport is not None and client.options.get("dsn") == dsn:
        return True  # already running (e.g. the in-process scheduler after the app)

    sentry_sdk.init(
        dsn=dsn,
        environment=settings.environment,
        release=settings.release,
        traces_sampler=traces_sampler(settings),
        # send_default_pii stays at its default (off): newer SDKs deprecate passing it at all.
        # Frame locals of a request handler include the parsed body and headers: never send them.
        include_local_variables=False,
        # Small bodies help debug a malformed agent call; they go through the scrubber like the rest.
        max_request_body_size="small",
        event_scrubber=EventScrubber(denylist=DEFAULT_DENYLIST + _EXTRA_DENYLIST, recursive=True),
        before_send=before_send,
        before_send_transaction=before_send,
        before_breadcrumb=before_breadcrumb,
        integrations=_integrations(web),
        # The scheduler and the CLI skip the SDK's import-everything-installed probe (FastAPI alone costs
        # a third of a second per `python -m rollups run-once`).
        auto_enabling_integrations=web,
    )
    _disabled_announced = False
    # The global scope: every request's isolation scope is forked from it, so every event carries it.
    sentry_sdk.get_global_scope().set_tag("component", component)
    log.info(
        "Sentry error tracking initialized",
        extra={"component": component, "environment": settings.environment, "release": settings.release},
    )
    return True
