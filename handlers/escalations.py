"""Acknowledge, Snooze and Resolve on escalation notices: what they change is stored, then
acked (``handlers.kept``); the Snooze and Resolve buttons' forms open after their ack."""

import json
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.services.escalation import (
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
from bot.slack.ids import Action, Callback
from bot.slack.payloads import form_metadata, form_value, parse_click, parse_id, user_of
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
        metadata = json.dumps({"escalation_id": escalation_id, "channel": click.channel,
                               "thread_ts": None})
        ctx.client.views_open(trigger_id=click.trigger_id, view=resolve_modal(
            escalation_id=escalation_id, trainer=escalation.trainer, private_metadata=metadata))

    @app.view(Callback.RESOLVE_MODAL, middleware=[arrived])
    @after_ack
    def resolve_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        view = body.get("view")
        # Read before the ack, so that damaged metadata is a field error on the open form.
        metadata = form_metadata(view, "resolve form")
        escalation_id = parse_id(metadata.get("escalation_id"), "an escalation id")
        channel = metadata.get("channel")
        note = form_value(view, "note")
        note = note if isinstance(note, str) else None
        problem = resolve_note_problem(note)
        if problem:
            ack(response_action="errors", errors={"note": problem})
            return
        # The channel the form was opened from: private_metadata is set by us when the
        # signed click was checked, and Slack keeps it out of the user's reach.
        kept = store_submission(ctx, context, ack, lambda session: resolve(
            session, ctx.workspace, escalation_id=escalation_id, user=user_of(body),
            note=note or "", now=ctx.clock.now(),
            channel=channel if isinstance(channel, str) else None), field="note")
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
        metadata = json.dumps({"escalation_id": escalation_id})
        ctx.client.views_open(trigger_id=click.trigger_id, view=snooze_modal(
            trainer=escalation.trainer, private_metadata=metadata))

    @app.view(Callback.SNOOZE_MODAL, middleware=[arrived])
    @after_ack
    def snooze_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        view = body.get("view")
        metadata = form_metadata(view, "snooze form")
        escalation_id = parse_id(metadata.get("escalation_id"), "an escalation id")
        reason = form_value(view, "reason")
        reason = reason if isinstance(reason, str) else None
        selected = form_value(view, "until", "selected_option")
        choice = selected.get("value") if isinstance(selected, dict) else None
        now = ctx.clock.now()
        errors: dict[str, str] = {}
        problem = snooze_reason_problem(reason)
        if problem:
            errors["reason"] = problem
        try:
            until = snooze_end(choice if isinstance(choice, str) else None,
                               _day(form_value(view, "day", "selected_date")), now=now,
                               workspace=ctx.workspace)
        except SnoozeEndProblem as error:
            errors["day" if choice == "date" else "until"] = error.user_message
        if errors:
            ack(response_action="errors", errors=errors)
            return
        kept = store_submission(ctx, context, ack, lambda session: snooze(
            session, ctx.workspace, escalation_id=escalation_id, user=user_of(body),
            until=until, reason=reason or "", now=now), field="reason")
        if kept is None:
            return
        ctx.outbox.wake()


def _day(value: object) -> date | None:
    """The datepicker's ``YYYY-MM-DD``; anything else is no day."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _escalation_id(value: str) -> int:
    return parse_id(value, "an escalation id")
