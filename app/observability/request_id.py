"""The current request's id: taken from a sane `X-Request-ID`, generated otherwise, readable anywhere."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

HEADER = "X-Request-ID"
# Client ids go into logs, headers, Sentry tags and the usage row (VARCHAR(64)): a short, boring
# charset cannot inject anything.
_SANE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def accept_or_generate(client_value: str | None) -> str:
    if client_value is not None and _SANE_ID.fullmatch(client_value):
        return client_value
    return uuid.uuid4().hex


def get_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None) -> Token[str | None]:
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)
