"""Prometheus metrics: what an operator graphs and alerts on, served at ``/metrics``.

Usage::

    metrics.POSTS.labels(outcome="sent").inc()            # the outbox, per delivery
    with metrics.ACK_SECONDS.time(): handle(request)        # the HTTP front, per Slack request
    body, content_type = metrics.exposition(engine)         # the /metrics route

Counters live in the process (each replica reports its own); the outbox depth and the age of
its oldest item are read from the shared store at scrape time, so every replica reports the
same backlog (alert on ``max`` across replicas, not the sum).
"""

from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.common.clock import as_utc
from bot.services import outbox as store

ACK_SECONDS = Histogram(
    "auditbot_slack_ack_seconds", "Time to answer a Slack request (the ack; Slack waits 3 s)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0))
POSTS = Counter("auditbot_outbox_deliveries_total",
                "Outbox deliveries by outcome (sent, failed, deferred)", ["outcome"])
RATE_LIMITED = Counter("auditbot_slack_ratelimited_total",
                       "HTTP 429 answers from Slack to the outbox")
JOB_RUNS = Counter("auditbot_job_runs_total", "Scheduled job executions in this process",
                   ["job", "outcome"])
OUTBOX_PENDING = Gauge("auditbot_outbox_pending", "Slack writes owed and not yet delivered")
OUTBOX_FAILED = Gauge("auditbot_outbox_failed", "Slack writes that failed for good (kept)")
OUTBOX_OLDEST = Gauge("auditbot_outbox_oldest_age_seconds",
                      "Age of the oldest pending Slack write (0 when none)")


def exposition(engine: Engine) -> tuple[bytes, str]:
    """The text format for a scrape, with the store's backlog read now."""
    with Session(engine) as session:
        backlog = store.backlog(session)
    OUTBOX_PENDING.set(backlog.pending)
    OUTBOX_FAILED.set(backlog.failed)
    oldest = backlog.oldest_created_at
    age = (datetime.now(UTC) - as_utc(oldest)).total_seconds() if oldest else 0.0
    OUTBOX_OLDEST.set(max(0.0, age))
    return generate_latest(), CONTENT_TYPE_LATEST
