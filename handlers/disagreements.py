"""``Adjudicate`` on a disagreement between trainers, and the ruling's modal."""

from typing import Any

from slack_bolt import Ack, App, BoltContext
from sqlmodel import Session

from bot.follow.after import after_ruling
from bot.services.disagreements import (
    adjudicate,
    check_may_adjudicate,
    choices,
    load_disagreement,
    ruling_problems,
)
from bot.services.grading import MIN_EXPLANATION
from bot.services.tallies import Verdict, verdicts_of
from bot.slack.consistency_notices import owe_disagreement_precedent_offer
from bot.slack.disagreement_blocks import adjudicate_modal
from bot.slack.disagreement_notices import owe_ruling_dms
from bot.slack.ids import Action, Block, Callback
from bot.slack.payloads import (
    parse_click,
    parse_id,
    parse_ruling_submission,
    ruling_modal_metadata,
)
from bot.wiring.context import AppContext
from handlers.errors import guarded
from handlers.kept import arrived, store_submission
from handlers.modals import open_modal


def register(app: App, ctx: AppContext) -> None:
    after_ack = guarded(ctx)

    @app.action(Action.ADJUDICATE)
    @after_ack
    def adjudicate_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        disagreement_id = parse_id(click.value, "a disagreement id")
        with ctx.session() as session:
            row = load_disagreement(session, disagreement_id)
            check_may_adjudicate(ctx.workspace, row, user=click.user)
        open_modal(ctx, click.trigger_id, adjudicate_modal(
            labels=choices(ctx.workspace, row), item=row.item, minimum=MIN_EXPLANATION,
            private_metadata=ruling_modal_metadata(disagreement_id=disagreement_id)),
            user=click.user)

    @app.view(Callback.ADJUDICATE_MODAL, middleware=[arrived])
    @after_ack
    def ruling_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        submission = parse_ruling_submission(body)
        with ctx.session() as session:
            row = load_disagreement(session, submission.disagreement_id)
        problems = ruling_problems(row, label=submission.label, reason=submission.reason)
        if problems:
            field_of = {"label": Block.RULING_LABEL, "reason": Block.RULING_REASON}
            ack(response_action="errors", errors={field_of[k]: v for k, v in problems.items()})
            return
        now = ctx.clock.now()

        def ruled(session: Session) -> list[Verdict]:
            row = adjudicate(session, ctx.workspace, disagreement_id=submission.disagreement_id,
                             user=submission.user, label=submission.label or "",
                             reason=submission.reason or "", now=now)
            owe_ruling_dms(session, ctx.workspace, row, now=now)
            owe_disagreement_precedent_offer(session, ctx.workspace, row, now=now)
            return verdicts_of(row)

        kept = store_submission(ctx, context, ack, ruled, field=Block.RULING_REASON)
        if kept is None:
            return
        # the ruling moved each involved trainer's precision
        after_ruling(ctx, [(v.trainer, v.task_type) for v in kept.value])
