"""Slack listeners: each module translates payloads into domain calls and holds no rules."""

from slack_bolt import App

from bot.wiring.context import AppContext
from handlers import (
    clarity,
    commands,
    disagreements,
    disputes,
    errors,
    escalations,
    grading,
    home,
    precedents,
    slash,
    trainer_disputes,
)


def register(app: App, ctx: AppContext) -> None:
    errors.register(app, ctx)
    grading.register(app, ctx)
    clarity.register(app, ctx)
    disagreements.register(app, ctx)
    slash.register(app, ctx)
    commands.register(app, ctx)
    escalations.register(app, ctx)
    disputes.register(app, ctx)
    trainer_disputes.register(app, ctx)
    home.register(app, ctx)
    precedents.register(app, ctx)
