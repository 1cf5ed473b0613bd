"""``Clear`` / ``Unclear`` on a sample's reasoning, and the short why that Unclear asks for.

Stored, then acked (``handlers.kept``), as grades are: a refusal is answered ephemerally
after the ack (``guarded``); the sample message update goes out through the outbox.
"""

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.services.clarity import MIN_UNCLEAR_REASON, check_may_rate, reason_problem, record_clarity
from bot.services.grading import load_sample
from bot.slack.blocks import clarity_modal
from bot.slack.ids import Action, Block, Callback
from bot.slack.payloads import clarity_modal_metadata, parse_clarity_submission, parse_click
from bot.wiring.context import AppContext
from handlers.errors import guarded
from handlers.kept import arrived, store_in_time, store_submission
from handlers.modals import open_modal


def register(app: App, ctx: AppContext) -> None:
    after_ack = guarded(ctx)

    @app.action(Action.CLARITY_CLEAR, middleware=[arrived])
    @after_ack
    def clear_clicked(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        try:
            click = parse_click(body)
            store_in_time(ctx, context, lambda session: record_clarity(
                session, ctx.workspace, sample_id=click.sample_id, reviewer=click.user,
                rating="clear", reason=None, now=ctx.clock.now()))
        finally:
            ack()  # a refusal or "not recorded" is answered after it (see `guarded`)
        ctx.outbox.wake()

    @app.action(Action.CLARITY_UNCLEAR)
    @after_ack
    def unclear_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        with ctx.session() as session:
            record = load_sample(session, click.sample_id)
            check_may_rate(ctx.workspace, record, user=click.user)
        open_modal(ctx, click.trigger_id, clarity_modal(
            trainer=record.thread.trainer, reasoning=record.output.reasoning or "",
            private_metadata=clarity_modal_metadata(sample_id=click.sample_id),
            minimum=MIN_UNCLEAR_REASON), user=click.user)

    @app.view(Callback.CLARITY_MODAL, middleware=[arrived])
    @after_ack
    def unclear_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        submission = parse_clarity_submission(body)
        problem = reason_problem("unclear", submission.reason)
        if problem is not None:
            ack(response_action="errors", errors={Block.CLARITY_REASON: problem})
            return
        kept = store_submission(ctx, context, ack, lambda session: record_clarity(
            session, ctx.workspace, sample_id=submission.sample_id, reviewer=submission.user,
            rating="unclear", reason=submission.reason, now=ctx.clock.now()),
            field=Block.CLARITY_REASON)
        if kept is not None:
            ctx.outbox.wake()
