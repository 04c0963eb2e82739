"""One `agent_usage_logs` row, shaped and bounded so that a COPY of it cannot fail on data."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple, NotRequired, TypedDict, Unpack

from app.usage.scrub import scrub_error_message

UNKNOWN_AGENT = "unknown"
UNMATCHED_ENDPOINT = "<unmatched>"

# NUMERIC(10, 2) holds |x| < 10^8; a larger amount would make the whole batch fail.
_MAX_AMOUNT = Decimal("99999999.99")
_CENT = Decimal("0.01")
_MAX_INT4 = 2**31 - 1


class UsageRow(NamedTuple):
    """Field order is the COPY column order (`COLUMNS`)."""

    agent_id: str
    endpoint: str
    method: str
    merchant_id: str | None
    status_code: int | None
    response_time_ms: int | None
    error_message: str | None
    order_id: str | None
    order_amount: Decimal | None
    timestamp: datetime
    request_id: str | None


COLUMNS: tuple[str, ...] = UsageRow._fields


def _text(value: object, max_length: int) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\x00", "")
    return text[:max_length] if text else None


def _amount(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value)).quantize(_CENT)
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and abs(amount) <= _MAX_AMOUNT else None


def _int4(value: object) -> int | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    number = int(value)
    return max(-_MAX_INT4, min(_MAX_INT4, number))


class RequestFields(TypedDict):
    """What one Agent API request left behind: the keyword arguments of `make_row` and
    `log_agent_request`, declared once. The `object` ones come from request state and are coerced."""

    agent_id: str | None
    endpoint: str | None
    method: str | None
    status_code: int | None
    response_time_ms: float | None
    merchant_id: NotRequired[object]
    error_message: NotRequired[str | None]
    order_id: NotRequired[object]
    order_amount: NotRequired[object]
    request_id: NotRequired[object]
    timestamp: NotRequired[datetime | None]


def make_row(**fields: Unpack[RequestFields]) -> UsageRow:
    """Build a row from whatever a request left behind, fitting every value to its column.

    Values come from request state that route code sets, so they are coerced here rather than trusted:
    one bad value must cost at most that value, never the batch it would be written with.
    """
    response_time_ms = fields["response_time_ms"]
    return UsageRow(
        agent_id=_text(fields["agent_id"], 50) or UNKNOWN_AGENT,
        endpoint=_text(fields["endpoint"], 255) or UNMATCHED_ENDPOINT,
        method=(_text(fields["method"], 10) or "UNKNOWN").upper(),
        merchant_id=_text(fields.get("merchant_id"), 50),
        status_code=_int4(fields["status_code"]),
        response_time_ms=None if response_time_ms is None else _int4(round(max(0.0, response_time_ms))),
        error_message=scrub_error_message(fields.get("error_message")),
        order_id=_text(fields.get("order_id"), 50),
        order_amount=_amount(fields.get("order_amount")),
        timestamp=fields.get("timestamp") or datetime.now(UTC),
        request_id=_text(fields.get("request_id"), 64),
    )
