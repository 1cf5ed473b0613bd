"""The weekly audit, run now: the same function for the CLI, `/audit run`, the demo and tests
(the scheduler claims its week first: ``schedules.runner``)."""

import logging
from datetime import datetime

from bot.services.audit import AuditSummary, plan_weekly_audit
from bot.services.disagreements import plan_disagreements
from bot.wiring.context import AppContext

log = logging.getLogger(__name__)


def run_weekly_audit(ctx: AppContext, *, now: datetime) -> AuditSummary:
    """Choose this week's samples and owe their posts; the outbox worker delivers them.
    Then, in a transaction of its own (the audit stands whatever happens there), the week's
    disagreements between trainers (``bot.services.disagreements``)."""
    with ctx.session() as session:
        summary = plan_weekly_audit(session, ctx.workspace, now=now)
    try:
        with ctx.session() as session:
            plan_disagreements(session, ctx.workspace, now=now)
    except Exception:  # logged; the next run (a replica, `/audit run`) posts what is left
        log.exception("the week's disagreement threads were not planned")
    ctx.outbox.wake()
    return summary
