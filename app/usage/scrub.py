"""Error messages as they are stored in `agent_usage_logs`: secrets removed, one line, bounded length.

The patterns themselves live in `app.observability.scrubbing`, the one scrubber for everything that leaves
the process; a usage row leaves it too (analysts read `error_message` with SQL and the page shows it).
"""

from __future__ import annotations

import re

from app.observability.scrubbing import scrub_text

MAX_ERROR_MESSAGE_LENGTH = 500
_ELLIPSIS = "..."
_WHITESPACE = re.compile(r"\s+")


def scrub_error_message(message: str | None, max_length: int = MAX_ERROR_MESSAGE_LENGTH) -> str | None:
    """Scrub secrets, fold whitespace, drop NUL (PostgreSQL text cannot hold it) and cap the length.

    Scrubbing happens before the cut, so a secret can never survive by being cut in half.
    """
    if message is None:
        return None
    text = _WHITESPACE.sub(" ", scrub_text(message.replace("\x00", ""))).strip()
    if not text:
        return None
    if len(text) > max_length:
        text = text[: max_length - len(_ELLIPSIS)] + _ELLIPSIS
    return text
