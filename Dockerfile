# Production image: slim base, non-root user, uvicorn serving the app (`python -m app`).
# The aggregator runs inside the app when SCHEDULER_ENABLED=true (the default). Several replicas may all
# schedule it (the watermark lock serialises runs), or run `python -m rollups scheduler` as its own
# container with SCHEDULER_ENABLED=false on the app replicas.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 ENVIRONMENT=production
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
COPY rollups ./rollups
COPY sql ./sql
# Installs the dependencies; the code runs from /srv so that sql/ sits beside it.
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /srv agent-metrics
USER agent-metrics
EXPOSE 8000
# DATABASE_URL and JWT_SECRET are required: in production the app refuses to start without a real secret.
CMD ["python", "-m", "app", "--host", "0.0.0.0", "--port", "8000"]
