"""`log_agent_request()`: the original system's one call per Agent API request, now buffered."""

from __future__ import annotations

from datetime import datetime

from app.usage.row import make_row
from app.usage.writer import UsageWriter


def log_agent_request(
    writer: UsageWriter,
    *,
    agent_id: str | None,
    endpoint: str | None,
    method: str | None,
    status_code: int | None,
    response_time_ms: float | None,
    merchant_id: object = None,
    error_message: str | None = None,
    order_id: object = None,
    order_amount: object = None,
    request_id: object = None,
    timestamp: datetime | None = None,
) -> bool:
    """Record one Agent API request. Returns at once; the row reaches the database within a flush interval.

    Values are fitted to their columns and the error message is scrubbed of secrets and capped. Returns
    False only when the buffer was full and an older row was dropped to make room.
    """
    row = make_row(
        agent_id=agent_id,
        endpoint=endpoint,
        method=method,
        status_code=status_code,
        response_time_ms=response_time_ms,
        merchant_id=merchant_id,
        error_message=error_message,
        order_id=order_id,
        order_amount=order_amount,
        request_id=request_id,
        timestamp=timestamp,
    )
    return writer.submit(row)
