"""A click answered is a click kept: what a button or a form changes is stored before the
ack, within a budget that keeps the ack inside Slack's 3 seconds.

Usage::

    @app.action(Action.ESCALATION_ACK, middleware=[arrived])
    @after_ack
    def acknowledge_clicked(ack, body, context):
        try:
            store_in_time(ctx, context, lambda session: acknowledge(session, ...))
        finally:
            ack()          # a refusal or "not recorded" is answered after it (``guarded``)

The HTTP answer (or the Socket Mode ack) is Slack's proof that the click was taken, so it
goes out only once the change is committed; a change that could not be committed in time
raises ``NotRecorded`` with nothing kept, and the person reads why.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from slack_bolt import Ack, BoltContext
from sqlmodel import Session

from bot.common.errors import AuditbotError
from bot.store.db import StoreBusy
from bot.wiring.context import AppContext

log = logging.getLogger(__name__)
T = TypeVar("T")

# From a click's arrival to its change committed. Slack shows an error past 3 seconds; the
# rest is for the listener to start, the answer to travel and Slack's side of the clock.
STORE_BUDGET = 2.0
NOT_RECORDED = ("That was *not recorded*: auditbot's database did not answer in time. "
                "Please try again in a moment.")


class NotRecorded(AuditbotError):
    """The store did not take the change in time; nothing was kept."""

    def __init__(self) -> None:
        super().__init__(NOT_RECORDED)


def arrived(context: BoltContext, next: Callable[[], None]) -> None:
    """Listener middleware: runs on the thread that received the request, before the
    listener waits for a worker, so the budget counts the time spent waiting too."""
    context["arrived"] = time.monotonic()
    next()


def store_in_time(ctx: AppContext, context: BoltContext, change: Callable[[Session], T]) -> T:
    """``change`` committed within the click's budget, or ``NotRecorded`` with nothing kept.
    A listener that got its worker too late to make it is refused without a query."""
    deadline = context.get("arrived", time.monotonic()) + STORE_BUDGET
    try:
        with ctx.bounded_session(deadline=deadline) as session:
            return change(session)
    except StoreBusy as busy:
        log.warning("a change by %s was not recorded: %s", context.get("user_id"), busy)
        raise NotRecorded() from None


@dataclass(frozen=True)
class Kept(Generic[T]):
    """What a form's change returned, once committed."""

    value: T


def store_submission(ctx: AppContext, context: BoltContext, ack: Ack,
                     change: Callable[[Session], T], *, field: str) -> Kept[T] | None:
    """A form's change stored, then acked (the form closes). ``None`` when the store did
    not take it in time: the form stays open with the person's text and the reason under
    ``field``. A refusal is acked, then raised for ``guarded`` to answer."""
    try:
        value = store_in_time(ctx, context, change)
    except NotRecorded as busy:
        ack(response_action="errors", errors={field: busy.user_message})
        return None
    except Exception:
        ack()
        raise
    ack()
    return Kept(value)

