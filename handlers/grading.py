"""Grade buttons, the grade modal and "Show full".

A grade is stored, then acked: the HTTP answer (or the Socket Mode ack) is Slack's proof
that the click was taken, so it goes out only once the grade is committed, and a grade
that could not be committed in time is answered "not recorded, try again" with nothing
stored. What follows a grade is one call after the ack (``bot.follow.after.after_grade``).
"""

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.common.errors import NotFound
from bot.follow.after import after_grade
from bot.services.grading import (
    check_may_grade,
    grade_problems,
    load_sample,
    record_grade,
    task_type_of,
)
from bot.services.precedents import precedents_for_grading
from bot.slack.blocks import full_output_modal, grade_modal
from bot.slack.ids import GRADE_ACTION, Action, Block, Callback, grade_of_action
from bot.slack.payloads import grade_modal_metadata, parse_click, parse_grade_submission
from bot.slack.precedents_blocks import grading_precedents
from bot.wiring.context import AppContext
from handlers.errors import guarded
from handlers.kept import arrived, store_in_time, store_submission
from handlers.modals import fill_modal, open_modal

log = logging.getLogger(__name__)


def register(app: App, ctx: AppContext) -> None:
    after_ack = guarded(ctx)
    scale = ctx.workspace.scale

    def clicked_grade(body: dict[str, Any]) -> str | None:
        """The grade a click names, if it is on the scale (a key off it matches no
        listener: Slack is answered 404, as for any unknown action)."""
        key = grade_of_action(parse_click(body).action_id)
        return key if key is not None and key in scale else None

    def recorded_at_once(body: dict[str, Any]) -> bool:
        """A grade needing no explanation (Pass) is recorded on the click."""
        key = clicked_grade(body)
        return key is not None and not scale.needs_explanation(key)

    def opens_modal(body: dict[str, Any]) -> bool:
        """The others open the modal for their category and explanation."""
        key = clicked_grade(body)
        return key is not None and scale.needs_explanation(key)

    # Every grade button, whatever the workspace's scale: "grade_<key>" (bot.slack.ids).
    @app.action(GRADE_ACTION, matchers=[recorded_at_once], middleware=[arrived])
    @after_ack
    def pass_clicked(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        try:
            click = parse_click(body)
            grade = grade_of_action(click.action_id) or scale.best
            outcome = store_in_time(ctx, context, lambda session: record_grade(
                session, ctx.workspace, sample_id=click.sample_id, reviewer=click.user,
                grade=grade, category=None, explanation=None, now=ctx.clock.now()))
        finally:
            ack()  # a refusal or "not recorded" is answered after it (see `guarded`)
        after_grade(ctx, outcome, user=click.user, channel=click.channel,
                   thread_ts=click.thread_ts or click.message_ts)

    @app.action(GRADE_ACTION, matchers=[opens_modal])
    @after_ack
    def error_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        grade = grade_of_action(click.action_id) or scale.worst  # (the matcher checked it)
        with ctx.session() as session:
            record = load_sample(session, click.sample_id)
            check_may_grade(ctx.workspace, record, user=click.user)
        task_type = task_type_of(ctx.workspace, record.thread.task_type)

        def modal(context: list[dict[str, Any]]) -> dict[str, Any]:
            return grade_modal(
                grade=grade,
                categories=task_type.error_categories,
                trainer=record.thread.trainer,
                output_excerpt=record.output.output,
                context=context,
                private_metadata=grade_modal_metadata(
                    sample_id=click.sample_id, grade=grade, task_type=task_type.key,
                    channel=click.channel, thread_ts=click.thread_ts or click.message_ts),
                scale=scale,
            )

        # Open first: the trigger id lives 3 seconds, and the search for precedents can
        # take longer on a busy store. The precedents fill the modal in a moment after.
        opened = open_modal(ctx, click.trigger_id, modal([]), user=click.user)
        with ctx.session() as session:
            alike = precedents_for_grading(session, task_type=task_type.key,
                                           sample_id=click.sample_id,
                                           texts=(record.output.output, record.output.prompt))
        if alike:
            fill_modal(ctx, opened, modal(grading_precedents(alike, task_name=task_type.name)))

    @app.view(Callback.GRADE_MODAL, middleware=[arrived])
    @after_ack
    def grade_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        submission = parse_grade_submission(body)
        try:
            categories = task_type_of(ctx.workspace, submission.task_type).error_categories
        except NotFound as gone:  # the config changed while the modal was open
            ack(response_action="errors", errors={Block.CATEGORY: gone.user_message})
            return
        problems = grade_problems(submission.grade, scale, category=submission.category,
                                  explanation=submission.explanation, categories=categories)
        if problems:
            field_of = {"category": Block.CATEGORY, "explanation": Block.EXPLANATION}
            ack(response_action="errors",
                errors={field_of.get(k, Block.EXPLANATION): v for k, v in problems.items()})
            return
        kept = store_submission(ctx, context, ack, lambda session: record_grade(
            session, ctx.workspace, sample_id=submission.sample_id, reviewer=submission.user,
            grade=submission.grade, category=submission.category,
            explanation=submission.explanation, now=ctx.clock.now()),
            field=Block.EXPLANATION)  # not recorded: the modal keeps the reviewer's text
        if kept is None:
            return
        outcome = kept.value
        after_grade(ctx, outcome, user=submission.user, channel=submission.channel,
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
            output=record.output.output, reasoning=record.output.reasoning))

