"""agent-metrics: exact, incremental usage metrics for an AI-agent API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("agent-metrics")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"
