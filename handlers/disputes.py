"""Settle buttons and the settle modal (the settlement is stored, then acked:
``handlers.kept``); the disputes answer.

``disputes_answer(ctx, user)`` is what `/audit disputes` and App Home show: managers get the
open disputes with a Settle button each, reviewers those of their task types (read only).
"""

from typing import Any

from slack_bolt import Ack, App, BoltContext
from sqlmodel import Session

from bot.follow.after import after_change
from bot.services.disputes import (
    DisputeView,
    check_may_settle,
    load_dispute,
    open_disputes,
    settle,
    settle_problems,
    visible_task_types,
)
from bot.services.reviewer_quality import reviewer_quality
from bot.services.trainer_disputes import open_trainer_disputes
from bot.slack.commands import Usage, no_args
from bot.slack.consistency_notices import owe_precedent_offer, owe_settlement_dms
from bot.slack.dispute_blocks import LIST_SHOWN, MESSAGE_BLOCK_LIMIT, disputes_list, settle_modal
from bot.slack.feedback_blocks import reviewer_quality_section, trainer_disputes_section
from bot.slack.ids import SETTLE_ACTION, DisputeBlock, DisputeCallback
from bot.slack.payloads import parse_click, parse_settlement, settle_metadata
from bot.wiring.context import AppContext
from handlers.errors import guarded
from handlers.kept import arrived, store_submission
from handlers.subcommand import Subcommand


def disputes_answer(ctx: AppContext, user: str) -> tuple[str, list[dict]]:
    """The open disputes ``user`` may see, as (text, blocks) for an ephemeral answer."""
    if not visible_task_types(ctx.workspace, user):
        text = "Disputes are for the task types' reviewers and managers."
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    now = ctx.clock.now()
    manager = ctx.workspace.is_manager(user)
    with ctx.session() as session:
        page = open_disputes(session, ctx.workspace, user=user, now=now, limit=LIST_SHOWN)
        pushed = open_trainer_disputes(
            session, task_types=visible_task_types(ctx.workspace, user))
        quality = reviewer_quality(session, ctx.workspace, now=now) if manager else []
    names = {t.key: t.name for t in ctx.workspace.task_types}
    text, blocks = disputes_list(page.views, task_names=names, can_settle=manager,
                                 total=page.total)
    if pushed:
        text += f"; {len(pushed)} open trainer dispute{'s' if len(pushed) != 1 else ''}"
    extra = [{"type": "divider"},
             *trainer_disputes_section(pushed, now=now, task_names=names,
                                       can_decide=manager),
             *reviewer_quality_section(quality)]
    return text, (blocks[:MESSAGE_BLOCK_LIMIT - len(extra)] + extra)


SUBCOMMANDS: tuple[Subcommand, ...] = (Subcommand(
    Usage("disputes", ("disputes",), "double reviews that disagree (a manager settles) and "
          "trainers' disputes of grades"),
    no_args("disputes"),
    lambda call: call.answer(*disputes_answer(call.ctx, call.user)),
),)


def register(app: App, ctx: AppContext) -> None:
    after_ack = guarded(ctx)

    @app.action(SETTLE_ACTION)
    @after_ack
    def settle_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        with ctx.session() as session:
            view = load_dispute(session, click.sample_id)
        check_may_settle(ctx.workspace, view, user=click.user)
        ctx.client.views_open(trigger_id=click.trigger_id, view=settle_modal(
            view, task_name=ctx.workspace.task_type(view.task_type).name,
            private_metadata=settle_metadata(sample_id=view.sample_id, channel=click.channel)))

    @app.view(DisputeCallback.SETTLE_MODAL, middleware=[arrived])
    @after_ack
    def settle_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        submission = parse_settlement(body)
        problems = settle_problems(submission.grade, submission.note)
        if problems:
            field_of = {"grade": DisputeBlock.GRADE, "note": DisputeBlock.NOTE}
            ack(response_action="errors",
                errors={field_of[k]: v for k, v in problems.items()})
            return
        now = ctx.clock.now()

        def settled(session: Session) -> DisputeView:
            view = settle(session, ctx.workspace, sample_id=submission.sample_id,
                          manager=submission.user, grade=submission.grade or "",
                          note=submission.note or "", now=now)
            owe_settlement_dms(session, ctx.workspace, view, now=now)
            owe_precedent_offer(session, ctx.workspace, view, now=now)
            return view

        kept = store_submission(ctx, context, ack, settled, field=DisputeBlock.NOTE)
        if kept is None:
            return
        view = kept.value
        after_change(ctx, trainer=view.trainer, task_type=view.task_type,
                     sample_id=view.sample_id)
