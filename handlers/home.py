"""The App Home: built fresh when someone opens it; its pager buttons page one part.

Refreshing after changes is the job of ``schedules.home_refresh`` (coalesced marks), so
these listeners only answer the person in front of the Home.
"""

import re
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App

from bot.follow.home import publish_home
from bot.services.home_feed import (
    record_viewer,
    set_viewer_pages,
    viewer_pages,
)
from bot.slack.ids import Action
from bot.slack.payloads import BadPayload, parse_click, parse_id
from bot.wiring.context import AppContext
from handlers.errors import guarded

PAGER = re.compile(f"^{Action.HOME_PAGE}-")


def register(app: App, ctx: AppContext) -> None:
    @app.event("app_home_opened")
    @guarded(ctx)
    def home_opened(event: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
            return  # the Messages tab
        now = ctx.clock.now()
        with ctx.session() as session:
            pages = record_viewer(session, user=user, now=now)
        _publish(ctx, user=user, now=now, pages=pages)

    @app.action(PAGER)
    @guarded(ctx)
    def page_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        part, page = _page(click.value)
        now = ctx.clock.now()
        with ctx.session() as session:
            record_viewer(session, user=click.user, now=now)
            pages = {**viewer_pages(session, user=click.user), part: page}
            set_viewer_pages(session, user=click.user, pages=pages)
        _publish(ctx, user=click.user, now=now, pages=pages)


def _publish(ctx: AppContext, *, user: str, now: datetime, pages: dict[str, int]) -> None:
    """Publish at once; if Slack was too busy to link everything, the refresher publishes
    it again (with the links) on its next pass."""
    publish_home(ctx, user=user, now=now, pages=pages, mark_if_incomplete=True)


def _page(value: str) -> tuple[str, int]:
    part, _, number = value.partition(":")
    if not part:
        raise BadPayload(f"pager value {value[:40]!r} is not part:page")
    return part, parse_id(number, "a page number")
