"""The running bot for end-to-end tests: ``bot.demo.local`` with the test workspace's people."""

from sqlalchemy import Engine

from bot.common.clock import FixedClock
from bot.demo.local import BOT_TOKEN, LocalBot, start_local_bot
from bot.sandbox.server import SlackSandbox
from bot.workspace import Workspace
from tests.support.factories import CHANNELS, USERS

RunningBot = LocalBot


def start_bot(*, engine: Engine, workspace: Workspace, clock: FixedClock,
              sandbox: SlackSandbox | None = None, worker: bool = True,
              socket_mode: bool = False) -> LocalBot:
    if sandbox is None:
        sandbox = SlackSandbox(bot_token=BOT_TOKEN, users=dict(USERS), channels=dict(CHANNELS))
        sandbox.start()
    return start_local_bot(engine=engine, workspace=workspace, clock=clock, sandbox=sandbox,
                           worker=worker, socket_mode=socket_mode)
