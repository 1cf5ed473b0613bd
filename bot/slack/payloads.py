"""Pure parsers from Slack payloads to plain values (no I/O), so handlers stay thin."""

import json
from dataclasses import dataclass
from typing import Any

from bot.slack.ids import Block


class BadPayload(ValueError):
    """The payload is not what auditbot sent out (tampered, or from an old message)."""


MAX_ID_DIGITS = 18  # below 2**63: every id fits a BIGINT (and SQLite's INTEGER)


def parse_id(value: Any, what: str) -> int:
    """A row id from a button value or form metadata: 1 to 18 ASCII digits, nothing else
    (``int`` would take " 1", "+1", "1_0" and "٣"; 10**30 overflows the store's integers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_DIGITS or \
            not all("0" <= c <= "9" for c in value):
        raise BadPayload(f"{_shown(value)} is not {what}")
    return int(value)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:40]}…"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def user_of(body: dict[str, Any]) -> str:
    """The id of the person who sent ``body`` (an interaction)."""
    user = _text(_dict(body.get("user")).get("id"))
    if user is None:
        raise BadPayload("the request names no user")
    return user


def command_user(body: dict[str, Any]) -> str:
    """The id of the person who ran a slash command."""
    user = _text(body.get("user_id"))
    if user is None:
        raise BadPayload("the command names no user")
    return user


def form_metadata(view: Any, what: str) -> dict[str, Any]:
    """A modal's ``private_metadata`` as we wrote it (a JSON object), or BadPayload."""
    try:
        meta = json.loads(_dict(view).get("private_metadata") or "{}")
    except (ValueError, TypeError, RecursionError):
        meta = None
    if not isinstance(meta, dict):
        raise BadPayload(f"the {what}'s metadata is missing or damaged")
    return meta


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
        return parse_id(self.value, "a sample id")


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
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise BadPayload("the click names no button")
    action = actions[0]
    container = _dict(body.get("container"))
    message = _dict(body.get("message"))
    value = action.get("value", "")
    return Click(
        user=user_of(body),
        action_id=str(action.get("action_id", "")),
        value=value if isinstance(value, str) else "",
        channel=_text(_dict(body.get("channel")).get("id")) or _text(container.get("channel_id")),
        message_ts=_text(container.get("message_ts")) or _text(message.get("ts")),
        thread_ts=_text(container.get("thread_ts")) or _text(message.get("thread_ts")),
        trigger_id=_text(body.get("trigger_id")),
    )


def grade_modal_metadata(*, sample_id: int, grade: str, task_type: str, channel: str | None,
                         thread_ts: str | None) -> str:
    return json.dumps({"sample_id": sample_id, "grade": grade, "task_type": task_type,
                       "channel": channel, "thread_ts": thread_ts})


def form_value(view: Any, block: str, key: str = "value") -> Any:
    """What the modal's input ``block`` (whose action id is the same) holds under ``key``."""
    values = _dict(_dict(_dict(view).get("state")).get("values"))
    return _dict(_dict(values.get(block)).get(block)).get(key)


def parse_grade_submission(body: dict[str, Any]) -> GradeSubmission:
    view = body.get("view")
    meta = form_metadata(view, "grade form")
    grade, task_type = meta.get("grade"), meta.get("task_type")
    if not isinstance(grade, str) or not isinstance(task_type, str):
        raise BadPayload("the grade form's metadata is missing or damaged")
    selected = _dict(form_value(view, Block.CATEGORY, "selected_option")).get("value")
    explanation = form_value(view, Block.EXPLANATION)
    return GradeSubmission(
        user=user_of(body),
        sample_id=parse_id(meta.get("sample_id"), "a sample id"),
        grade=grade,
        task_type=task_type,
        channel=_text(meta.get("channel")),
        thread_ts=_text(meta.get("thread_ts")),
        category=selected if isinstance(selected, str) else None,
        explanation=explanation if isinstance(explanation, str) else None,
    )


@dataclass(frozen=True)
class ClaritySubmission:
    user: str
    sample_id: int
    reason: str | None


def clarity_modal_metadata(*, sample_id: int) -> str:
    return json.dumps({"sample_id": sample_id})


def parse_clarity_submission(body: dict[str, Any]) -> ClaritySubmission:
    view = body.get("view")
    meta = form_metadata(view, "clarity form")
    reason = form_value(view, Block.CLARITY_REASON)
    return ClaritySubmission(user=user_of(body),
                             sample_id=parse_id(meta.get("sample_id"), "a sample id"),
                             reason=reason if isinstance(reason, str) else None)


@dataclass(frozen=True)
class RulingSubmission:
    user: str
    disagreement_id: int
    label: str | None
    reason: str | None


def ruling_modal_metadata(*, disagreement_id: int) -> str:
    return json.dumps({"disagreement_id": disagreement_id})


def parse_ruling_submission(body: dict[str, Any]) -> RulingSubmission:
    view = body.get("view")
    meta = form_metadata(view, "ruling form")
    selected = _dict(form_value(view, Block.RULING_LABEL, "selected_option")).get("value")
    reason = form_value(view, Block.RULING_REASON)
    return RulingSubmission(
        user=user_of(body),
        disagreement_id=parse_id(meta.get("disagreement_id"), "a disagreement id"),
        label=selected if isinstance(selected, str) else None,
        reason=reason if isinstance(reason, str) else None)
