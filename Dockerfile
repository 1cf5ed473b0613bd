# auditbot: one image for `auditbot serve` (run as many replicas as you like on one
# PostgreSQL) and for one-off commands (`db upgrade`, `ingest`, `jobs run`, `outbox retry`).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY schedules ./schedules
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# No compiler or libpq needed at run time: psycopg[binary] ships its own.
RUN useradd --create-home --uid 10001 auditbot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER auditbot
WORKDIR /app
# .env is optional in a container: settings come from the environment (see README).
ENV PORT=3000 \
    AUDITBOT_CONFIG=/app/auditbot.toml \
    LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)"
# SIGTERM (docker stop) stops taking requests and jobs and lets the outbox finish the item it
# is sending; give it longer than the default 10 s when Slack is slow (stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["auditbot"]
CMD ["serve"]
