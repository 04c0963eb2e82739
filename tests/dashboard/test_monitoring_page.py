"""The monitoring page in a real browser (Debian's headless Chromium) against the app with real data."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime

import httpx
import pytest
from playwright.sync_api import Page, Request, expect
from sqlalchemy import Engine

from app.auth.tokens import issue_access_token
from app.config import Settings
from tests.dashboard.conftest import LAPTOP, PHONE, LiveServer, PageLog, screenshot, sign_in, token_of
from tests.dashboard.seed import (
    NOT_FOUND_24H,
    SERVER_ERRORS_24H,
    XSS_AGENT,
    XSS_ERROR,
    Seeded,
    seed_demo_week,
    seed_week,
)

OpenPage = Callable[..., Page]
Serve = Callable[..., LiveServer]
EXPIRED_MESSAGE = "Your session has expired, please sign in again"


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed_week(engine)


def api_get(live: LiveServer, token: str, path: str) -> dict:
    response = httpx.get(live.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    response.raise_for_status()
    return response.json()


def shown_number(page: Page, field: str) -> float:
    text = page.locator(f'[data-field="{field}"]').text_content() or ""
    return float(text.replace(",", ""))


def column(page: Page, n: int) -> list[str]:
    """The texts of the n-th column of the drill-down rows."""
    return list(
        page.eval_on_selector_all(
            f"#drilldown-rows tbody td:nth-child({n})", "n => n.map(c => c.textContent)"
        )
    )


def assert_no_csp_violations(page: Page, log: PageLog) -> None:
    assert page.evaluate("window.__cspViolations") == []
    assert not [m for m in log.console if "Content Security Policy" in m or "Refused to" in m]


def test_sign_in_leads_to_the_page_and_keeps_the_token_out_of_urls(
    serve: Serve, open_page: OpenPage, ops_account: int, page_log: PageLog
) -> None:
    live = serve()
    page = open_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(live.url + "/dashboard/monitoring")
    page.wait_for_url(live.url + "/dashboard/signin")  # no session: sent to sign in first

    page.fill("#email", "ops@example.com")
    page.fill("#password", "not the password")
    page.click("#signin-button")
    page.wait_for_selector("#signin-error:not([hidden])")
    assert page.text_content("#signin-error") == "Wrong email or password."

    sign_in(page, live.url)
    token = token_of(page)
    assert page.evaluate("localStorage.length") == 0  # the session dies with the tab
    assert not [url for url in urls if token in url or "password" in url]
    # No aggregator run yet: the health indicator says so in words.
    assert page.text_content("#health-text") == "Degraded: the aggregator has not run yet"
    assert page.text_content("#freshness") == "No data rolled up yet"
    assert_no_csp_violations(page, page_log)


def test_every_card_shows_the_apis_number(
    serve: Serve, open_page: OpenPage, ops_account: int, seeded: Seeded, page_log: PageLog
) -> None:
    live = serve()
    page = open_page()
    sign_in(page, live.url)
    summary = api_get(live, token_of(page), "/agent/metrics/summary")

    integers = {
        "overview.requests_last_hour",
        "overview.requests_last_24h",
        "overview.requests_last_7d",
        "overview.total_requests",
        "agents.active_last_24h",
        "orders.count_last_24h",
    }
    decimals = {
        "performance.success_rate_24h": 0.05,  # shown with one decimal
        "performance.avg_response_time_ms": 0.05,
        "performance.p95_response_time_ms": 0.05,
        "performance.p99_response_time_ms": 0.05,
        "orders.revenue_last_24h": 0.005,  # shown to the cent, as the API gives it
    }
    shown_fields = set(page.eval_on_selector_all("[data-field]", "nodes => nodes.map(n => n.dataset.field)"))
    assert shown_fields == integers | set(decimals)
    for field in integers:
        section, name = field.split(".")
        assert shown_number(page, field) == summary[section][name], field
    for field, tolerance in decimals.items():
        section, name = field.split(".")
        assert summary[section][name] is not None, field
        assert abs(shown_number(page, field) - summary[section][name]) <= tolerance + 1e-9, field

    # The seeded week is known, so the figures are not only equal to the API's but also right.
    assert summary["overview"]["total_requests"] == seeded.rows
    assert summary["orders"]["count_last_24h"] == 24

    # States by colour and words: 60 server errors of ~24 h traffic keep success above 95 %? Check the
    # words match the guidance for whatever the figure is.
    success = summary["performance"]["success_rate_24h"]
    success_words = page.text_content("#card-success .state") or ""
    assert ("Investigate" in success_words) == (success < 95)
    assert page.get_attribute("#card-success", "data-state") == ("alert" if success < 95 else "ok")
    avg = summary["performance"]["avg_response_time_ms"]
    latency_words = page.text_content("#card-latency > .state") or ""
    expected = "Alert" if avg > 500 else "Needs optimisation" if avg > 200 else "Good"
    assert latency_words.endswith(
        expected + (": over 500 ms" if avg > 500 else ": over 200 ms" if avg > 200 else ": 200 ms or less")
    )

    # Freshness from summary.as_of, in the page's local time.
    as_of = datetime.fromisoformat(summary["as_of"]).astimezone()
    assert re.fullmatch(rf"data as of {as_of:%H:%M:%S}, \d+ s ago", page.text_content("#freshness") or "")
    assert_no_csp_violations(page, page_log)


def test_chart_draws_the_hourly_timeline_at_24_hours_and_7_days(
    serve: Serve, open_page: OpenPage, ops_account: int, seeded: Seeded
) -> None:
    live = serve()
    page = open_page()
    sign_in(page, live.url)
    timeline = api_get(live, token_of(page), "/agent/metrics/timeline?hours=24")
    hours_with_traffic = sum(1 for point in timeline["points"] if point["requests"] > 0)
    hours_with_server_errors = sum(1 for point in timeline["points"] if point["server_errors"] > 0)

    chart = page.locator("#chart svg")
    assert chart.get_attribute("role") == "img"
    assert page.locator("#chart svg g.bar").count() == len(timeline["points"])
    assert page.locator("#chart svg g.bar:has(rect)").count() == hours_with_traffic
    assert page.locator("#chart svg rect.seg-server").count() == hours_with_server_errors
    assert page.locator("#chart svg path.p95-line").count() == 1
    assert "p95" in (page.text_content("#chart svg") or "")  # axis label
    total = sum(point["requests"] for point in timeline["points"])
    assert f"{total:,} requests" in (page.text_content("#chart-summary") or "")

    page.click("button.range[data-hours='168']")
    week = api_get(live, token_of(page), "/agent/metrics/timeline?hours=168")
    expect(page.locator("#chart svg g.bar")).to_have_count(len(week["points"]))
    assert page.get_attribute("button.range[data-hours='168']", "aria-pressed") == "true"
    assert "last 7 days" in (page.text_content("#chart-summary") or "")


def test_clicking_a_status_code_lists_its_raw_error_rows_page_by_page(
    serve: Serve, open_page: OpenPage, ops_account: int, seeded: Seeded
) -> None:
    live = serve()
    page = open_page()
    sign_in(page, live.url)

    page.click("#errors button.drill:text-is('500')")
    page.wait_for_selector("#drilldown:not([hidden]) #drilldown-rows tbody tr")
    first_page = page.locator("#drilldown-rows tbody tr")
    assert first_page.count() == 50
    statuses = column(page, 2)
    assert set(statuses) == {"500"}
    messages = column(page, 7)
    assert messages[:2] == ["upstream timeout #0", "upstream timeout #1"]  # newest first

    page.click("#drilldown-next")
    expect(page.locator("#drilldown-status")).to_have_text(re.compile(r"^Page 2: "))
    assert page.locator("#drilldown-rows tbody tr").count() == SERVER_ERRORS_24H - 50
    assert page.is_disabled("#drilldown-next")  # the last page
    last = column(page, 7)
    assert last[-1] == f"upstream timeout #{SERVER_ERRORS_24H - 1}"

    page.click("#drilldown-close")
    page.click("#errors button.drill:text-is('404')")
    expect(page.locator("#drilldown-rows tbody tr")).to_have_count(NOT_FOUND_24H)
    assert set(column(page, 2)) == {"404"}


def test_hostile_agent_ids_and_error_texts_render_as_text(
    serve: Serve, open_page: OpenPage, ops_account: int, seeded: Seeded, page_log: PageLog
) -> None:
    live = serve()
    page = open_page()
    sign_in(page, live.url)

    agent_cell = page.locator("#agents button.drill", has_text="onerror")
    assert agent_cell.text_content() == XSS_AGENT
    agent_cell.click()
    page.wait_for_selector("#drilldown-rows tbody tr")
    cells = page.eval_on_selector_all("#drilldown-rows td", "n => n.map(c => c.textContent)")
    assert XSS_AGENT in cells and XSS_ERROR in cells
    assert page.text_content("#drilldown-title") == f"Error rows, last 24 h: agent {XSS_AGENT}"
    assert (
        page.locator("img").count() == 0
        and page.locator("#content script, #drilldown script, b").count() == 0
    )
    page.wait_for_timeout(200)
    assert page_log.dialogs == []
    assert_no_csp_violations(page, page_log)


def test_auto_refresh_fires_and_pauses_while_the_tab_is_hidden(
    serve: Serve, open_page: OpenPage, ops_account: int, seeded: Seeded
) -> None:
    live = serve(refresh_seconds=2)
    page = open_page()
    summaries: list[float] = []

    def on_request(request: Request) -> None:
        if request.url.endswith("/agent/metrics/summary"):
            summaries.append(time.monotonic())

    page.on("request", on_request)
    sign_in(page, live.url)

    def wait_for_count(count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while len(summaries) < count and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert len(summaries) >= count

    wait_for_count(3)  # the first load and two automatic ones

    page.evaluate("window.__testHidden = true; document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(300)  # a load already in flight may finish
    hidden_count = len(summaries)
    page.wait_for_timeout(4500)  # more than two intervals
    assert len(summaries) == hidden_count  # no polling while hidden

    shown_at = time.monotonic()
    page.evaluate("window.__testHidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    wait_for_count(hidden_count + 1)
    assert summaries[hidden_count] - shown_at < 1.5  # refreshed at once, not after the 2 s interval

    clicks_from = len(summaries)
    page.click("#refresh-button")
    wait_for_count(clicks_from + 1)


def test_an_expired_session_returns_to_sign_in_with_a_message(
    serve: Serve, open_page: OpenPage, ops_account: int, settings: Settings
) -> None:
    live = serve()
    page = open_page()
    sign_in(page, live.url)
    expired = issue_access_token(settings.signing_secret(), ops_account, "employee", ttl_seconds=-120)
    page.evaluate("token => sessionStorage.setItem('agentMetrics.token', token)", expired)

    page.click("#refresh-button")
    page.wait_for_url(live.url + "/dashboard/signin")
    page.wait_for_selector("#signin-message:not([hidden])")
    assert page.text_content("#signin-message") == EXPIRED_MESSAGE
    assert page.evaluate("sessionStorage.getItem('agentMetrics.token')") is None


def test_sign_out_clears_the_session(serve: Serve, open_page: OpenPage, ops_account: int) -> None:
    live = serve()
    page = open_page()
    sign_in(page, live.url)
    page.click("#signout-button")
    page.wait_for_url(live.url + "/dashboard/signin")
    assert page.evaluate("sessionStorage.getItem('agentMetrics.token')") is None
    page.goto(live.url + "/dashboard/monitoring")
    page.wait_for_url(live.url + "/dashboard/signin")


def test_a_failed_load_says_so_and_keeps_the_last_figures_marked_stale(
    serve: Serve, open_page: OpenPage, ops_account: int, seeded: Seeded
) -> None:
    live = serve()
    page = open_page()
    sign_in(page, live.url)
    before = page.text_content('[data-field="overview.total_requests"]')

    live.stop()  # the backend goes away
    page.click("#refresh-button")
    page.wait_for_selector("#load-error:not([hidden])")
    message = page.text_content("#load-error") or ""
    assert message.startswith("Failed to load metrics: could not reach the server.")
    assert "(stale)" in message
    assert page.text_content('[data-field="overview.total_requests"]') == before
    assert "stale" in (page.get_attribute("#content", "class") or "")
    assert page.text_content("#health-text") == "Service unreachable"


def test_screenshots_at_laptop_and_phone_width(
    serve: Serve, open_page: OpenPage, ops_account: int, engine: Engine, page_log: PageLog
) -> None:
    seed_demo_week(engine)
    live = serve()
    for name, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        page = open_page(viewport)
        page.goto(live.url + "/dashboard/signin")
        assert screenshot(page, f"signin-{name}.png").stat().st_size > 0
        sign_in(page, live.url)
        # Nothing may be wider than the screen (tables scroll inside their own boxes).
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert screenshot(page, f"monitoring-{name}.png").stat().st_size > 0
        assert screenshot(page, f"monitoring-{name}-first-screen.png", full_page=False).stat().st_size > 0
        page.locator("#errors button.drill").first.click()
        page.wait_for_selector("#drilldown-rows tbody tr")
        assert screenshot(page, f"drilldown-{name}.png", full_page=False).stat().st_size > 0
    assert_no_csp_violations(page, page_log)
    assert page_log.dialogs == []
