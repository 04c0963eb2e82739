"""Watching the watcher: Sentry, structured logs, request ids and the service's own metrics."""
