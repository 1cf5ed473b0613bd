"""Pure parsers from Slack payloads to plain values (no I/O), so handlers stay thin."""

import json
from dataclasses import dataclass
from typing import Any

from bot.slack.ids import Block


class BadPayload(ValueError):
    """The payload is not what auditbot sent out (tampered, or from an old message)."""


@dataclass(frozen=True)
class Click:
    user: str
    action_id: str
    value: str
    channel: str | None
    message_ts: str | None
    thread_ts: str | None
    trigger_id: str | None

    @property
    def sample_id(self) -> int:
        try:
            return int(self.value)
        except ValueError:
            raise BadPayload(f"button value {self.value!r} is not a sample id") from None


@dataclass(frozen=True)
class GradeSubmission:
    user: str
    sample_id: int
    grade: str
    task_type: str
    channel: str | None
    thread_ts: str | None
    category: str | None
    explanation: str | None


def parse_click(body: dict[str, Any]) -> Click:
    action = (body.get("actions") or [{}])[0]
    container = body.get("container") or {}
    message = body.get("message") or {}
    return Click(
        user=body["user"]["id"],
        action_id=action.get("action_id", ""),
        value=str(action.get("value", "")),
        channel=(body.get("channel") or {}).get("id") or container.get("channel_id"),
        message_ts=container.get("message_ts") or message.get("ts"),
        thread_ts=container.get("thread_ts") or message.get("thread_ts"),
        trigger_id=body.get("trigger_id"),
    )


def grade_modal_metadata(*, sample_id: int, grade: str, task_type: str, channel: str | None,
                         thread_ts: str | None) -> str:
    return json.dumps({"sample_id": sample_id, "grade": grade, "task_type": task_type,
                       "channel": channel, "thread_ts": thread_ts})


def parse_grade_submission(body: dict[str, Any]) -> GradeSubmission:
    view = body.get("view") or {}
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        sample_id, grade, task_type = int(meta["sample_id"]), str(meta["grade"]), meta["task_type"]
    except (ValueError, KeyError, TypeError):
        raise BadPayload("the grade form's metadata is missing or damaged") from None
    values = (view.get("state") or {}).get("values") or {}
    selected = (values.get(Block.CATEGORY, {}).get(Block.CATEGORY) or {}).get("selected_option")
    explanation = (values.get(Block.EXPLANATION, {}).get(Block.EXPLANATION) or {}).get("value")
    return GradeSubmission(
        user=body["user"]["id"],
        sample_id=sample_id,
        grade=grade,
        task_type=str(task_type),
        channel=meta.get("channel"),
        thread_ts=meta.get("thread_ts"),
        category=(selected or {}).get("value"),
        explanation=explanation,
    )
