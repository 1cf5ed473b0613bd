"""The trainer's Dispute button and form, and the second reviewer's Uphold / Overturn.

Forms are stored, then acked (``handlers.kept``); refusals (a second dispute, too late, not
the trainer, a Pass, not the assigned reviewer) are answered with their reason.
"""

from typing import Any

from slack_bolt import Ack, App, BoltContext
from sqlmodel import Session

from bot.follow.after import after_change
from bot.services.trainer_disputes import (
    OVERTURNED,
    UPHELD,
    check_may_decide,
    check_may_dispute,
    decide_trainer_dispute,
    decision_problems,
    first_grades,
    load_trainer_dispute,
    open_trainer_dispute,
    reasoning_problem,
)
from bot.slack.consistency_notices import owe_ruling_offer
from bot.slack.feedback_blocks import decide_modal, dispute_modal
from bot.slack.feedback_notices import owe_dispute_opened, owe_dispute_outcome
from bot.slack.ids import (
    DISPUTE_ACTION,
    OVERTURN_ACTION,
    UPHOLD_ACTION,
    FeedbackBlock,
    FeedbackCallback,
)
from bot.slack.payloads import dispute_metadata, parse_click, parse_decision, parse_dispute
from bot.store.models import TrainerOutput
from bot.store.models.feedback import TrainerDispute
from bot.wiring.context import AppContext
from handlers.errors import guarded
from handlers.kept import arrived, store_submission


def _name(ctx: AppContext, key: str) -> str:
    try:
        return ctx.workspace.task_type(key).name
    except KeyError:
        return key


def register(app: App, ctx: AppContext) -> None:
    after_ack = guarded(ctx)

    @app.action(DISPUTE_ACTION)
    @after_ack
    def dispute_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        with ctx.session() as session:
            item = check_may_dispute(session, ctx.workspace, sample_id=click.sample_id,
                                     user=click.user, now=ctx.clock.now())
        ctx.client.views_open(trigger_id=click.trigger_id, view=dispute_modal(
            item, task_name=_name(ctx, item.task_type),
            private_metadata=dispute_metadata(sample_id=item.sample_id)))

    @app.view(FeedbackCallback.DISPUTE_MODAL, middleware=[arrived])
    @after_ack
    def dispute_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        submission = parse_dispute(body)
        problem = reasoning_problem(submission.reasoning)
        if problem:
            ack(response_action="errors", errors={FeedbackBlock.REASONING: problem})
            return
        now = ctx.clock.now()

        def opened(session: Session) -> TrainerDispute:
            result = open_trainer_dispute(session, ctx.workspace, sample_id=submission.sample_id,
                                          trainer=submission.user,
                                          reasoning=submission.reasoning or "", now=now)
            output = session.get(TrainerOutput, result.item.output_id)
            assert output is not None
            owe_dispute_opened(session, ctx.workspace, result.dispute, output=output, now=now)
            return result.dispute

        kept = store_submission(ctx, context, ack, opened, field=FeedbackBlock.REASONING)
        if kept is None:
            return
        dispute = kept.value
        after_change(ctx, trainer=dispute.trainer, task_type=dispute.task_type)

    def decide_clicked(ack: Ack, body: dict[str, Any], outcome: str) -> None:
        ack()
        click = parse_click(body)
        with ctx.session() as session:
            dispute = load_trainer_dispute(session, click.sample_id)
        check_may_decide(ctx.workspace, dispute, user=click.user)
        ctx.client.views_open(trigger_id=click.trigger_id, view=decide_modal(
            dispute, outcome=outcome, task_name=_name(ctx, dispute.task_type),
            private_metadata=dispute_metadata(sample_id=dispute.sample_id, outcome=outcome)))

    @app.action(UPHOLD_ACTION)
    @after_ack
    def uphold_clicked(ack: Ack, body: dict[str, Any]) -> None:
        decide_clicked(ack, body, UPHELD)

    @app.action(OVERTURN_ACTION)
    @after_ack
    def overturn_clicked(ack: Ack, body: dict[str, Any]) -> None:
        decide_clicked(ack, body, OVERTURNED)

    @app.view(FeedbackCallback.DECIDE_MODAL, middleware=[arrived])
    @after_ack
    def decision_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        submission = parse_decision(body)
        with ctx.session() as session:
            disputed = [g.grade for g in first_grades(
                load_trainer_dispute(session, submission.sample_id))]
        problems = decision_problems(submission.outcome, submission.grade, submission.reason,
                                     disputed)
        if problems:
            field_of = {"grade": FeedbackBlock.GRADE, "reason": FeedbackBlock.REASON}
            ack(response_action="errors",
                errors={field_of[k]: v for k, v in problems.items()})
            return
        now = ctx.clock.now()

        def decided(session: Session) -> TrainerDispute:
            dispute, changed = decide_trainer_dispute(
                session, ctx.workspace, sample_id=submission.sample_id,
                reviewer=submission.user, outcome=submission.outcome, grade=submission.grade,
                reason=submission.reason or "", now=now)
            if changed:
                owe_dispute_outcome(session, ctx.workspace, dispute, now=now)
                owe_ruling_offer(session, ctx.workspace, sample_id=dispute.sample_id, now=now)
            return dispute

        kept = store_submission(ctx, context, ack, decided, field=FeedbackBlock.REASON)
        if kept is None:
            return
        dispute = kept.value
        after_change(ctx, trainer=dispute.trainer, task_type=dispute.task_type,
                     sample_id=dispute.sample_id)
