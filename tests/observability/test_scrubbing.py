"""The gaps in Sentry's default scrubber, each closed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.observability.scrubbing import FILTERED, is_sensitive_key, scrub, scrub_text


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "X-API-Key",
        "x_api_key",
        "COOKIE",
        "Set-Cookie",
        "Proxy-Authorization",
        "password",
        "new_password",
        "client_secret",
        "access_token",
        "refreshToken",
        "api-key",
        "key",
    ],
)
def test_sensitive_names_match_in_any_spelling(name: str) -> None:
    assert is_sensitive_key(name)


@pytest.mark.parametrize("name", ["user-agent", "content-type", "agent_id", "request_id", "monkey", "author"])
def test_ordinary_names_are_kept(name: str) -> None:
    assert not is_sensitive_key(name)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("key amk_live_abc123XYZ was revoked", "amk_live_abc123XYZ"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("token=s3cr3t&limit=5", "s3cr3t"),
        ("?api_key=zz99&x=1", "zz99"),
        ("password: 'pa ss'", "pa ss"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl in text", "eyJzdWIiOiIxIn0"),
        ("connect to postgresql://app:pw-123@db:5432/x failed", "pw-123"),
    ],
)
def test_secrets_in_free_text_are_replaced(text: str, secret: str) -> None:
    scrubbed = scrub_text(text)
    assert secret not in scrubbed
    assert FILTERED in scrubbed


def test_query_keeps_harmless_values() -> None:
    assert scrub_text("token=abc&limit=5&agent_id=a1") == f"token={FILTERED}&limit=5&agent_id=a1"


def test_nested_structures_are_scrubbed_by_key_and_content() -> None:
    event = {
        "request": {
            "headers": {"X-Api-Key": "k1", "User-Agent": "ua"},
            "data": {"items": [{"Password": "p1"}, "Bearer t1"]},
            "env": [["authorization", "t2"], ["accept", "*/*"]],
        },
        "extra": {"note": "amk_zzz"},
        "count": 3,
    }
    assert scrub(event) == {
        "request": {
            "headers": {"X-Api-Key": FILTERED, "User-Agent": "ua"},
            "data": {"items": [{"Password": FILTERED}, f"Bearer {FILTERED}"]},
            "env": [["authorization", FILTERED], ["accept", "*/*"]],
        },
        "extra": {"note": FILTERED},
        "count": 3,
    }


_QUERY_VALUE = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="&#,;'\""), min_size=1
)
_KEY_BODY = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1)


@given(_QUERY_VALUE)
def test_any_token_value_in_a_query_disappears(value: str) -> None:
    assert scrub_text(f"/x?token={value}&limit=5") == f"/x?token={FILTERED}&limit=5"


@given(_KEY_BODY)
def test_any_agent_key_disappears_whole(body: str) -> None:
    assert scrub_text(f"rejected amk_{body} today") == f"rejected {FILTERED} today"
