"""What follows an action, one call per kind of action: the listener calls it once the
change is committed and acked.

    after_grade(ctx, outcome, user="U0NURSE01", channel="C0CLINICAL", thread_ts="17.1")
    after_change(ctx, trainer="U0TRAINER1", task_type="clinical", sample_id=7)
    after_change(ctx, trainer="U0TRAINER1", task_type="clinical")   # no feedback owed
    after_ruling(ctx, [("U0TRAINER1", "clinical"), ("U0TRAINER2", "clinical")])

Each wakes the outbox at once (the change's own Slack writes were owed in its transaction),
then runs the rest on the follow-up pool (``AppContext.follow_up``), never on Bolt's
listener pool, which must stay free for acks. What reads the store afresh and is idempotent
(a trainer's threshold check, the feedback a thread owes) is keyed (``ctx.follow_keys``):
a burst of grades of one trainer is followed by one check, a moment after the last, so the
follow-up neither takes the store's write lock nor the interpreter once per click. Nothing
here raises into the listener: the change is recorded whatever happens after it, and the
scheduled escalation check catches up on anything a failure or a crash lost.
"""

import logging
from collections.abc import Iterable

from bot.follow.check import check_after_grade
from bot.follow.feedback import feedback_after_change
from bot.follow.notes import notes_after_grade
from bot.services.grading import GradeOutcome
from bot.wiring.context import AppContext

log = logging.getLogger(__name__)


def after_grade(ctx: AppContext, outcome: GradeOutcome, *, user: str, channel: str | None,
                thread_ts: str | None) -> None:
    """A recorded grade: its Slack writes go out and, if it changed anything, the threshold
    check, the grader's note, disputes and alerts, and the trainer's feedback."""
    ctx.outbox.wake()
    if not outcome.changed:
        return
    _check(ctx, trainer=outcome.trainer, task_type=outcome.task_type)
    if outcome.may_owe_notes:
        ctx.follow_keys.submit(("notes", outcome.sample_id, user), lambda: notes_after_grade(
            ctx, sample_id=outcome.sample_id, task_type=outcome.task_type, user=user,
            channel=channel, thread_ts=thread_ts))
    _feedback(ctx, sample_id=outcome.sample_id, thread_id=outcome.thread_id)


def after_change(ctx: AppContext, *, trainer: str, task_type: str,
                 sample_id: int | None = None) -> None:
    """A change to one trainer's grades other than a grade (a settled disagreement, a
    trainer's dispute opened or decided): the threshold check and, for a changed
    ``sample_id``, the trainer's feedback it made due."""
    ctx.outbox.wake()
    _check(ctx, trainer=trainer, task_type=task_type)
    if sample_id is not None:
        _feedback(ctx, sample_id=sample_id)


def after_ruling(ctx: AppContext, trainers: Iterable[tuple[str, str]]) -> None:
    """An adjudicated disagreement between trainers moved each involved trainer's
    precision: ``trainers`` are (trainer, task type) pairs, each checked."""
    ctx.outbox.wake()
    for trainer, task_type in trainers:
        _check(ctx, trainer=trainer, task_type=task_type)


def _check(ctx: AppContext, *, trainer: str, task_type: str) -> None:
    ctx.follow_keys.submit(("check", trainer, task_type), lambda: check_after_grade(
        ctx, trainer=trainer, task_type=task_type))


def _feedback(ctx: AppContext, *, sample_id: int, thread_id: int | None = None) -> None:
    # Owed per thread (a trainer-week): any changed sample of it stands for the others.
    key = ("feedback", "thread", thread_id) if thread_id is not None else \
        ("feedback", "sample", sample_id)
    ctx.follow_keys.submit(key, lambda: feedback_after_change(ctx, sample_id=sample_id))
