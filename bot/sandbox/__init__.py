"""A local, faithful stand-in for Slack, for end-to-end tests and `auditbot demo`.

`SlackSandbox` serves the Web API over real HTTP (use it with `WebClient(base_url=sandbox.url)`)
and records what the bot did; `SlackDriver` sends the app signed slash commands, clicks, view
submissions and events; `bot.sandbox.render` prints what people would see.
"""

from bot.sandbox.driver import SlackDriver
from bot.sandbox.records import Call, Ephemeral, Message, ResponsePost, ViewRecord
from bot.sandbox.server import SlackSandbox
from bot.sandbox.transport import DriverResponse

__all__ = [
    "Call",
    "DriverResponse",
    "Ephemeral",
    "Message",
    "ResponsePost",
    "SlackDriver",
    "SlackSandbox",
    "ViewRecord",
]
