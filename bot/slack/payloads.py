"""Every parser from a Slack payload to plain values (no I/O), so handlers stay thin; with
the form metadata they read back, built here too so writer and reader cannot drift."""

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.slack.ids import Block, DisputeBlock, EscalationBlock, FeedbackBlock, PrecedentBlock

# Slack sends mentions in a slash command's text as ``<@U123|name>`` or ``<@U123>`` (the
# manifest sets ``should_escape``); a bare ``U123`` or ``@U123`` is read too.
USER_REFERENCE = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")


def parse_user(reference: str) -> str | None:
    """A user id from `<@U123|name>`, `<@U123>`, `@U123` or `U123`."""
    match = USER_REFERENCE.match(reference.strip())
    if not match:
        return None
    return match.group(1) or match.group(2)


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


@dataclass(frozen=True)
class SettleSubmission:
    user: str
    sample_id: int
    grade: str | None
    note: str | None
    channel: str | None


def settle_metadata(*, sample_id: int, channel: str | None) -> str:
    return json.dumps({"sample_id": sample_id, "channel": channel, "thread_ts": None})


def parse_settlement(body: dict[str, Any]) -> SettleSubmission:
    view = body.get("view")
    meta = form_metadata(view, "settle form")
    sample_id = parse_id(meta.get("sample_id"), "a sample id")
    channel = meta.get("channel")
    chosen = form_value(view, DisputeBlock.GRADE, "selected_option")
    grade = chosen.get("value") if isinstance(chosen, dict) else None
    note = form_value(view, DisputeBlock.NOTE)
    return SettleSubmission(user=user_of(body), sample_id=sample_id,
                            grade=grade if isinstance(grade, str) else None,
                            note=note if isinstance(note, str) else None,
                            channel=channel if isinstance(channel, str) else None)


def dispute_metadata(*, sample_id: int, outcome: str | None = None) -> str:
    return json.dumps({"sample_id": sample_id, "outcome": outcome, "channel": None,
                       "thread_ts": None})


@dataclass(frozen=True)
class DisputeSubmission:
    user: str
    sample_id: int
    reasoning: str | None


def parse_dispute(body: dict[str, Any]) -> DisputeSubmission:
    view = body.get("view")
    meta = form_metadata(view, "dispute form")
    reasoning = form_value(view, FeedbackBlock.REASONING)
    return DisputeSubmission(user=user_of(body),
                             sample_id=parse_id(meta.get("sample_id"), "a sample id"),
                             reasoning=reasoning if isinstance(reasoning, str) else None)


@dataclass(frozen=True)
class DecideSubmission:
    user: str
    sample_id: int
    outcome: str
    grade: str | None
    reason: str | None


def parse_decision(body: dict[str, Any]) -> DecideSubmission:
    view = body.get("view")
    meta = form_metadata(view, "dispute decision")
    outcome = meta.get("outcome")
    chosen = form_value(view, FeedbackBlock.GRADE, "selected_option")
    grade = chosen.get("value") if isinstance(chosen, dict) else None
    reason = form_value(view, FeedbackBlock.REASON)
    return DecideSubmission(user=user_of(body),
                            sample_id=parse_id(meta.get("sample_id"), "a sample id"),
                            outcome=outcome if isinstance(outcome, str) else "",
                            grade=grade if isinstance(grade, str) else None,
                            reason=reason if isinstance(reason, str) else None)


@dataclass(frozen=True)
class PrecedentSubmission:
    user: str
    sample_id: int | None  # exactly one of the two
    disagreement_id: int | None
    task_type: str
    category: str | None
    ruling: str | None
    rationale: str | None


def precedent_metadata(*, task_type: str, sample_id: int | None = None,
                       disagreement_id: int | None = None) -> str:
    """Which sample or disagreement the form saves (exactly one), and its task type."""
    assert (sample_id is None) != (disagreement_id is None), "a sample or a disagreement"
    if sample_id is not None:
        return json.dumps({"sample_id": sample_id, "task_type": task_type})
    return json.dumps({"disagreement_id": disagreement_id, "task_type": task_type})


def parse_precedent(body: dict[str, Any]) -> PrecedentSubmission:
    view = body.get("view")
    meta = form_metadata(view, "precedent form")
    chosen = form_value(view, PrecedentBlock.CATEGORY, "selected_option")
    category = chosen.get("value") if isinstance(chosen, dict) else None
    ruling = form_value(view, PrecedentBlock.RULING)
    rationale = form_value(view, PrecedentBlock.RATIONALE)
    task_type = meta.get("task_type")
    if meta.get("disagreement_id") is not None:
        sample_id = None
        disagreement_id: int | None = parse_id(meta.get("disagreement_id"),
                                               "a disagreement id")
    else:
        sample_id, disagreement_id = parse_id(meta.get("sample_id"), "a sample id"), None
    return PrecedentSubmission(
        user=user_of(body), sample_id=sample_id, disagreement_id=disagreement_id,
        task_type=task_type if isinstance(task_type, str) else "",
        category=category if isinstance(category, str) else None,
        ruling=ruling if isinstance(ruling, str) else None,
        rationale=rationale if isinstance(rationale, str) else None)


@dataclass(frozen=True)
class ResolveSubmission:
    user: str
    escalation_id: int
    note: str | None
    channel: str | None  # where the form was opened from (our metadata, out of the user's reach)


def resolve_metadata(*, escalation_id: int, channel: str | None) -> str:
    return json.dumps({"escalation_id": escalation_id, "channel": channel, "thread_ts": None})


def parse_resolve(body: dict[str, Any]) -> ResolveSubmission:
    view = body.get("view")
    meta = form_metadata(view, "resolve form")
    escalation_id = parse_id(meta.get("escalation_id"), "an escalation id")
    channel = meta.get("channel")
    note = form_value(view, EscalationBlock.NOTE)
    return ResolveSubmission(user=user_of(body), escalation_id=escalation_id,
                             note=note if isinstance(note, str) else None,
                             channel=channel if isinstance(channel, str) else None)


@dataclass(frozen=True)
class SnoozeSubmission:
    user: str
    escalation_id: int
    choice: str | None  # a SNOOZE_FOR key or "until a date"
    day: date | None  # the datepicker's day, if one was picked
    reason: str | None


def snooze_metadata(*, escalation_id: int) -> str:
    return json.dumps({"escalation_id": escalation_id})


def parse_snooze(body: dict[str, Any]) -> SnoozeSubmission:
    view = body.get("view")
    meta = form_metadata(view, "snooze form")
    escalation_id = parse_id(meta.get("escalation_id"), "an escalation id")
    reason = form_value(view, EscalationBlock.REASON)
    choice = _dict(form_value(view, EscalationBlock.UNTIL, "selected_option")).get("value")
    return SnoozeSubmission(user=user_of(body), escalation_id=escalation_id,
                            choice=choice if isinstance(choice, str) else None,
                            day=_day(form_value(view, EscalationBlock.DAY, "selected_date")),
                            reason=reason if isinstance(reason, str) else None)


def _day(value: Any) -> date | None:
    """The datepicker's ``YYYY-MM-DD``; anything else is no day."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
