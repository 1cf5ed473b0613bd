"""The threshold check that follows a change of a trainer's grades (after the ack)."""

import logging

from bot.services.escalation import CheckOutcome, check_trainer
from bot.wiring.context import AppContext

log = logging.getLogger(__name__)


def check_after_grade(ctx: AppContext, *, trainer: str, task_type: str) -> CheckOutcome | None:
    """The threshold check that follows every recorded grade (after the ack). It never
    raises: the grade is recorded whatever happens here, and the scheduled check
    (``schedules.escalation_check.run_escalation_check``) checks everyone again."""
    try:
        with ctx.session() as session:
            outcome = check_trainer(session, ctx.workspace, trainer=trainer,
                                    task_type=task_type, now=ctx.clock.now())
    except Exception:
        log.exception("the check after a grade of %s in %s failed", trainer, task_type)
        return None
    ctx.outbox.wake()
    return outcome
