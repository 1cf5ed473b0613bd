"""What follows an action, one call per kind of action: the listener calls it once the
change is committed and acked.

    after_grade(ctx, outcome, user="U0NURSE01", channel="C0CLINICAL", thread_ts="17.1")
    after_change(ctx, trainer="U0TRAINER1", task_type="clinical", sample_id=7)
    after_change(ctx, trainer="U0TRAINER1", task_type="clinical")   # no feedback owed
    after_ruling(ctx, [("U0TRAINER1", "clinical"), ("U0TRAINER2", "clinical")])

Each wakes the outbox at once (the change's own Slack writes were owed in its transaction),
then runs the rest on the follow-up pool (``AppContext.follow_up``), never on Bolt's
listener pool, which must stay free for acks. Nothing here raises into the listener: the
change is recorded whatever happens after it, and the scheduled escalation check catches up
on anything a failure or a crash lost.
"""

import logging
from collections.abc import Callable, Iterable

from bot.context import AppContext
from bot.follow.check import check_after_grade
from bot.follow.feedback import feedback_after_change
from bot.follow.notes import notes_after_grade
from bot.services.grading import GradeOutcome

log = logging.getLogger(__name__)


def after_grade(ctx: AppContext, outcome: GradeOutcome, *, user: str, channel: str | None,
                thread_ts: str | None) -> None:
    """A recorded grade: its Slack writes go out and, if it changed anything, the threshold
    check, the grader's note, disputes and alerts, and the trainer's feedback."""
    ctx.outbox.wake()
    if not outcome.changed:
        return

    def follow() -> None:
        check_after_grade(ctx, trainer=outcome.trainer, task_type=outcome.task_type)
        notes_after_grade(ctx, sample_id=outcome.sample_id, task_type=outcome.task_type,
                          user=user, channel=channel, thread_ts=thread_ts)
        feedback_after_change(ctx, sample_id=outcome.sample_id)

    submit_follow_up(ctx, follow)


def after_change(ctx: AppContext, *, trainer: str, task_type: str,
                 sample_id: int | None = None) -> None:
    """A change to one trainer's grades other than a grade (a settled disagreement, a
    trainer's dispute opened or decided): the threshold check and, for a changed
    ``sample_id``, the trainer's feedback it made due."""
    ctx.outbox.wake()

    def follow() -> None:
        check_after_grade(ctx, trainer=trainer, task_type=task_type)
        if sample_id is not None:
            feedback_after_change(ctx, sample_id=sample_id)

    submit_follow_up(ctx, follow)


def after_ruling(ctx: AppContext, trainers: Iterable[tuple[str, str]]) -> None:
    """An adjudicated disagreement between trainers moved each involved trainer's
    precision: ``trainers`` are (trainer, task type) pairs, each checked."""
    ctx.outbox.wake()
    involved = list(trainers)

    def follow() -> None:
        for trainer, task_type in involved:
            check_after_grade(ctx, trainer=trainer, task_type=task_type)

    submit_follow_up(ctx, follow)


def submit_follow_up(ctx: AppContext, work: Callable[[], object]) -> None:
    """``work`` on the follow-up pool, so the listener pool stays free for acks (done here
    when the pool is shut down: the process is stopping)."""
    try:
        ctx.follow_up.submit(work)
    except RuntimeError:
        work()
