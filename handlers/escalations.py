"""Acknowledge, Snooze and Resolve on escalation notices: what they change is stored, then
acked (``handlers.kept``); the Snooze and Resolve buttons' forms open after their ack."""

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.services.escalation import (
    SNOOZE_UNTIL_DATE,
    SnoozeEndProblem,
    acknowledge,
    check_may_act,
    check_may_snooze,
    load_escalation,
    resolve,
    resolve_note_problem,
    snooze,
    snooze_end,
    snooze_reason_problem,
)
from bot.slack.escalation_blocks import resolve_modal, snooze_modal
from bot.slack.ids import Action, Callback, EscalationBlock
from bot.slack.payloads import (
    parse_click,
    parse_id,
    parse_resolve,
    parse_snooze,
    resolve_metadata,
    snooze_metadata,
)
from bot.wiring.context import AppContext
from handlers.errors import guarded
from handlers.kept import arrived, store_in_time, store_submission


def register(app: App, ctx: AppContext) -> None:
    after_ack = guarded(ctx)

    @app.action(Action.ESCALATION_ACK, middleware=[arrived])
    @after_ack
    def acknowledge_clicked(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        try:
            click = parse_click(body)
            store_in_time(ctx, context, lambda session: acknowledge(
                session, ctx.workspace, escalation_id=_escalation_id(click.value),
                user=click.user, now=ctx.clock.now(), channel=click.channel))
        finally:
            ack()  # a refusal or "not recorded" is answered after it (see `guarded`)
        ctx.outbox.wake()

    @app.action(Action.ESCALATION_RESOLVE)
    @after_ack
    def resolve_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        escalation_id = _escalation_id(click.value)
        with ctx.session() as session:
            escalation = load_escalation(session, escalation_id)
            check_may_act(ctx.workspace, session, escalation, click.user, channel=click.channel)
        metadata = resolve_metadata(escalation_id=escalation_id, channel=click.channel)
        ctx.client.views_open(trigger_id=click.trigger_id, view=resolve_modal(
            escalation_id=escalation_id, trainer=escalation.trainer, private_metadata=metadata))

    @app.view(Callback.RESOLVE_MODAL, middleware=[arrived])
    @after_ack
    def resolve_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        # Read before the ack, so that damaged metadata is a field error on the open form.
        form = parse_resolve(body)
        problem = resolve_note_problem(form.note)
        if problem:
            ack(response_action="errors", errors={EscalationBlock.NOTE: problem})
            return
        kept = store_submission(ctx, context, ack, lambda session: resolve(
            session, ctx.workspace, escalation_id=form.escalation_id, user=form.user,
            note=form.note or "", now=ctx.clock.now(), channel=form.channel),
            field=EscalationBlock.NOTE)
        if kept is None:
            return
        ctx.outbox.wake()

    @app.action(Action.ESCALATION_SNOOZE)
    @after_ack
    def snooze_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        escalation_id = _escalation_id(click.value)
        with ctx.session() as session:
            escalation = load_escalation(session, escalation_id)
            check_may_snooze(ctx.workspace, escalation, click.user)
        metadata = snooze_metadata(escalation_id=escalation_id)
        ctx.client.views_open(trigger_id=click.trigger_id, view=snooze_modal(
            trainer=escalation.trainer, private_metadata=metadata))

    @app.view(Callback.SNOOZE_MODAL, middleware=[arrived])
    @after_ack
    def snooze_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        form = parse_snooze(body)
        now = ctx.clock.now()
        errors: dict[str, str] = {}
        problem = snooze_reason_problem(form.reason)
        if problem:
            errors[EscalationBlock.REASON] = problem
        try:
            until = snooze_end(form.choice, form.day, now=now, workspace=ctx.workspace)
        except SnoozeEndProblem as error:
            field = EscalationBlock.DAY if form.choice == SNOOZE_UNTIL_DATE else \
                EscalationBlock.UNTIL
            errors[field] = error.user_message
        if errors:
            ack(response_action="errors", errors=errors)
            return
        kept = store_submission(ctx, context, ack, lambda session: snooze(
            session, ctx.workspace, escalation_id=form.escalation_id, user=form.user,
            until=until, reason=form.reason or "", now=now), field=EscalationBlock.REASON)
        if kept is None:
            return
        ctx.outbox.wake()


def _escalation_id(value: str) -> int:
    return parse_id(value, "an escalation id")
