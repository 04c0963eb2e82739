"""The monitoring page: a sign-in page and /dashboard/monitoring, with their assets, served by the app."""

from app.dashboard.routes import router

__all__ = ["router"]
