"""Usage logging: one `agent_usage_logs` row per Agent API request, buffered and written in batches."""

from app.usage.log import log_agent_request
from app.usage.middleware import UsageLoggingMiddleware
from app.usage.row import UNKNOWN_AGENT, UNMATCHED_ENDPOINT, UsageRow
from app.usage.writer import UsageWriter

__all__ = [
    "UNKNOWN_AGENT",
    "UNMATCHED_ENDPOINT",
    "UsageLoggingMiddleware",
    "UsageRow",
    "UsageWriter",
    "log_agent_request",
]
