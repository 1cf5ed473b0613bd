"""chat.* Web API methods of the sandbox: postMessage, update, delete, postEphemeral,
getPermalink. Each takes the workspace and the request params and returns the response body
(or raises ApiError / RateLimited); the caller holds the sandbox lock.
"""

from typing import Any

from bot.sandbox.blockkit import validate_message_blocks, with_generated_ids
from bot.sandbox.params import Params
from bot.sandbox.ratelimit import retry_after_header
from bot.sandbox.records import BOT_USER_ID, WORKSPACE_URL, Channel, Ephemeral
from bot.sandbox.state import ApiError, RateLimited, Workspace

MAX_TEXT = 40_000


def content(
    text: Any, blocks: Any, *, required: bool = True
) -> tuple[str, list[dict[str, Any]] | None]:
    """Validated (text, blocks-with-ids) of a message; blocks None when not given."""
    if blocks is not None and not isinstance(blocks, list):
        raise ApiError("invalid_blocks_format")
    text = "" if text is None else str(text)
    if required and not text and not blocks:
        raise ApiError("no_text")
    if len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    if blocks is not None:
        errors = validate_message_blocks(blocks)
        if errors:
            raise ApiError("invalid_blocks", errors)
        blocks = with_generated_ids(blocks)
    return text, blocks


def metadata(value: Any) -> dict[str, Any] | None:
    """Message metadata {event_type, event_payload}; {} means none."""
    if value is None or value == {}:
        return None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("event_type"), str)
        or not value["event_type"]
        or not isinstance(value.get("event_payload", {}), dict)
    ):
        raise ApiError("invalid_metadata_format")
    return {"event_type": value["event_type"], "event_payload": value.get("event_payload", {})}


def writable(channel: Channel) -> None:
    if channel.archived:
        raise ApiError("is_archived")
    if not channel.is_dm and not channel.bot_is_member:
        raise ApiError("not_in_channel")


def check_thread(ws: Workspace, channel: Channel, thread_ts: str | None) -> None:
    """Strict: a thread_ts must be a top-level message of this channel."""
    if thread_ts is None:
        return
    parent = ws.find(channel.id, thread_ts)
    if parent is None or parent.thread_ts is not None:
        raise ApiError("thread_not_found")


def post_message(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = ws.resolve(p.text("channel"))
    writable(channel)
    text, blocks = content(p.obj("text"), p.obj("blocks"))
    thread_ts = p.text("thread_ts")
    check_thread(ws, channel, thread_ts)
    meta = metadata(p.obj("metadata"))
    wait = ws.post_limiter.take(channel.id)
    if wait > 0:
        raise RateLimited(retry_after_header(wait))
    message = ws.post(channel, text=text, blocks=blocks, thread_ts=thread_ts, metadata=meta)
    return {"ok": True, "channel": channel.id, "ts": message.ts, "message": message.to_slack()}


def _existing(ws: Workspace, p: Params, ts_key: str) -> tuple[Channel, Any]:
    channel_id = p.text("channel") or ""
    if channel_id[:1] in ("U", "W") or channel_id not in ws.channels:
        raise ApiError("channel_not_found")
    message = ws.find(channel_id, p.text(ts_key))
    if message is None:
        raise ApiError("message_not_found")
    return ws.channels[channel_id], message


def update(ws: Workspace, p: Params) -> dict[str, Any]:
    channel, message = _existing(ws, p, "ts")
    if message.user != BOT_USER_ID:
        raise ApiError("cant_update_message")
    if channel.archived:
        raise ApiError("is_inactive")
    if not (p.has("text") or p.has("blocks")):
        raise ApiError("no_text")
    text, blocks = content(
        p.obj("text") if p.has("text") else message.text, p.obj("blocks"), required=False
    )
    if not text and not (blocks if blocks is not None else message.blocks):
        raise ApiError("no_text")
    message.text = text
    if blocks is not None:
        message.blocks = blocks
    if p.has("metadata"):
        message.metadata = metadata(p.obj("metadata"))
    message.edited = True
    message.edited_ts = ws.next_ts()
    return {
        "ok": True,
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": message.to_slack(),
    }


def delete(ws: Workspace, p: Params) -> dict[str, Any]:
    channel, message = _existing(ws, p, "ts")
    if message.user != BOT_USER_ID:
        raise ApiError("cant_delete_message")
    message.deleted = True
    return {"ok": True, "channel": channel.id, "ts": message.ts}


def post_ephemeral(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = ws.resolve(p.text("channel"))
    user = p.text("user", required=True, error="user_not_found") or ""
    if user not in ws.users:
        raise ApiError("user_not_found")
    writable(channel)
    if not channel.has_member(user):
        raise ApiError("user_not_in_channel")
    text, blocks = content(p.obj("text"), p.obj("blocks"))
    thread_ts = p.text("thread_ts")
    check_thread(ws, channel, thread_ts)
    ephemeral = Ephemeral(
        channel=channel.id,
        user=user,
        text=text,
        blocks=blocks or [],
        message_ts=ws.next_ts(),
        thread_ts=thread_ts,
    )
    ws.ephemerals.append(ephemeral)
    return {"ok": True, "message_ts": ephemeral.message_ts}


def get_permalink(ws: Workspace, p: Params) -> dict[str, Any]:
    channel, message = _existing(ws, p, "message_ts")
    link = f"{WORKSPACE_URL}archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.thread_ts:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"ok": True, "channel": channel.id, "permalink": link}


METHODS = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
}
