"""GET /agent/metrics/errors: raw error rows, newest first, filtered, paged by an opaque keyset cursor."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.metrics.conftest import BASE_NOW, GetJson
from tests.metrics.traffic import insert_rows, row, traffic

ERRORS = "/agent/metrics/errors"


def walk(get_json: GetJson, between_pages: Any = None, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = get_json(ERRORS, **params, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        if between_pages:
            between_pages()


def raw_error_ids(engine: Engine, where: str = "TRUE", **params: Any) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    f"SELECT id FROM agent_usage_logs WHERE status_code >= 400 AND {where} "
                    'ORDER BY "timestamp" DESC, id DESC'
                ),
                params,
            ).scalars()
        )


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({}, "TRUE"),
        ({"status_code": 404}, "status_code = 404"),
        ({"agent_id": "agent_02"}, "agent_id = 'agent_02'"),
        (
            {"endpoint": "/agent/v1/orders/create", "method": "post"},
            "endpoint = '/agent/v1/orders/create' AND method = 'POST'",
        ),
        (
            {"since": (BASE_NOW - timedelta(hours=2)).isoformat(), "until": BASE_NOW.isoformat()},
            '"timestamp" >= :since AND "timestamp" < :until',
        ),
    ],
)
def test_pages_list_every_error_row_newest_first(
    engine: Engine, get_json: GetJson, params: dict[str, Any], where: str
) -> None:
    insert_rows(engine, traffic(BASE_NOW, 1500, seed=3))
    # Ties on the timestamp are ordered by id, so the cursor must carry both.
    insert_rows(engine, [row(BASE_NOW - timedelta(hours=1), status_code=500) for _ in range(7)])
    walked = walk(get_json, limit=13, **params)
    expected = raw_error_ids(engine, where, since=BASE_NOW - timedelta(hours=2), until=BASE_NOW)
    assert [item["id"] for item in walked] == expected
    assert len(expected) > 13
    assert all(item["status_code"] >= 400 for item in walked)


def test_pagination_never_repeats_or_skips_while_rows_arrive(engine: Engine, get_json: GetJson) -> None:
    insert_rows(engine, traffic(BASE_NOW, 1000, seed=5))
    existing = raw_error_ids(engine)
    arrivals = iter(range(1000))

    def new_rows() -> None:
        i = next(arrivals)
        insert_rows(
            engine,
            [
                row(BASE_NOW + timedelta(seconds=i), status_code=503),  # newer than everything
                row(BASE_NOW - timedelta(hours=3, seconds=i), status_code=429),  # lands among unseen pages
            ],
        )

    walked = [item["id"] for item in walk(get_json, between_pages=new_rows, limit=10)]
    assert len(walked) == len(set(walked)), "a row was listed twice"
    assert set(existing) <= set(walked), "a row that existed at the start was skipped"


def test_error_rows_carry_the_stored_fields(engine: Engine, get_json: GetJson) -> None:
    insert_rows(
        engine,
        [
            row(BASE_NOW, status_code=422, error_message="<script>bad</script> field x", request_id="r1"),
            row(BASE_NOW, status_code=200),
            row(BASE_NOW, status_code=None),
        ],
    )
    page = get_json(ERRORS)
    assert page["next_cursor"] is None
    [item] = page["items"]
    assert item["error_message"] == "<script>bad</script> field x"
    assert item["request_id"] == "r1"
    assert item["status_code"] == 422


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'["2026-01-01T00:00:00", 5]').decode(),  # no time zone
        base64.urlsafe_b64encode(b'["2026-01-01T00:00:00+00:00", "5"]').decode(),
        base64.urlsafe_b64encode(b'["2026-01-01T00:00:00+00:00", -1]').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "",
    ],
)
def test_a_bad_cursor_is_a_400(get_json: GetJson, cursor: str) -> None:
    body = get_json(ERRORS, expect=400, cursor=cursor)
    assert body == {"detail": "invalid cursor"}


def test_an_empty_time_range_is_a_400(get_json: GetJson) -> None:
    body = get_json(ERRORS, expect=400, since="2026-01-02T00:00:00Z", until="2026-01-01T00:00:00Z")
    assert "since" in body["detail"]
