"""The notes a recorded grade is followed by (after the ack): the grader's private note,
disputes, alerts.

    notes_after_grade(ctx, sample_id=7, task_type="clinical", user="U0NURSE01",
                      channel="C0CLINICAL", thread_ts="1700000000.000100")

Called by ``bot.follow.after`` once the grade is committed. Only the grader sees the note
(``chat.postEphemeral`` in the thread): the calibration reveal, or that a double review's
grades stay hidden until the second reviewer has graded. Managers are owed a DM about a new
dispute and this week's consistency alerts through the outbox: worked out in a read-only
session, owed in a short write only when one is new, so the next grade's transaction does not
wait behind these reads.
"""

import logging

from slack_sdk.errors import SlackApiError

from bot.services.calibration import grader_feedback
from bot.slack.consistency_blocks import grader_note
from bot.slack.consistency_notices import messages_after_grade, owe
from bot.wiring.context import AppContext

log = logging.getLogger(__name__)


def notes_after_grade(ctx: AppContext, *, sample_id: int, task_type: str, user: str,
                channel: str | None, thread_ts: str | None) -> None:
    try:
        _notes_after_grade(ctx, sample_id=sample_id, task_type=task_type, user=user,
                     channel=channel, thread_ts=thread_ts)
    except Exception:  # the grade is recorded: never tell the grader "nothing was recorded"
        log.exception("follow-up of a grade on sample %s by %s failed", sample_id, user)


def _notes_after_grade(ctx: AppContext, *, sample_id: int, task_type: str, user: str,
                 channel: str | None, thread_ts: str | None) -> None:
    now = ctx.clock.now()
    with ctx.read_session() as session:
        feedback = grader_feedback(session, sample_id=sample_id, reviewer=user)
        owed = messages_after_grade(session, ctx.workspace, sample_id=sample_id,
                                    task_type=task_type, now=now)
    if owed:
        with ctx.session() as session:
            owe(session, owed, now=now)
        ctx.outbox.wake()
    note = grader_note(feedback) if feedback is not None else None
    if note is None or not channel:
        return
    text, blocks = note
    try:
        ctx.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks,
                                      thread_ts=thread_ts)
    except SlackApiError as error:  # the grade stands; the note is a courtesy
        log.warning("could not tell %s about sample %s: %s", user, sample_id,
                    error.response.get("error"))
