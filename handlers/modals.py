"""Opening a modal from a click, shared by the listeners that open one."""

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.wiring.context import AppContext

log = logging.getLogger(__name__)


def open_modal(ctx: AppContext, trigger_id: str | None, view: dict[str, Any], *,
               user: str) -> None:
    try:
        ctx.client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        # The same click delivered twice (a Slack retry) races for one trigger: the loser
        # finds it used, and the person already has the winner's modal open.
        if error.response.get("error") != "exchanged_trigger_id":
            raise
        log.info("a repeated click by %s found its modal already open", user)
