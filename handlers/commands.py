"""`/audit`: ack at once, then answer through response_url (ephemeral)."""

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.context import AppContext
from bot.errors import NotAManager
from bot.services.commands import HELP, parse_command
from handlers.errors import guarded
from schedules.weekly_audit import run_weekly_audit


def register(app: App, ctx: AppContext) -> None:
    @app.command("/audit")
    @guarded(ctx)
    def audit(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        command = parse_command(body.get("text") or "")
        if command.name == "help":
            text = f"{command.problem}\n\n{HELP}" if command.problem else HELP
            ack(response_type="ephemeral", text=text)
            return
        if command.name == "run":
            user = body["user_id"]
            if not ctx.workspace.is_manager(user):
                ack()
                raise NotAManager("Only managers can run the audit by hand.")
            ack(response_type="ephemeral", text="Posting this week's audit…")
            summary = run_weekly_audit(ctx, now=ctx.clock.now())
            respond(response_type="ephemeral", replace_original=False,
                    text=f"```{summary.describe()}```")
