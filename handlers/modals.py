"""Opening a modal from a click, shared by the listeners that open one."""

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.wiring.context import AppContext

log = logging.getLogger(__name__)


def open_modal(ctx: AppContext, trigger_id: str | None, view: dict[str, Any], *,
               user: str) -> dict[str, Any] | None:
    """The modal opened (Slack's view, with its ``id`` and ``hash``); ``None`` when a
    repeat of the same click had opened it already."""
    try:
        opened = ctx.client.views_open(trigger_id=trigger_id, view=view).get("view")
    except SlackApiError as error:
        # The same click delivered twice (a Slack retry) races for one trigger: the loser
        # finds it used, and the person already has the winner's modal open.
        if error.response.get("error") != "exchanged_trigger_id":
            raise
        log.info("a repeated click by %s found its modal already open", user)
        return None
    return opened if isinstance(opened, dict) else None


def fill_modal(ctx: AppContext, opened: dict[str, Any] | None, view: dict[str, Any]) -> None:
    """Replace a modal opened a moment ago with its full version (what took longer to read
    than a trigger id lives). Input blocks keep their ids, so what the person typed stays;
    a modal already submitted, closed or changed since (``hash``) is left as it is."""
    if opened is None or not opened.get("id"):
        return
    try:
        ctx.client.views_update(view_id=opened["id"], hash=opened.get("hash"), view=view)
    except SlackApiError as error:
        log.info("the modal %s was not filled in: %s", opened["id"],
                 error.response.get("error"))
