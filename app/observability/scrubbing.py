"""One scrubber for everything that leaves the process (Sentry events, breadcrumbs, log lines).

Sentry's own EventScrubber matches exact key names only: `X-API-Key` (hyphenated, any case) is not
`x_api_key`, a query string is one opaque string, and an exception message is free text. So keys are
normalised (lower case, hyphens as underscores) and matched by substring, and every string is searched
for values that look like secrets whatever key they sit under.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

FILTERED = "[Filtered]"

# Substrings of a normalised key name that mark its value as secret.
_SENSITIVE_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "credential",
    "private_key",
    "session",
    "csrf",
    "jwt",
    "signature",
    "dsn",
)
# Names that are secret only as a whole (`key`, `auth`), not as part of e.g. `monkey` or `author`.
_SENSITIVE_KEYS_EXACT = frozenset({"key", "auth", "sig", "pwd", "access_key", "x_api_key", "bearer"})

_AGENT_KEY = re.compile(r"amk_[A-Za-z0-9_\-]+")
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=\-]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
# `name=value` pairs (query strings, URLs, form bodies, log text) whose name looks secret.
_SECRET_PAIR = re.compile(
    r"(?i)\b([\w.\-]*(?:token|key|password|passwd|pwd|secret|auth|signature|sig|session|dsn)[\w.\-]*)"
    r"(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^&\s#,;'\"]+)"
)
# A DSN or any URL with credentials in its userinfo part.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/@\s:]+(:[^/@\s]*)?@")


# Cheap first look (on the lower-cased text): most strings (paths, ids, numbers) contain none of these
# and skip the substitutions.
_MIGHT_HOLD_SECRET = re.compile(r"amk_|eyj|bearer|basic|token|://|key|pass|pwd|secret|auth|sig|session|dsn")


def normalise_key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def is_sensitive_key(name: object) -> bool:
    return isinstance(name, str) and _is_sensitive_name(name)


@lru_cache(maxsize=4096)  # the same few dozen names come by on every log line and event
def _is_sensitive_name(name: str) -> bool:
    key = normalise_key(name)
    return key in _SENSITIVE_KEYS_EXACT or any(part in key for part in _SENSITIVE_KEY_PARTS)


def scrub_text(text: str) -> str:
    """Replace anything in free text that looks like a credential."""
    if not _MIGHT_HOLD_SECRET.search(text.lower()):
        return text
    text = _AGENT_KEY.sub(FILTERED, text)
    text = _JWT.sub(FILTERED, text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{FILTERED}", text)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{FILTERED}@", text)
    return _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{FILTERED}", text)


def scrub(value: Any, _depth: int = 0) -> Any:
    """Recursively scrub mappings (by key) and strings (by content); other values pass through."""
    if _depth > 20:  # a pathological structure is cut, never sent unscrubbed
        return FILTERED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {
            k: (FILTERED if is_sensitive_key(k) and v not in (None, "") else scrub(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        # Header lists arrive as [name, value] pairs.
        if len(value) == 2 and is_sensitive_key(value[0]) and isinstance(value[1], str):
            return [value[0], FILTERED]
        return [scrub(v, _depth + 1) for v in value]
    if isinstance(value, bytes | bytearray):
        return scrub_text(bytes(value).decode("utf-8", "replace"))
    if hasattr(value, "value") and hasattr(value, "metadata"):
        # sentry_sdk's AnnotatedValue (a request body cut for size, say): scrub what it wraps.
        value.value = scrub(value.value, _depth + 1)
    return value
