"""Block Kit for escalations: the notice (kept up to date), the closing message, the FYI."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.slack.blocks import GRADE_BADGES, button, cut, escape, escape_cut, mrkdwn, plain
from bot.slack.ids import Action, Callback

SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class WorstLine:
    label: str  # "Sample 2 of 5 · 2026-W48"
    link: str | None
    grades: Sequence[tuple[str, str, str | None, str | None]]  # reviewer, grade, cat, why


@dataclass(frozen=True)
class EscalationCard:
    escalation_id: int
    trainer: str
    task_name: str
    status: str  # open | resolved | recovered
    score: float | None
    lower: float | None
    upper: float | None
    threshold: float
    confidence: float
    graded: int
    weekly: Sequence[tuple[str, float | None, int]]  # week, score, graded
    reason: str
    worst: Sequence[WorstLine]
    level: int  # 0-based highest level notified
    levels: int
    notified: Sequence[tuple[int, str, datetime]]  # level, target, when
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    close_note: str | None


def sparkline(values: Sequence[float | None]) -> str:
    """``▂▅▇`` for scores in [0, 1]; a gap (·) for weeks without grades."""
    return "".join("·" if v is None else SPARK[min(7, max(0, int(v * 8)))] for v in values)


def escalation_notice(card: EscalationCard) -> tuple[str, list[dict]]:
    closed = card.status != "open"
    state = {"open": "⚠️ Quality escalation", "resolved": "✅ Escalation resolved",
             "recovered": "✅ Escalation closed: quality recovered"}[card.status]
    text = f"{state}: <@{card.trainer}> in {escape(card.task_name)}"
    blocks: list[dict] = [
        {"type": "header", "text": plain(cut(f"{state}: {card.task_name}", 150))},
        {"type": "section", "text": mrkdwn(cut(
            f"*Trainer:* <@{card.trainer}>\n*Score:* {_score(card)} against the threshold "
            f"{card.threshold:.2f}, over {card.graded} graded samples\n"
            f"*Why:* {escape(card.reason)}", 3000))},
        {"type": "section", "text": mrkdwn(_trend(card))},
    ]
    if card.worst:
        blocks.append({"type": "section", "text": mrkdwn("*Worst samples*")})
        for line in card.worst:
            blocks.append({"type": "section", "text": mrkdwn(_worst(line))})
    blocks.append({"type": "context", "elements": [mrkdwn(cut(_status(card), 3000))]})
    if not closed:
        buttons = []
        if card.acknowledged_at is None:
            buttons.append(button("Acknowledge", Action.ESCALATION_ACK,
                                   str(card.escalation_id), style="primary"))
        buttons.append(button("Resolve", Action.ESCALATION_RESOLVE, str(card.escalation_id)))
        blocks.append({"type": "actions", "block_id": f"escalation-{card.escalation_id}",
                       "elements": buttons})
    return text, blocks


def escalation_closed(card: EscalationCard) -> tuple[str, list[dict]]:
    """The message that tells everyone notified that it is over."""
    if card.status == "recovered":
        text = (f"✅ The escalation for <@{card.trainer}> in {escape(card.task_name)} "
                f"closed itself: quality recovered ({_score(card)} against {card.threshold:.2f}).")
    else:
        text = (f"✅ <@{card.closed_by}> resolved the escalation for <@{card.trainer}> in "
                f"{escape(card.task_name)}: “{escape_cut(card.close_note or '', 2000)}”")
    return text, [{"type": "section", "text": mrkdwn(text)}]


def watch_fyi(*, trainer: str, task_name: str, score: float | None, threshold: float,
              graded: int) -> tuple[str, list[dict]]:
    shown = f"{score:.2f}" if score is not None else "–"
    text = (f"FYI: <@{trainer}> is on *watch* in {escape(task_name)}: their score {shown} over "
            f"{graded} graded samples is below the threshold {threshold:.2f}, though not "
            "confidently yet. Their next audits sample twice as many outputs; no action is "
            "needed unless it becomes an escalation.")
    return text, [{"type": "section", "text": mrkdwn(text)}]


def resolve_modal(*, escalation_id: int, trainer: str, private_metadata: str) -> dict:
    return {
        "type": "modal",
        "callback_id": Callback.RESOLVE_MODAL,
        "private_metadata": private_metadata,
        "title": plain("Resolve escalation"),
        "submit": plain("Resolve"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "section", "text": mrkdwn(
                f"Resolving the escalation for <@{trainer}>. Everyone notified will be told.")},
            {"type": "input", "block_id": "note", "label": plain("What was done?"),
             "hint": plain("At least 10 characters, e.g. the coaching agreed or the cause."),
             "element": {"type": "plain_text_input", "action_id": "note", "multiline": True,
                         "min_length": 10, "max_length": 2000}},
        ],
    }


def _score(card: EscalationCard) -> str:
    if card.score is None:
        return "–"
    interval = ""
    if card.lower is not None and card.upper is not None:
        interval = f" ({card.confidence:.0%} bounds {card.lower:.2f}–{card.upper:.2f})"
    return f"*{card.score:.2f}*{interval}"


def _trend(card: EscalationCard) -> str:
    weeks = " · ".join(
        f"{week[-3:]} {score:.2f}" if score is not None else f"{week[-3:]} –"
        for week, score, _ in card.weekly)
    return f"*Trend* `{sparkline([s for _, s, _ in card.weekly])}`  {weeks}"


def _worst(line: WorstLine) -> str:
    label = f"<{line.link}|{escape(line.label)}>" if line.link else escape(line.label)
    parts = [label]
    for reviewer, grade, category, why in line.grades[:2]:
        detail = f"{GRADE_BADGES.get(grade, grade)} by <@{reviewer}>"
        if category:
            detail += f" · *{escape(category)}*"
        if why:
            detail += f": {escape(cut(why, 400))}"
        parts.append(detail)
    return "\n".join(parts)[:3000]


def _status(card: EscalationCard) -> str:
    told = ", ".join(f"<@{t}>" if t[0] in "UW" else f"<#{t}>" for _, t, _ in card.notified)
    lines = [f"Level {card.level + 1} of {card.levels} notified: {told}"]
    if card.level > 0:
        lines.append(f"Escalated to level {card.level + 1}: not acknowledged in time.")
    if card.acknowledged_at is not None:
        lines.append(f"Acknowledged by <@{card.acknowledged_by}> "
                     f"<!date^{int(card.acknowledged_at.timestamp())}^{{date_short_pretty}} "
                     f"{{time}}|{card.acknowledged_at:%Y-%m-%d %H:%M} UTC>")
    if card.status == "resolved":
        lines.append(f"Resolved by <@{card.closed_by}>: {escape(card.close_note or '')}")
    elif card.status == "recovered":
        lines.append("Closed: quality recovered.")
    return "\n".join(lines)
