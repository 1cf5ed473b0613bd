"""The weekly audit job: the same function for the scheduler, the CLI, `/audit run` and tests."""

from datetime import datetime

from bot.context import AppContext
from bot.services.audit import AuditSummary, plan_weekly_audit


def run_weekly_audit(ctx: AppContext, *, now: datetime) -> AuditSummary:
    """Choose this week's samples and owe their posts; the outbox worker delivers them."""
    with ctx.session() as session:
        summary = plan_weekly_audit(session, ctx.workspace, now=now)
    ctx.outbox.wake()
    return summary
