"""HTTP routes of the monitoring page: two HTML pages and their three static assets.

The pages are static files; the only server-side value is the refresh interval, an integer placed in a
data- attribute (never an inline script, which the Content-Security-Policy forbids). Metrics are fetched
by the browser from the metrics API with the staff token it keeps in sessionStorage.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from app.config import Settings
from app.dashboard.security_headers import SecureHeadersRoute

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"

# The only files served: a fixed list, so no request path ever reaches the filesystem.
STATIC_FILES: dict[str, str] = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
REFRESH_PLACEHOLDER = "{{refresh_seconds}}"

router = APIRouter(prefix="/dashboard", tags=["dashboard"], route_class=SecureHeadersRoute)


@lru_cache
def _template(name: str) -> str:
    return (TEMPLATES_DIR / name).read_text(encoding="utf-8")


def _html(body: str) -> HTMLResponse:
    # no-store: the pages are tiny, and a cached page must never outlive a deployment's assets.
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


@router.get("", include_in_schema=False)
def dashboard_root() -> RedirectResponse:
    return RedirectResponse("/dashboard/monitoring", status_code=307)


@router.get("/signin", response_class=HTMLResponse, summary="The staff sign-in page")
def signin_page() -> HTMLResponse:
    return _html(_template("signin.html"))


@router.get("/monitoring", response_class=HTMLResponse, summary="The monitoring page")
def monitoring_page(request: Request) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    refresh = str(int(settings.dashboard_refresh_seconds))
    return _html(_template("monitoring.html").replace(REFRESH_PLACEHOLDER, refresh))


@router.get("/static/{name}", include_in_schema=False)
def static_asset(name: str) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        return JSONResponse({"detail": "Not found"}, status_code=404)
    # no-cache: the browser revalidates (cheap, ETag) so a new release's script is picked up at once.
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers={"Cache-Control": "no-cache"})
