"""`/audit`: the table of subcommands, built here and only here, and the one listener that
dispatches from it; each subcommand acks at once and answers through response_url.

The table gathers what the listener modules declare (``commands.SUBCOMMANDS``,
``disputes.SUBCOMMANDS``) plus ``help``, which is about the table itself; the help lists
whatever the table holds when it is asked. A new subcommand is declared beside its runner
and added to the tuple below.

Every answer is ephemeral. The help (and what was not understood) is in the ack itself;
everything else is acked empty at once and answered by the runner: ack → read the
arguments → one service call → Block Kit → ``respond``.
"""

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.common.errors import AuditbotError
from bot.slack.commands import CommandProblem, Usage, help_text, no_args, split_command
from bot.slack.payloads import command_user
from bot.wiring.context import AppContext
from handlers import commands, disputes
from handlers.errors import guarded
from handlers.subcommand import Call, Subcommand


def _never(call: Call) -> None:  # `help` is answered in the ack
    raise AssertionError("help is answered in the ack")


HELP = Subcommand(Usage("help", ("help",), "this list"), no_args("help"), _never)

# Name → subcommand, in the order the help lists them.
SUBCOMMANDS: dict[str, Subcommand] = {
    s.usage.name: s for s in (*commands.SUBCOMMANDS, *disputes.SUBCOMMANDS, HELP)
}


def help_for(problem: str | None = None) -> str:
    return help_text((s.usage for s in SUBCOMMANDS.values()), problem=problem)


def register(app: App, ctx: AppContext) -> None:
    @app.command("/audit")
    @guarded(ctx)
    def audit(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        text = body.get("text")
        name, words = split_command(text if isinstance(text, str) else "")
        subcommand = SUBCOMMANDS.get(name)
        if subcommand is None or subcommand is HELP:
            problem = f"I don't know `{name}`." if name not in ("", "help") else None
            ack(response_type="ephemeral", text=help_for(problem))
            return
        try:
            args = subcommand.read(words)
        except CommandProblem as problem:
            ack(response_type="ephemeral", text=help_for(str(problem)))
            return
        if subcommand.check is not None:
            try:
                subcommand.check(ctx, body["user_id"])
            except AuditbotError as refusal:
                ack(response_type="ephemeral", text=refusal.user_message)
                return
        if subcommand.ack_text:
            ack(response_type="ephemeral", text=subcommand.ack_text)
        else:
            ack()
        subcommand.run(Call(ctx=ctx, user=command_user(body), args=args, respond=respond))
