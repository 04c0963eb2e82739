"""Route classes whose 422 answers are always valid JSON.

FastAPI's default handler echoes each offending input. JSON such as `1e309` parses to an infinite float,
which a strict JSON encoder refuses, turning a client's mistake into a 500. These routes make the error
body safe: non-finite numbers become strings, and `RedactedValidationRoute` drops inputs altogether
(for bodies that carry passwords).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


class SafeValidationRoute(APIRoute):
    keep_input = True

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        keep_input = self.keep_input

        async def safe_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = exc.errors()
                if not keep_input:
                    errors = [{k: e[k] for k in ("type", "loc", "msg") if k in e} for e in errors]
                return JSONResponse(status_code=422, content={"detail": _json_safe(jsonable_encoder(errors))})

        return safe_handler


class RedactedValidationRoute(SafeValidationRoute):
    """Validation errors without the offending input: there, that input may be a password."""

    keep_input = False
