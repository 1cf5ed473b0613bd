"""auth.test, users.info and conversations.* methods of the sandbox.

Each takes the workspace and the request params and returns the response body (or raises
ApiError); the caller holds the sandbox lock. History and replies page with an opaque
`cursor` (`response_metadata.next_cursor`), as Slack does.
"""

import base64
import binascii
from typing import Any

from bot.sandbox.params import Params
from bot.sandbox.records import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    WORKSPACE_URL,
    Channel,
    Message,
)
from bot.sandbox.state import ApiError, Workspace


def auth_test(ws: Workspace, p: Params) -> dict[str, Any]:
    return {
        "ok": True,
        "url": WORKSPACE_URL,
        "team": "Sandbox",
        "user": "auditbot",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


def users_info(ws: Workspace, p: Params) -> dict[str, Any]:
    user = ws.users.get(p.text("user") or "")
    if user is None:
        raise ApiError("user_not_found")
    return {"ok": True, "user": user.to_slack()}


def conversations_open(ws: Workspace, p: Params) -> dict[str, Any]:
    users = [u.strip() for u in (p.text("users") or "").split(",") if u.strip()]
    if p.text("channel"):
        channel = ws.resolve(p.text("channel"))
        return {"ok": True, "channel": {"id": channel.id}, "no_op": True, "already_open": True}
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > 1:
        raise ApiError("not_supported", ["[ERROR] the sandbox opens 1:1 DMs only"])
    existed = "D" + users[0][1:] in ws.channels
    channel = ws.dm_for(users[0])
    return {"ok": True, "channel": {"id": channel.id}, "no_op": existed, "already_open": existed}


def conversations_info(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = ws.resolve(p.text("channel"))
    return {"ok": True, "channel": _channel_info(channel)}


def _channel_info(channel: Channel) -> dict[str, Any]:
    if channel.is_dm:
        return {"id": channel.id, "is_im": True, "user": channel.dm_user, "is_open": True}
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": channel.id.startswith("C"),
        "is_group": channel.id.startswith("G"),
        "is_private": channel.id.startswith("G"),
        "is_im": False,
        "is_archived": channel.archived,
        "is_member": channel.bot_is_member,
    }


def _readable(ws: Workspace, p: Params) -> Channel:
    channel_id = p.text("channel") or ""
    if channel_id not in ws.channels:
        raise ApiError("channel_not_found")
    channel = ws.channels[channel_id]
    if not channel.is_dm and not channel.bot_is_member:
        raise ApiError("not_in_channel")
    return channel


def _page(messages: list[Message], p: Params, key: str, *, newest_first: bool) -> dict[str, Any]:
    """One page of ``messages``. The cursor names the ts the next page starts at (Slack's
    ``next_ts:…``), so messages deleted or posted between two pages shift nothing."""
    limit = max(1, min(p.number("limit", 100), 999))
    cursor = p.text("cursor")
    start = 0
    if cursor:
        try:
            kind, value = base64.b64decode(cursor, validate=True).decode().split(":", 1)
            if kind != "next_ts":
                raise ValueError(kind)
            anchor = float(value)
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise ApiError("invalid_cursor") from exc
        start = next((i for i, m in enumerate(messages)
                      if (float(m.ts) <= anchor if newest_first else float(m.ts) >= anchor)),
                     len(messages))
    chunk = messages[start : start + limit]
    include = p.flag("include_all_metadata")
    more = start + limit < len(messages)
    next_cursor = (base64.b64encode(f"next_ts:{messages[start + limit].ts}".encode()).decode()
                   if more else "")
    return {
        "ok": True,
        key: [m.to_slack(include_metadata=include) for m in chunk],
        "has_more": more,
        "response_metadata": {"next_cursor": next_cursor},
    }


def _window(messages: list[Message], p: Params) -> list[Message]:
    oldest = _ts_param(p, "oldest")
    latest = _ts_param(p, "latest")
    inclusive = p.flag("inclusive")

    def inside(m: Message) -> bool:
        ts = float(m.ts)
        if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
            return False
        return latest is None or ts < latest or (ts == latest and inclusive)

    return [m for m in messages if inside(m)]


def _ts_param(p: Params, name: str) -> float | None:
    raw = p.text(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise ApiError(f"invalid_ts_{name}") from exc


def conversations_history(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _readable(ws, p)
    top = [m for m in ws.visible(channel.id) if m.thread_ts is None]
    newest_first = list(reversed(_window(top, p)))
    body = _page(newest_first, p, "messages", newest_first=True)
    body["pin_count"] = 0
    return body


def conversations_replies(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _readable(ws, p)
    message = ws.find(channel.id, p.text("ts", required=True))
    if message is None:
        raise ApiError("thread_not_found")
    root = message.thread_ts or message.ts
    thread = [m for m in ws.visible(channel.id) if root in (m.ts, m.thread_ts)]
    return _page(_window(thread, p), p, "messages", newest_first=False)


METHODS = {
    "auth.test": auth_test,
    "users.info": users_info,
    "conversations.open": conversations_open,
    "conversations.info": conversations_info,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
}
