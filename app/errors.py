"""App-wide error answers: every failure a client can cause or meet is a JSON body with `detail`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 5


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    # Only where and what, never the rejected input: it may be a password, and JSON like `1e309` parses
    # to an infinite float that no strict JSON encoder accepts (FastAPI's default would answer 500).
    assert isinstance(exc, RequestValidationError)
    errors = [{key: error[key] for key in ("type", "loc", "msg") if key in error} for error in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": errors})


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if isinstance(exc, DataError):
        # The database refused a value the client sent (a NUL character, a date or number out of range):
        # the client's mistake, whichever endpoint let it through. The database's text is not echoed.
        return JSONResponse(
            status_code=400,
            content={"detail": "a value in the request is out of range or contains characters not allowed"},
        )
    if not exc.connection_invalidated and not isinstance(exc, OperationalError | InterfaceError):
        raise exc  # a real bug: let it reach the 500 path and Sentry
    # An outage is not a bug of this request: answer fast with 503 and no internals (hosts, texts).
    log.warning("database unavailable", extra={"path": request.url.path})
    return JSONResponse(
        status_code=503,
        content={"detail": "database unavailable, retry shortly"},
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DBAPIError, _database_error)
