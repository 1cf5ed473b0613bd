"""Block Kit for the nudges: a reviewer's reminder and the managers' weekly digest (pure)."""

from collections.abc import Mapping
from datetime import datetime

from bot.services.nudges import (
    BELOW_SHOWN,
    ESCALATIONS_SHOWN,
    Digest,
    DigestTaskType,
    Mover,
    Reminder,
)
from bot.slack.blocks import escape, people, plain
from bot.slack.status_blocks import (
    MESSAGE_BLOCKS,
    Links,
    ago,
    context,
    fit,
    pending_line,
    score_text,
    scorecard_compact,
    sections,
)


def reminder_message(reminder: Reminder, *, task_names: Mapping[str, str], links: Links,
                     now: datetime) -> tuple[str, list[dict]]:
    waiting = reminder.waiting
    noun = "sample has" if waiting.total == 1 else "samples have"
    text = f"⏰ {waiting.total} {noun} waited more than a day for your grade"
    lines = [f"*{text}*, oldest first:"]
    lines += [pending_line(s, task_name=task_names.get(s.task_type, s.task_type), links=links,
                           now=now) for s in waiting.samples]
    more = waiting.total - len(waiting.samples)
    tail = f"and {more} more: " if more > 0 else ""
    blocks = sections(lines)
    blocks.append(context(f"{tail}`/audit pending` lists everything waiting for you. "
                          "Away? `/audit away @you until YYYY-MM-DD` pauses these reminders."))
    return text, fit(blocks, MESSAGE_BLOCKS, note=f"{waiting.total} in all.")


def _change(row: DigestTaskType) -> str:
    if row.score is None or row.previous is None:
        return ""
    delta = row.score - row.previous
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "="
    return f" {arrow} {delta:+.2f}"


def _mover(m: Mover, names: Mapping[str, str]) -> str:
    return (f"<@{m.trainer}> · {escape(names.get(m.task_type, m.task_type))} "
            f"{m.before:.2f} → {m.after:.2f} ({m.change:+.2f})")


def digest_message(digest: Digest, *, now: datetime) -> tuple[str, list[dict]]:
    text = f"Weekly audit digest · {digest.week}"
    names = {t.key: t.name for t in digest.task_types}
    blocks: list[dict] = [{"type": "header", "text": plain(text)}]
    lines = ["*Last week's scores*"]
    for t in digest.task_types:
        below = f" · below threshold: {people(t.below, limit=BELOW_SHOWN)}" if t.below else ""
        lines.append(f"• *{escape(t.name)}* {score_text(t.score)}{_change(t)} "
                     f"({t.graded} graded, threshold {t.threshold:.2f}) · backlog "
                     f"{t.backlog.waiting}{below}")
    blocks += sections(lines)
    if digest.risers or digest.fallers:
        movers = ["*Movers* (week on week)"]
        movers += [f"▲ {_mover(m, names)}" for m in digest.risers]
        movers += [f"▼ {_mover(m, names)}" for m in digest.fallers]
        blocks += sections(movers)
    open_ = digest.open_escalations
    lines = [f"*Open escalations: {len(open_)}*"]
    lines += [f"• <@{e.trainer}> · {escape(e.task_name)} — level {e.level + 1} of {e.levels}, "
              f"open {ago(now - e.opened_at)}"
              + ("" if e.acknowledged_at else ", not acknowledged")
              for e in open_[:ESCALATIONS_SHOWN]]
    blocks += sections(lines)
    if digest.scorecards:
        cards = ["*Scorecards* of the trainers named above (precision · consistency · "
                 "clarity over the window, 👀 on watch)"]
        cards += [f"• <@{c.trainer}> · {escape(c.task_name)} — {scorecard_compact(c)}"
                  for c in digest.scorecards]
        blocks += sections(cards)
    backlog = sum(t.backlog.waiting for t in digest.task_types)
    blocks.append(context(f"{backlog} samples wait for a grade in all. `/audit status` and "
                          "the App Home have the details."))
    return text, fit(blocks, MESSAGE_BLOCKS, note="Cut to fit one message.")



