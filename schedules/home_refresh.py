"""Publishing App Homes after changes, coalesced (one Home: ``bot.follow.home``).

    refresh_homes(ctx, now=now)                       # the refresher's pass (every few s)

A pass turns the outbox rows not read yet into "dirty" marks for the people
they concern (``bot.services.home_feed``), then publishes each marked Home once. However
many grades land between two passes, a viewer gets one ``views.publish``; people who never
opened the Home get none (theirs is built when they open it).
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.follow.home import publish_home
from bot.services.home_feed import dirty_viewers, mark_homes_dirty, mark_published, take_feed
from bot.slack.links import busy
from bot.wiring.context import AppContext

log = logging.getLogger(__name__)
MAX_PER_PASS = 200  # Homes published in one pass; the rest stay marked for the next


@dataclass(frozen=True)
class HomeRefreshSummary:
    published: tuple[str, ...]
    failed: tuple[str, ...]

    def describe(self) -> str:
        return (f"Home refresh: {len(self.published)} published"
                + (f", {len(self.failed)} failed" if self.failed else ""))


def refresh_homes(ctx: AppContext, *, now: datetime) -> HomeRefreshSummary:
    with ctx.session() as session:
        mark_homes_dirty(session, users=take_feed(session, ctx.workspace), now=now)
    with ctx.session() as session:
        dirty = dirty_viewers(session)[:MAX_PER_PASS]
    published, failed = [], []
    for home in dirty:
        user = home.user
        try:
            complete = publish_home(ctx, user=user, now=now)
        except SlackApiError as error:
            log.warning("could not publish %s's Home: %s", user, error.response.get("error"))
            failed.append(user)
            if error.response.status_code == 429:
                break  # rate limited: everyone left stays marked for the next pass
            if busy(error):
                continue  # Slack is failing for now: stays marked for the next pass
        else:
            published.append(user)
            if not complete:
                continue  # links missing while Slack was busy: published again next pass
        # Published, or refused for good (the next open builds it afresh): not marked again.
        with ctx.session() as session:
            mark_published(session, user=user, seen=home, now=now)
    return HomeRefreshSummary(tuple(published), tuple(failed))
