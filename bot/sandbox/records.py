"""Plain records of what happened in the sandbox, handed to tests and the demo as copies.

`Message` is a channel or DM message (top-level or thread reply), `Ephemeral` an ephemeral
message seen by one user, `ViewRecord` a modal or home view (latest version), `Call` one Web
API request, `ResponsePost` one POST to a response_url.
"""

import copy
from dataclasses import dataclass, field, replace
from typing import Any

BOT_USER_ID = "U0AUDITBOT"
BOT_ID = "B0AUDITBOT"
APP_ID = "A0AUDITBOT"
TEAM_ID = "T0SANDBOX"
TEAM_DOMAIN = "sandbox"
WORKSPACE_URL = "https://sandbox.slack.test/"


@dataclass
class Message:
    """A message as stored; `thread_ts` is None for top-level messages."""

    channel: str
    ts: str
    text: str
    user: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None
    metadata: dict[str, Any] | None = None
    edited: bool = False
    edited_ts: str | None = None
    deleted: bool = False
    reply_count: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)  # shared with files.* (api_files)

    def copy(self) -> "Message":
        blocks, metadata = copy.deepcopy(self.blocks), copy.deepcopy(self.metadata)
        return replace(self, blocks=blocks, metadata=metadata, files=copy.deepcopy(self.files))

    def to_slack(self, *, include_metadata: bool = True) -> dict[str, Any]:
        """The message as Slack's Web API and interaction payloads show it."""
        out: dict[str, Any] = {"type": "message", "user": self.user, "ts": self.ts}
        if self.bot_id:
            out.update(bot_id=self.bot_id, app_id=APP_ID)
        out["text"] = self.text
        out["team"] = TEAM_ID
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        elif self.reply_count:
            out.update(thread_ts=self.ts, reply_count=self.reply_count)
        if self.edited:
            out["edited"] = {"user": self.user, "ts": self.edited_ts}
        if include_metadata and self.metadata:
            out["metadata"] = copy.deepcopy(self.metadata)
        if self.files:
            out["files"] = copy.deepcopy(self.files)
        return out


@dataclass
class Ephemeral:
    """An ephemeral message: only `user` saw it, in `channel`."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    message_ts: str = ""
    thread_ts: str | None = None
    source: str = "chat.postEphemeral"  # or "response_url" / "command_ack"
    replaced: bool = False

    def copy(self) -> "Ephemeral":
        return replace(self, blocks=copy.deepcopy(self.blocks))


@dataclass
class ViewRecord:
    """A modal (opened or pushed) or a home tab, as its latest version; `versions` holds all."""

    id: str
    user: str
    view: dict[str, Any]
    versions: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False
    how: str = "views.open"  # views.open | views.push | views.publish

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id", ""))

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata", ""))

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.view.get("blocks", []))

    @property
    def hash(self) -> str:
        return str(self.view.get("hash", ""))

    def copy(self) -> "ViewRecord":
        return replace(self, view=copy.deepcopy(self.view), versions=copy.deepcopy(self.versions))


@dataclass(frozen=True)
class Call:
    """One Web API call as the sandbox answered it.

    `status` 0 means the connection was dropped on purpose (`accept_then_fail(status=0)`);
    `fault` names the injected fault ("fail", "ratelimit", "accept_then_fail") or, starting
    with "bug:", a sandbox exception; a 429 from the per-channel bucket has `fault` None.
    """

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    time: float
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass(frozen=True)
class ResponsePost:
    """One POST to a response_url, with the HTTP status and body the sandbox answered."""

    response_url: str
    body: dict[str, Any]
    status: int
    answer: str
    time: float


@dataclass
class User:
    id: str
    name: str
    tz: str = "America/New_York"
    is_bot: bool = False

    @property
    def handle(self) -> str:
        return self.name.lower().replace(" ", ".")

    def to_slack(self) -> dict[str, Any]:
        profile = {"display_name": self.name, "real_name": self.name}
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.handle,
            "real_name": self.name,
            "deleted": False,
            "tz": self.tz,
            "is_bot": self.is_bot,
            "profile": profile,
        }


@dataclass
class Channel:
    """A conversation; `members` None means every known user is a member."""

    id: str
    name: str
    bot_is_member: bool = True
    archived: bool = False
    members: set[str] | None = None
    dm_user: str | None = None

    @property
    def is_dm(self) -> bool:
        return self.dm_user is not None

    def has_member(self, user: str) -> bool:
        if self.dm_user is not None:
            return user == self.dm_user
        return self.members is None or user in self.members
