"""Grade buttons, the grade modal and "Show full": ack first, then one service call."""

from typing import Any

from slack_bolt import Ack, App

from bot.context import AppContext
from bot.errors import NotFound
from bot.services.grading import (
    GradeOutcome,
    check_may_grade,
    grade_problems,
    load_sample,
    record_grade,
    task_type_of,
)
from bot.slack.blocks import full_output_modal, grade_modal
from bot.slack.ids import GRADE_BY_ACTION, Action, Block, Callback
from bot.slack.payloads import grade_modal_metadata, parse_click, parse_grade_submission
from handlers.consistency import after_grade
from handlers.errors import guarded
from schedules.escalation_check import check_after_grade


def register(app: App, ctx: AppContext) -> None:
    after_ack = guarded(ctx)

    @app.action(Action.GRADE_PASS)
    @after_ack
    def pass_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        with ctx.session() as session:
            outcome = record_grade(session, ctx.workspace, sample_id=click.sample_id,
                                   reviewer=click.user, grade="pass", category=None,
                                   explanation=None, now=ctx.clock.now())
        _follow_up(ctx, outcome, user=click.user, channel=click.channel,
                   thread_ts=click.thread_ts or click.message_ts)

    @after_ack
    def error_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        grade = GRADE_BY_ACTION[Action(click.action_id)]
        with ctx.session() as session:
            record = load_sample(session, click.sample_id)
            check_may_grade(ctx.workspace, record, user=click.user)
        task_type = task_type_of(ctx.workspace, record.thread.task_type)
        ctx.client.views_open(trigger_id=click.trigger_id, view=grade_modal(
            grade=grade,
            categories=task_type.error_categories,
            trainer=record.thread.trainer,
            output_excerpt=record.output.output,
            private_metadata=grade_modal_metadata(
                sample_id=click.sample_id, grade=grade, task_type=task_type.key,
                channel=click.channel, thread_ts=click.thread_ts or click.message_ts),
        ))

    app.action(Action.GRADE_MINOR)(error_clicked)
    app.action(Action.GRADE_MAJOR)(error_clicked)

    @app.view(Callback.GRADE_MODAL)
    @after_ack
    def grade_submitted(ack: Ack, body: dict[str, Any]) -> None:
        submission = parse_grade_submission(body)
        try:
            categories = task_type_of(ctx.workspace, submission.task_type).error_categories
        except NotFound as gone:  # the config changed while the modal was open
            ack(response_action="errors", errors={Block.CATEGORY: gone.user_message})
            return
        problems = grade_problems(submission.grade, category=submission.category,
                                  explanation=submission.explanation, categories=categories)
        if problems:
            field_of = {"category": Block.CATEGORY, "explanation": Block.EXPLANATION}
            ack(response_action="errors",
                errors={field_of.get(k, Block.EXPLANATION): v for k, v in problems.items()})
            return
        ack()
        with ctx.session() as session:
            outcome = record_grade(session, ctx.workspace, sample_id=submission.sample_id,
                                   reviewer=submission.user, grade=submission.grade,
                                   category=submission.category,
                                   explanation=submission.explanation, now=ctx.clock.now())
        _follow_up(ctx, outcome, user=submission.user, channel=submission.channel,
                   thread_ts=submission.thread_ts)

    @app.action(Action.SHOW_FULL)
    @after_ack
    def show_full(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        with ctx.session() as session:
            record = load_sample(session, click.sample_id)
        ctx.client.views_open(trigger_id=click.trigger_id, view=full_output_modal(
            output_id=record.output.id, prompt=record.output.prompt,
            output=record.output.output))


def _follow_up(ctx: AppContext, outcome: GradeOutcome, *, user: str, channel: str | None,
               thread_ts: str | None) -> None:
    """What every recorded grade is followed by: its Slack writes go out and, if it changed
    anything, the threshold check and the grader's note, disputes and alerts."""
    ctx.outbox.wake()
    if outcome.changed:
        check_after_grade(ctx, trainer=outcome.trainer, task_type=outcome.task_type)
        after_grade(ctx, sample_id=outcome.sample_id, task_type=outcome.task_type, user=user,
                    channel=channel, thread_ts=thread_ts)
