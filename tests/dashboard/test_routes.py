"""The page's HTTP surface: what is served, with which headers, and what is not served at all."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.dashboard.security_headers import CONTENT_SECURITY_POLICY

DASHBOARD_PATHS = [
    "/dashboard/signin",
    "/dashboard/monitoring",
    "/dashboard/static/dashboard.js",
    "/dashboard/static/dashboard.css",
    "/dashboard/static/nope.js",
]


@pytest.mark.parametrize("path", DASHBOARD_PATHS)
def test_every_dashboard_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_policy_allows_no_inline_script_and_no_framing() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_pages_have_no_inline_script_or_handlers(client: TestClient) -> None:
    for path in ("/dashboard/signin", "/dashboard/monitoring"):
        html = client.get(path).text
        assert '<script src="/dashboard/static/dashboard.js" defer></script>' in html
        assert html.count("<script") == 1
        assert " onclick=" not in html and " onload=" not in html and " style=" not in html


def test_refresh_interval_reaches_the_page_as_a_data_attribute(app: FastAPI) -> None:
    app.state.settings = app.state.settings.model_copy(update={"dashboard_refresh_seconds": 7})
    with TestClient(app) as client:
        html = client.get("/dashboard/monitoring").text
    assert 'data-refresh-seconds="7"' in html


def test_assets_are_served_with_their_types(client: TestClient) -> None:
    js = client.get("/dashboard/static/dashboard.js")
    css = client.get("/dashboard/static/dashboard.css")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "innerHTML" not in js.text  # all DOM is built from text nodes


@pytest.mark.parametrize("name", ["nope.js", "..%2Froutes.py", "dashboard.js.map", "%2Fetc%2Fpasswd"])
def test_only_the_known_assets_are_served(client: TestClient, name: str) -> None:
    response = client.get(f"/dashboard/static/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


def test_dashboard_root_leads_to_the_monitoring_page(client: TestClient) -> None:
    response = client.get("/dashboard", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/dashboard/monitoring"
