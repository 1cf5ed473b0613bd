"""Block Kit for escalations: the notice (kept up to date), the closing message, the FYI."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.services.escalation import SNOOZE_FOR, SNOOZE_UNTIL_DATE, TestedWeek
from bot.services.escalation_view import NO_TIMELINE, Timeline, TimelineEntry
from bot.slack.blocks import button, cut, escape, escape_cut, grade_line, mrkdwn, plain
from bot.slack.ids import Action, Callback, EscalationBlock

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
    snoozed_until: datetime | None = None
    snoozed_by: str | None = None
    snooze_reason: str | None = None
    waits_until: datetime | None = None  # the level's page waits for its working hours
    repeats: int = 0
    repeat: int = 0
    stopped_at: datetime | None = None
    timeline: Timeline = NO_TIMELINE
    tested: "TestedWindow | None" = None


@dataclass(frozen=True)
class TestedWindow:
    """The confidence test of the decision that opened the escalation."""

    lower: float | None
    upper: float | None
    weeks: Sequence[TestedWeek]


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
    tested = _tested(card)
    if tested:
        blocks.append({"type": "section", "text": mrkdwn(cut(tested, 3000))})
    if card.worst:
        blocks.append({"type": "section", "text": mrkdwn("*Worst samples*")})
        for line in card.worst:
            blocks.append({"type": "section", "text": mrkdwn(_worst(line))})
    blocks.append({"type": "context", "elements": [mrkdwn(cut(_status(card), 3000))]})
    if card.timeline.entries:
        blocks.append({"type": "context", "elements": [mrkdwn(cut(
            "\n".join(["*Timeline*", *timeline_lines(card.timeline)]), 3000))]})
    if not closed:
        buttons = []
        if card.acknowledged_at is None:
            buttons.append(button("Acknowledge", Action.ESCALATION_ACK,
                                   str(card.escalation_id), style="primary"))
        buttons.append(button("Snooze", Action.ESCALATION_SNOOZE, str(card.escalation_id)))
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
            {"type": "input", "block_id": EscalationBlock.NOTE,
             "label": plain("What was done?"),
             "hint": plain("At least 10 characters, e.g. the coaching agreed or the cause."),
             "element": {"type": "plain_text_input", "action_id": EscalationBlock.NOTE,
                         "multiline": True, "min_length": 10, "max_length": 2000}},
        ],
    }


SNOOZE_LABELS = {"4h": "4 hours", "1d": "1 day", "3d": "3 days",
                 SNOOZE_UNTIL_DATE: "Until a date (pick it below)"}


def snooze_modal(*, trainer: str, private_metadata: str) -> dict:
    options = [{"text": plain(SNOOZE_LABELS[key]), "value": key}
               for key in (*SNOOZE_FOR, SNOOZE_UNTIL_DATE)]
    return {
        "type": "modal",
        "callback_id": Callback.SNOOZE_MODAL,
        "private_metadata": private_metadata,
        "title": plain("Snooze escalation"),
        "submit": plain("Snooze"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "section", "text": mrkdwn(
                f"Snoozing the escalation for <@{trainer}>: nobody is paged and it does not "
                "climb until the snooze ends; then the time to acknowledge starts again. "
                "Everyone notified sees why.")},
            {"type": "input", "block_id": EscalationBlock.UNTIL,
             "label": plain("For how long?"),
             "element": {"type": "static_select", "action_id": EscalationBlock.UNTIL,
                         "options": options, "initial_option": options[1]}},
            {"type": "input", "block_id": EscalationBlock.DAY, "optional": True,
             "label": plain("Until (with “Until a date”)"),
             "hint": plain("It wakes at the start of that day, workspace time; at most 30 "
                           "days ahead."),
             "element": {"type": "datepicker", "action_id": EscalationBlock.DAY}},
            {"type": "input", "block_id": EscalationBlock.REASON,
             "label": plain("Why can it wait?"),
             "hint": plain("At least 10 characters, e.g. the trainer is on leave this week."),
             "element": {"type": "plain_text_input", "action_id": EscalationBlock.REASON,
                         "multiline": True, "min_length": 10, "max_length": 1000}},
        ],
    }


def when(moment: datetime) -> str:
    """A moment in the reader's timezone (Slack formats it), UTC as the fallback."""
    return (f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}"
            f"|{moment:%Y-%m-%d %H:%M} UTC>")


def _who(target: str) -> str:
    return f"<@{target}>" if target[:1] in "UW" else f"<#{target}>"


def timeline_lines(timeline: Timeline) -> list[str]:
    """The changes, newest last, one short line each."""
    lines = [f"… {timeline.earlier} earlier" ] if timeline.earlier else []
    return lines + [f"{when(e.at)} · {_change(e)}" for e in timeline.entries]


def _change(e: TimelineEntry) -> str:
    level = f"level {e.level + 1}" if e.level is not None else "no level"
    detail = escape(cut(e.detail or "", 200))
    by = f"<@{e.actor}>" if e.actor else "someone"
    until = when(e.until) if e.until else "–"
    targets = ", ".join(_who(t) for t in (e.detail or "").split(",") if t)
    return {
        "opened": f"opened at {level}",
        "waiting": f"{level} waits for its working hours: paged {until}",
        "notified": f"{level} notified: {targets}",
        "climbed": f"climbed to {level}: not acknowledged in time",
        "reminded": f"{level} reminded: {targets}",
        "acknowledged": f"acknowledged by {by}",
        "snoozed": f"snoozed by {by} until {until}: {detail}",
        "unsnoozed": "snooze ended: the time to acknowledge starts again",
        "repeated": f"nobody acknowledged: the path starts again at {level} "
                    f"(repeat {detail})",
        "stopped": "nobody acknowledged after the last level: the path stopped",
        "resolved": f"resolved by {by}: {detail}",
        "recovered": "closed: quality recovered",
    }.get(e.kind, escape(e.kind))


def interval_text(lower: float | None, upper: float | None, confidence: float) -> str:
    """The one name of the interval everywhere (cards, status, Home): each bound is
    one-sided at ``confidence``, so together they are a ``2c - 1`` two-sided interval."""
    if lower is None or upper is None:
        return ""
    return f"{2 * confidence - 1:.0%} interval {lower:.2f}–{upper:.2f}"


def _score(card: EscalationCard) -> str:
    if card.score is None:
        return "–"
    interval = interval_text(card.lower, card.upper, card.confidence)
    return f"*{card.score:.2f}*" + (f" ({interval})" if interval else "")


def _week(week: str, score: float | None, graded: int) -> str:
    return f"{week[-3:]} {score:.2f} ({graded})" if score is not None else f"{week[-3:]} –"


def _trend(card: EscalationCard) -> str:
    weeks = " · ".join(_week(week, score, graded) for week, score, graded in card.weekly)
    return (f"*Trend* `{sparkline([s for _, s, _ in card.weekly])}`  {weeks}  "
            "_(score, graded samples)_")


def _tested(card: EscalationCard) -> str | None:
    """The confidence test of the decision that opened it: its window, interval, weeks."""
    test = card.tested
    if test is None or not test.weeks:
        return None
    first, last = test.weeks[0].week, test.weeks[-1].week
    span = first if first == last else f"{first}–{last}"
    graded = sum(w.graded for w in test.weeks)
    interval = interval_text(test.lower, test.upper, card.confidence)
    weeks = " · ".join(
        f"{w.week[-3:]} no audit" if not w.audited else
        f"{w.week[-3:]} {w.graded} of {w.audited} graded"
        + (f", {w.score:.2f}" if w.score is not None else "") for w in test.weeks)
    return (f"*Opened on the test over {span}* ({graded} graded): {interval}, against the "
            f"threshold {card.threshold:.2f}\n{weeks}")


def _worst(line: WorstLine) -> str:
    label = f"<{line.link}|{escape(line.label)}>" if line.link else escape(line.label)
    parts = [label]
    parts += [grade_line(grade, reviewer, category, why, cap=400)
              for reviewer, grade, category, why in line.grades[:2]]
    return "\n".join(parts)[:3000]


def _status(card: EscalationCard) -> str:
    told = ", ".join(f"<@{t}>" if t[0] in "UW" else f"<#{t}>" for _, t, _ in card.notified)
    waiting = card.waits_until is not None and card.status == "open"
    lines = [f"Notified so far: {told}" if waiting
             else f"Level {card.level + 1} of {card.levels} notified: {told}"]
    if card.level > 0:
        lines.append(f"Escalated to level {card.level + 1}: not acknowledged in time.")
    if waiting and card.waits_until is not None:
        lines.append(f"Level {card.level + 1} of {card.levels} is paged when its working "
                     f"hours open: {when(card.waits_until)}.")
    if card.repeats:
        lines.append(f"Nobody acknowledged: the path started again "
                     f"({card.repeats} of {card.repeat} repeats).")
    if card.stopped_at is not None and card.acknowledged_at is None and card.status == "open":
        lines.append("The path has run out: nobody will be paged again. Acknowledge or "
                     "resolve it here.")
    if card.snoozed_until is not None and card.status == "open":
        lines.append(f"💤 Snoozed until {when(card.snoozed_until)} by <@{card.snoozed_by}> — "
                     f"{escape(cut(card.snooze_reason or '', 500))}")
    if card.acknowledged_at is not None:
        lines.append(f"Acknowledged by <@{card.acknowledged_by}> "
                     f"<!date^{int(card.acknowledged_at.timestamp())}^{{date_short_pretty}} "
                     f"{{time}}|{card.acknowledged_at:%Y-%m-%d %H:%M} UTC>")
    if card.status == "resolved":
        lines.append(f"Resolved by <@{card.closed_by}>: {escape(card.close_note or '')}")
    elif card.status == "recovered":
        lines.append("Closed: quality recovered.")
    return "\n".join(lines)
