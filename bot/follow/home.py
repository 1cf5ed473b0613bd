"""Publishing one App Home: when its viewer opens it (a listener) and on the refresher's
pass (``schedules.home_refresh``).

    publish_home(ctx, user="U0NURSE01", now=now)     # build and views.publish one Home
"""

from datetime import datetime

from bot.services.home import home_data
from bot.services.home_feed import mark_homes_dirty, viewer_pages
from bot.slack.home_blocks import home_view, messages_to_link
from bot.slack.links import permalinks_for
from bot.wiring.context import AppContext


def publish_home(ctx: AppContext, *, user: str, now: datetime,
                 pages: dict[str, int] | None = None, mark_if_incomplete: bool = False) -> bool:
    """Build ``user``'s Home from the store as it is now and publish it. Returns False if
    some links are missing because Slack was busy: the Home is worth publishing again.

    With ``mark_if_incomplete`` that need is stored before the Home goes out, so a crash
    (or a reader) between the publish and the mark cannot miss it.
    """
    with ctx.session() as session:
        if pages is None:
            pages = viewer_pages(session, user=user)
        data = home_data(session, ctx.workspace, user=user, now=now, pages=pages)
    lookup = permalinks_for(ctx.client).lookup(messages_to_link(data))
    if mark_if_incomplete and not lookup.complete:
        with ctx.session() as session:
            mark_homes_dirty(session, users={user}, now=now)
    names = {t.key: t.name for t in ctx.workspace.task_types}
    ctx.client.views_publish(user_id=user, view=home_view(data, links=lookup.links, now=now,
                                                          task_names=names))
    return lookup.complete
