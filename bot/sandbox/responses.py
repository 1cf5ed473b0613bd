"""response_url semantics: what Slack does with a JSON body POSTed to a response_url.

A response_url carries who and where it came from (user, channel, and for button clicks the
message). A body with ``response_type: "in_channel"`` posts a message in the channel, the
default (ephemeral) shows only to the user, ``replace_original`` edits the originating message
and ``delete_original`` deletes it. Good 5 times within 30 minutes; answers are plain text as
Slack's hooks answer: 200 ``ok``, 404 ``used_url`` / ``expired_url`` / ``no_service``, 400 with
the error name (e.g. ``invalid_blocks``).
"""

from typing import Any

from bot.sandbox.api_chat import content
from bot.sandbox.records import BOT_USER_ID, Ephemeral, ResponsePost
from bot.sandbox.state import (
    RESPONSE_URL_MAX_USES,
    RESPONSE_URL_TTL_SECONDS,
    ApiError,
    Workspace,
)


def post_to_response_url(ws: Workspace, key: str, url: str, body: Any) -> tuple[int, str]:
    """Applies one POST to the response_url `key`; returns (HTTP status, plain-text answer)."""
    status, answer = _apply(ws, key, body)
    record_body = body if isinstance(body, dict) else {"raw": body}
    ws.responses.append(ResponsePost(url, record_body, status, answer, ws.wall_clock()))
    return status, answer


def _apply(ws: Workspace, key: str, body: Any) -> tuple[int, str]:
    target = ws.response_urls.get(key)
    if target is None:
        return 404, "no_service"
    if ws.clock() - target.issued > RESPONSE_URL_TTL_SECONDS:
        return 404, "expired_url"
    if target.uses >= RESPONSE_URL_MAX_USES:
        return 404, "used_url"
    if not isinstance(body, dict):
        return 400, "invalid_payload"
    try:
        deliver(
            ws,
            body,
            user=target.user,
            channel=target.channel,
            message_ts=target.message_ts,
            source="response_url",
        )
    except ApiError as exc:
        return 400, exc.error
    target.uses += 1
    return 200, "ok"


def deliver(
    ws: Workspace,
    body: dict[str, Any],
    *,
    user: str | None,
    channel: str | None,
    message_ts: str | None,
    source: str,
) -> None:
    """Shows a response body (response_url POST or slash-command ack) as Slack would."""
    original = ws.find(channel, message_ts) if channel and message_ts else None
    if body.get("delete_original") in (True, "true"):
        if original is not None and original.user == BOT_USER_ID:
            original.deleted = True
        return
    text, blocks = content(body.get("text"), body.get("blocks"))
    replace = body.get("replace_original") in (True, "true")
    if replace and original is not None:
        original.text = text
        original.blocks = blocks or []
        original.edited = True
        original.edited_ts = ws.next_ts()
        return
    if channel is None:
        raise ApiError("channel_not_found")
    if body.get("response_type") == "in_channel":
        conversation = ws.resolve(channel)
        thread_ts = body.get("thread_ts")
        ws.post(conversation, text=text, blocks=blocks, thread_ts=thread_ts)
        return
    if user is None:
        raise ApiError("user_not_found")
    if replace:
        for earlier in ws.ephemerals:
            same = earlier.message_ts == message_ts if message_ts else earlier.source == source
            if earlier.user == user and earlier.channel == channel and same:
                earlier.replaced = True
    ws.ephemerals.append(
        Ephemeral(
            channel=channel,
            user=user,
            text=text,
            blocks=blocks or [],
            message_ts=ws.next_ts(),
            thread_ts=body.get("thread_ts"),
            source=source,
        )
    )
