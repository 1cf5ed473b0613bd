"""What an `/audit` subcommand is: its usage for the help, an argument reader and a runner.

Listener modules declare their subcommands with these (``commands.SUBCOMMANDS``,
``disputes.SUBCOMMANDS``); ``handlers.slash`` gathers them into the one table it dispatches
from. Kept below the listeners so a listener declares a subcommand without importing another.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Respond

from bot.slack.commands import ArgReader, Usage
from bot.wiring.context import AppContext
from handlers.errors import check_answer


@dataclass(frozen=True)
class Call:
    """One `/audit` request, after the ack."""

    ctx: AppContext
    user: str
    args: Any  # what the subcommand's reader returned
    respond: Respond

    def answer(self, text: str, blocks: list[dict] | None = None) -> None:
        check_answer(self.respond(response_type="ephemeral", replace_original=False, text=text,
                                  blocks=blocks), user=self.user)


@dataclass(frozen=True)
class Subcommand:
    usage: Usage
    read: ArgReader
    run: Callable[[Call], None]
    ack_text: str | None = None  # shown at once while a slow answer is made
    # Who may ask, checked before the ack: a refusal is the ack itself, so nobody is told
    # "Posting…" and then refused.
    check: Callable[[AppContext, str], None] | None = None
