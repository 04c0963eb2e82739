"""`log_agent_request()`: the original system's one call per Agent API request, now buffered."""

from __future__ import annotations

from typing import Unpack

from app.usage.row import RequestFields, make_row
from app.usage.writer import UsageWriter


def log_agent_request(writer: UsageWriter, **fields: Unpack[RequestFields]) -> bool:
    """Record one Agent API request. Returns at once; the row reaches the database within a flush interval.

    Takes the keywords of `make_row` (see `RequestFields`): values are fitted to their columns and the
    error message is scrubbed of secrets and capped. Returns False only when the buffer was full and an
    older row was dropped to make room.
    """
    return writer.submit(make_row(**fields))
