"""Feedback to trainers after each change (``bot.services.feedback``)."""

import logging

from bot.services.feedback import owe_sample_feedback
from bot.wiring.context import AppContext

log = logging.getLogger(__name__)


def feedback_after_change(ctx: AppContext, *, sample_id: int) -> int:
    """Owe the trainer's feedback a changed sample made due (after the ack). Never raises:
    the change is recorded whatever happens here, and the escalation check catches up."""
    try:
        with ctx.session() as session:
            owed = owe_sample_feedback(session, ctx.workspace, sample_id=sample_id,
                                       now=ctx.clock.now())
    except Exception:
        log.exception("owing feedback after a change of sample %s failed", sample_id)
        return 0
    if owed:
        ctx.outbox.wake()
    return owed

