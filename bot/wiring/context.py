"""Everything a listener or job needs, wired once (the composition root hands it around).

Usage::

    ctx = AppContext.build(settings, workspace, clock=SystemClock())
    with ctx.session() as session: ...      # commits on success
    with ctx.read_session() as session: ... # reads only, never takes SQLite's write lock
    ctx.outbox.wake()                        # after committing owed Slack writes
    ctx.follow_up.submit(fn, ...)            # work after an ack, off the listener pool
    ctx.follow_keys.submit(key, fn)          # the same, once per key while it waits
"""

from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from sqlalchemy import Engine
from sqlmodel import Session

from bot.common.clock import Clock
from bot.common.coalesce import Coalescer
from bot.common.grades import use_scale
from bot.common.logs import ContextExecutor
from bot.services.grade_levels import sync_grade_levels
from bot.slack.delivery import OutboxWorker, outbox_client
from bot.slack.pacing import SLACK_PACE, Pace
from bot.store.db import bounded_session, make_engine, read_scope, session_scope
from bot.wiring.config import Settings
from bot.workspace import Problem, Workspace, WorkspaceError

FOLLOW_UP_GATHER = 0.1  # seconds a follow-up batch waits for more of the same burst


@dataclass
class AppContext:
    settings: Settings
    workspace: Workspace
    engine: Engine
    clock: Clock
    client: WebClient
    outbox: OutboxWorker
    # What follows an ack (message updates, the threshold check, notes) runs here, never on
    # Bolt's listener pool: a listener waiting there for a thread would ack late.
    follow_up: ContextExecutor = field(default_factory=lambda: ContextExecutor(
        max_workers=2, thread_name_prefix="follow-up"))
    # Follow-up that reads the store afresh (a trainer's check, a thread's feedback) runs
    # once for a burst of grades of the same trainer, a moment after the last (``Coalescer``).
    follow_keys: Coalescer = field(init=False)

    def __post_init__(self) -> None:
        self.follow_keys = Coalescer(self.follow_up, gather=FOLLOW_UP_GATHER)

    @classmethod
    def build(cls, settings: Settings, workspace: Workspace, *, clock: Clock,
              engine: Engine | None = None, outbox_backoff: float = 1.0,
              pace: Pace = SLACK_PACE) -> "AppContext":
        engine = engine or make_engine(settings.database_url)
        use_grade_scale(engine, workspace)
        token = settings.slack_bot_token or ""
        # Direct answers (modals, ephemeral replies) are not in the outbox: they are safe
        # to retry on a dropped connection or a 429, and slack_sdk's handlers do that.
        client = WebClient(
            token=token,
            base_url=settings.slack_api_url,
            timeout=10,
            retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1),
                            RateLimitErrorRetryHandler(max_retry_count=1)],
        )
        worker = OutboxWorker(engine=engine, client=outbox_client(token, settings.slack_api_url),
                              workspace=workspace, clock=clock, backoff_factor=outbox_backoff,
                              lease=settings.outbox_lease, pace=pace)
        return cls(settings=settings, workspace=workspace, engine=engine, clock=clock,
                   client=client, outbox=worker)

    def session(self) -> AbstractContextManager[Session]:
        return session_scope(self.engine)

    def read_session(self) -> AbstractContextManager[Session]:
        """A session that only reads (``bot.store.db.read_scope``): on SQLite it never waits for,
        nor holds up, the writer."""
        return read_scope(self.engine)

    def bounded_session(self, *, deadline: float) -> AbstractContextManager[Session]:
        """A session that commits by ``deadline`` or raises ``bot.store.db.StoreBusy``."""
        return bounded_session(self.engine, deadline=deadline)


def use_grade_scale(engine: Engine, workspace: Workspace) -> None:
    """The workspace's scale is the one in force in this process (``bot.common.grades``), and the
    store accepts its grades, and only those (``grade_level``).

    A scale that drops a level stored grades still use is refused (``WorkspaceError``,
    nothing changed, nothing starts): scores and rules could not read those grades."""
    with session_scope(engine) as session:
        kept = sync_grade_levels(session, workspace.scale)
        if kept:
            raise WorkspaceError([Problem("grade_scale", (
                f"drops {', '.join(repr(k) for k in kept)}, which stored grades use: keep "
                "the level (a new one may be added, and labels, markers and weights "
                "changed)"))])
    use_scale(workspace.scale)
