"""Block Kit for `/audit status`, `status @trainer`, `pending` and `escalations` (pure).

Every builder returns ``(text, blocks)`` for an ephemeral answer (at most 50 blocks, each
section under 3,000 characters) and keeps lines short enough to read on a phone. Links to
samples come in as ``links``: ``(channel, ts) → permalink``, resolved by the caller.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.services.escalation_view import EscalationLine, EscalationOverview
from bot.services.pending import PendingList, PendingSample
from bot.services.scorecard import Dimension, Scorecard, week_span
from bot.services.status import TaskTypeStatus, TeamStatus
from bot.services.trainer_report import OnboardingProgress, TaskReport, TrainerReport
from bot.services.trainer_rows import TrainerRow, TrainerRows
from bot.slack.blocks import button, cut, escape, grade_line, mrkdwn, people, plain
from bot.slack.escalation_blocks import interval_text, sparkline, timeline_lines, when
from bot.slack.ids import Action

Links = Mapping[tuple[str, str], str]
Failure = tuple[str, str, str, int]  # channel, error, what fixes it, how many
MESSAGE_BLOCKS = 50
SECTION = 2900  # a little under Slack's 3,000, for the joins
STATE_BADGES = {"ok": "✅ ok", "watch": "👀 watch", "escalate": "⚠️ below the threshold",
                "insufficient": "· too few grades yet"}
ROW_BADGES = {"escalated": "⚠️ escalated", "watch": "👀 watch",
              "below": "🔻 below the threshold", "insufficient": "· too few grades",
              "ok": "✅ ok"}
MARKER_BADGES = {"met": "✅", "missed": "❌", "ungraded": "–", "now": "⏳", "upcoming": "·"}


# --- small formats ------------------------------------------------------------------------

def score_text(score: float | None) -> str:
    return "–" if score is None else f"{score:.2f}"


def ago(delta: timedelta) -> str:
    """``3d 4h``, ``5h``, ``12m``: a short age for a phone screen."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, hours = minutes // 1440, minutes % 1440 // 60
    if days:
        return f"{days}d {hours}h" if hours and days < 3 else f"{days}d"
    return f"{hours}h" if hours else f"{minutes}m"


def target(user_or_channel: str) -> str:
    return f"<@{user_or_channel}>" if user_or_channel[:1] in "UW" else f"<#{user_or_channel}>"


def linked(label: str, link: str | None) -> str:
    return f"<{link}|{label}>" if link else label


def sections(lines: Sequence[str], *, limit: int = SECTION) -> list[dict]:
    """Lines packed into as few sections as fit (each under Slack's text limit)."""
    blocks: list[dict] = []
    chunk = ""
    for line in lines:
        line = line[:limit]
        if chunk and len(chunk) + 1 + len(line) > limit:
            blocks.append({"type": "section", "text": mrkdwn(chunk)})
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append({"type": "section", "text": mrkdwn(chunk)})
    return blocks


def context(text: str) -> dict:
    return {"type": "context", "elements": [mrkdwn(cut(text, SECTION))]}


def fit(blocks: list[dict], limit: int, *, note: str) -> list[dict]:
    """``blocks`` cut to ``limit``, the last one saying what was left out."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], context(note)]


# --- /audit status ----------------------------------------------------------------------------

def named_and_others(named: Sequence[str], others: int) -> str:
    """``@A, @B and 2 others``; ``3 trainers`` when nobody is named."""
    if not named:
        return f"{others} trainer{'s' if others != 1 else ''}"
    if not others:
        return people(named)
    return f"{people(named)} and {others} other{'s' if others != 1 else ''}"


def task_type_lines(t: TaskTypeStatus, *, now: datetime) -> list[str]:
    span = f"{t.window[0]}–{t.window[-1][-3:]}" if len(t.window) > 1 else t.window[0]
    interval = interval_text(t.lower, t.upper, t.confidence)
    lines = [
        f"*{escape(t.name)}* · threshold {t.threshold:.2f}",
        f"Score *{score_text(t.score)}*" + (f" ({interval})" if interval else "")
        + f" `{sparkline(t.weekly)}` {span}"
        + (f" · {t.scored_trainers} trainers, each counted once"
           if t.scored_trainers >= 2 else ""),
    ]
    audited = [f"Trainers {t.trainers}", f"audited this week {t.audited}"]
    if t.away:
        audited.append(f"away {len(t.away)}")
    if t.paused:
        audited.append(f"paused {len(t.paused)}")
    if t.missing:
        audited.append(f"not audited {len(t.missing)}")
    lines.append(" · ".join(audited))
    lines.append(f"Graded this week {t.graded_week}/{t.samples_week} · "
                 f"window {t.graded_window}/{t.samples_window}")
    flags = []
    if t.watch or t.watch_others:
        flags.append(f"👀 Watch: {named_and_others(t.watch, t.watch_others)}")
    if t.escalated or t.escalated_others:
        flags.append(f"⚠️ Escalated: {named_and_others(t.escalated, t.escalated_others)}")
    if t.below_rest or t.below_rest_others:
        flags.append("📉 Below the rest: "
                     f"{named_and_others(t.below_rest, t.below_rest_others)}")
    lines.append("   ".join(flags) or "No one on watch or escalated")
    agreement = "–" if t.reviewer_agreement is None else f"{t.reviewer_agreement:.2f}"
    backlog = f"Backlog {t.backlog.waiting}"
    if t.backlog.waiting and t.backlog.oldest is not None:
        backlog += f" (oldest {ago(now - t.backlog.oldest)})"
    return [*lines, f"{backlog} · reviewer agreement {agreement}"]


def trainer_row_line(row: TrainerRow) -> str:
    """``@Tara · Clinical NLP — 👀 watch · 0.71 (80% interval 0.52–0.85) `▅▃▂` 14 graded``,
    then on a line of its own the compact scorecard (``scorecard_compact``)."""
    interval = interval_text(row.lower, row.upper, row.confidence)
    interval = f" ({interval})" if interval else ""
    line = (f"<@{row.trainer}> · {escape(row.task_name)} — "
            f"{ROW_BADGES.get(row.state, row.state)} · *{score_text(row.score)}*{interval} "
            f"`{sparkline(row.weekly)}` {row.graded} graded")
    if row.scorecard is not None:
        line += f"\n      {scorecard_compact(row.scorecard)}"
    return line


SCORECARD_SHORT = {"precision": "P", "consistency": "C", "clarity": "Cl"}


def scorecard_compact(card: Scorecard) -> str:
    """``P 0.82 · C 0.71👀 · Cl 0.90``: each dimension's value over the window, 👀 on a
    dimension on watch (below its threshold with enough data; precision: the standing's
    watch or below)."""
    return " · ".join(f"{SCORECARD_SHORT[d.name]} {score_text(d.value)}"
                      + ("👀" if d.watch else "") for d in card.dimensions)


def trainer_rows_blocks(rows: TrainerRows, *, title: str) -> list[dict]:
    """A page of trainers' rows, with a **More** button while pages are left (its value
    is the 0-based page it asks for; ``/audit status more N`` does the same)."""
    if not rows.total:
        return []
    head = (f"*{title}*, riskiest first · {rows.first + 1}–{rows.first + len(rows.rows)} "
            f"of {rows.total}")
    blocks = sections([head, *(trainer_row_line(r) for r in rows.rows)])
    if rows.number + 1 < rows.pages:
        blocks.append({"type": "actions", "block_id": "status-more", "elements": [
            button("More", Action.STATUS_MORE, str(rows.number + 1))]})
        blocks.append(context(f"Page {rows.number + 1} of {rows.pages} · or "
                              f"`/audit status more {rows.number + 2}`"))
    return blocks


def trainer_rows_message(rows: TrainerRows) -> tuple[str, list[dict]]:
    """`/audit status more N` and the **More** button: one page of rows alone."""
    if not rows.total:
        text = "Trainers' rows are for managers and leads: `/audit status @trainer` shows one."
        return text, [{"type": "section", "text": mrkdwn(text)}]
    text = f"Trainers, page {rows.number + 1} of {rows.pages}"
    return text, fit(trainer_rows_blocks(rows, title="Trainers"), MESSAGE_BLOCKS,
                     note="Cut to fit one message.")


def team_status_message(team: TeamStatus, *, now: datetime, failures: Sequence[Failure] = (),
                        rows: TrainerRows | None = None) -> tuple[str, list[dict]]:
    """``failures``: Slack writes that failed for good (shown to managers only); ``rows``:
    the first page of the trainers the viewer oversees (managers, leads)."""
    text = f"Audit status · {team.iso_week}"
    blocks: list[dict] = [{"type": "header", "text": plain(text)}]
    for t in team.task_types:
        lines = task_type_lines(t, now=now)
        blocks.append({"type": "section", "text": mrkdwn(cut("\n".join(lines), SECTION))})
    if not team.task_types:
        blocks.append({"type": "section", "text": mrkdwn("No task types are configured.")})
    if failures:
        total = sum(count for *_, count in failures)
        lines = [f"⚠️ *{total} Slack message{'s' if total != 1 else ''} failed for good*"]
        lines += [f"• {target(channel)} `{escape(error)}` ×{count}: {escape(fix)}"
                  for channel, error, fix, count in failures[:10]]
        blocks += sections(lines)
    if rows is not None:
        blocks += trainer_rows_blocks(rows, title="Trainers")
    blocks.append(context("Score: mean grade weight of the window's graded samples. "
                          "`/audit status @trainer` shows one person."))
    return text, fit(blocks, MESSAGE_BLOCKS, note="More task types than one message holds: "
                     "the App Home lists them all.")


# --- /audit status @trainer -------------------------------------------------------------------

def trainer_report_message(report: TrainerReport, *, links: Links) -> tuple[str, list[dict]]:
    text = f"Audit status for <@{report.trainer}>"
    facts = [f"*<@{report.trainer}>*"]
    if report.lead:
        facts.append(f"lead <@{report.lead}>")
    if report.started:
        facts.append(f"started {report.started.isoformat()}")
    if report.paused:
        facts.append("⏸ audits paused")
    if report.away_until:
        facts.append(f"🌴 away until {report.away_until.isoformat()}")
    blocks: list[dict] = [{"type": "section", "text": mrkdwn(" · ".join(facts))}]
    for task in report.tasks:
        blocks += task_report_blocks(task, links=links)
    blocks.append({"type": "actions", "block_id": "trainer-status",
                   "elements": [button("Show chart", Action.SHOW_CHART, report.trainer)]})
    blocks.append(context("*Show chart* sends a chart of the weekly scores and the grade mix "
                          "to your DM."))
    return text, fit(blocks, MESSAGE_BLOCKS, note="Cut to fit one message.")


def task_report_blocks(task: TaskReport, *, links: Links) -> list[dict]:
    current = task.current
    state = STATE_BADGES.get(current.state, current.state)
    if task.escalation is not None:
        state = f"⚠️ escalated (level {task.escalation.level + 1})"
    interval = interval_text(current.lower, current.upper, current.confidence)
    weeks = [w.week for w in task.history]
    lines = [
        f"*{escape(task.name)}* — {state}",
        f"Score *{score_text(current.score)}*" + (f" ({interval})" if interval else "")
        + f" vs threshold {task.threshold:.2f}, {current.graded} graded",
        f"Weekly `{sparkline([w.score for w in task.history])}` {weeks[0]}–{weeks[-1][-3:]}",
        f"_{escape(cut(current.reason, 600))}_",
    ]
    blocks = [{"type": "section", "text": mrkdwn("\n".join(lines))}]
    if task.scorecard is not None:
        blocks.append({"type": "section", "text": mrkdwn(cut("\n".join(
            scorecard_lines(task.scorecard)), SECTION))})
    if task.worst:
        worst = ["*Worst recent samples*"]
        for r in task.worst:
            label = f"{r.week} · sample {r.position + 1} of {r.count}"
            link = links.get((r.channel, r.message_ts)) if r.message_ts else None
            for g in r.grades[:2]:
                # the reviewer is empty when hidden from the trainer (``reviewers_shown``)
                detail = grade_line(g.grade, g.reviewer, g.category, g.explanation, cap=280)
                worst.append(f"• {linked(label, link)} {detail}")
                label, link = "  ↳", None
        blocks += sections(worst)
    if task.categories:
        blocks.append(context("Recurring: " + " · ".join(
            f"{escape(c)} ×{n}" for c, n in task.categories[:6])))
    if task.onboarding is not None:
        blocks.append({"type": "section", "text": mrkdwn(onboarding_text(task.onboarding))})
    return blocks


SCORECARD_NAMES = {"precision": "Precision", "consistency": "Consistency",
                   "clarity": "Clarity"}
SCORECARD_UNITS = {"precision": "graded", "consistency": "comparisons",
                   "clarity": "ratings"}


def scorecard_lines(card: Scorecard) -> list[str]:
    """The three parts of a trainer's scorecard, one line each, then what is on watch:
    ``Consistency *0.60* (0.25–0.88) · 5 comparisons `▂▆` · trainers' α 0.41``."""
    share = f"{2 * card.confidence - 1:.0%}"
    lines = [f"*Scorecard* · {share} intervals · {week_span(card.weeks)}"]
    for d in card.dimensions:
        line = f"{SCORECARD_NAMES[d.name]} *{score_text(d.value)}*"
        if d.lower is not None and d.upper is not None:
            line += f" ({d.lower:.2f}–{d.upper:.2f})"
        line += f" · {d.n} {SCORECARD_UNITS[d.name]} `{sparkline(list(d.weekly))}`"
        if d.name == "consistency":
            alpha = "–" if card.team_alpha is None else f"{card.team_alpha:.2f}"
            line += (f" · trainers' α {alpha} ({card.label_level}, {card.team_items} "
                     f"shared item{'s' if card.team_items != 1 else ''})")
        lines.append(line)
    watched = [d for d in card.dimensions if d.watch and d.name != "precision"]
    if watched:
        lines.append("👀 On watch for " + ", ".join(_below(d) for d in watched))
    return lines


def _below(d: Dimension) -> str:
    return f"{d.name} (below {d.threshold:.2f})" if d.threshold is not None else d.name


def onboarding_text(o: OnboardingProgress) -> str:
    parts = []
    for m in o.markers:
        none = {"precision": " no grades", "consistency": " no comparisons",
                "clarity": " no ratings"}.get(m.dimension, " no data")
        shown = {"upcoming": "", "ungraded": none}.get(m.state, f" {score_text(m.score)}")
        what = "" if m.dimension == "precision" else f" {m.dimension}"
        parts.append(f"{MARKER_BADGES[m.state]} week {m.week}{what} ≥ {m.target:.2f}{shown}")
    return (f"*Onboarding* week {o.week} of {o.weeks} (started {o.started.isoformat()})\n"
            + " · ".join(parts))


# --- /audit pending ---------------------------------------------------------------------------

def pending_line(s: PendingSample, *, task_name: str, links: Links, now: datetime) -> str:
    label = f"{escape(task_name)} · {s.week} · sample {s.position + 1} of {s.count}"
    link = links.get((s.channel, s.message_ts)) if s.message_ts else None
    second = " · second review" if s.second_review else ""
    return (f"• {linked(label, link)} by <@{s.trainer}> — waiting "
            f"{ago(now - s.waiting_since)}{second}")


def pending_message(waiting: PendingList, *, task_names: Mapping[str, str], links: Links,
                    now: datetime) -> tuple[str, list[dict]]:
    if not waiting.task_types:
        text = ("You don't review any task type, so nothing waits for your grade. "
                "`/audit status` shows each task type's backlog.")
        return text, [{"type": "section", "text": mrkdwn(text)}]
    if not waiting.total:
        text = "Nothing waits for your grade. 🎉"
        return text, [{"type": "section", "text": mrkdwn(text)}]
    noun = "sample waits" if waiting.total == 1 else "samples wait"
    text = f"{waiting.total} {noun} for your grade"
    lines = [f"*{text}*, oldest first:"]
    lines += [pending_line(s, task_name=task_names.get(s.task_type, s.task_type), links=links,
                           now=now) for s in waiting.samples]
    blocks = sections(lines)
    more = waiting.total - len(waiting.samples)
    tail = f"and {more} more. " if more > 0 else ""
    blocks.append(context(f"{tail}Grade each in its thread with the buttons."))
    return text, fit(blocks, MESSAGE_BLOCKS, note=f"{waiting.total} in all.")


# --- /audit escalations -------------------------------------------------------------------

def escalation_lines(e: EscalationLine, *, now: datetime) -> list[str]:
    head = f"⚠️ *<@{e.trainer}>* · {escape(e.task_name)} — level {e.level + 1} of {e.levels}" \
           f" · open {ago(now - e.opened_at)}"
    told = ", ".join(f"{target(t)} ({level + 1})" for level, t in e.notified) or "nobody yet"
    if e.acknowledged_by and e.acknowledged_at:
        ack = f"✋ Acknowledged by <@{e.acknowledged_by}> {ago(now - e.acknowledged_at)} ago"
    else:
        ack = "Not acknowledged yet"
    lines = [head, f"Notified: {told}", ack]
    if e.snoozed_until is not None:
        lines.append(f"💤 Snoozed until {when(e.snoozed_until)} by <@{e.snoozed_by}> — "
                     f"{escape(cut(e.snooze_reason or '', 200))}")
    if e.waits_until is not None:
        lines.append(f"Level {e.level + 1} is paged when its working hours open: "
                     f"{when(e.waits_until)}")
    if e.stopped_at is not None and e.acknowledged_at is None:
        lines.append("The path has run out: nobody will be paged again")
    if e.timeline.entries:
        lines.append("_Timeline_")
        lines += [f"› {line}" for line in timeline_lines(e.timeline)]
    return lines


def closed_line(e: EscalationLine, *, now: datetime) -> str:
    when = f" {ago(now - e.closed_at)} ago" if e.closed_at else ""
    if e.status == "recovered":
        how = f"closed itself{when}: quality recovered"
    else:
        note = f": “{escape(cut(e.close_note or '', 200))}”" if e.close_note else ""
        how = f"resolved by <@{e.closed_by}>{when}{note}"
    return f"✅ <@{e.trainer}> · {escape(e.task_name)} — {how}"


def escalations_message(overview: EscalationOverview, *,
                        now: datetime) -> tuple[str, list[dict]]:
    count = len(overview.open)
    text = f"{count} open escalation{'s' if count != 1 else ''}"
    blocks: list[dict] = [{"type": "header", "text": plain("Escalations")}]
    if not overview.open:
        blocks.append({"type": "section", "text": mrkdwn("No escalation is open.")})
    for e in overview.open[:30]:
        blocks.append({"type": "section",
                       "text": mrkdwn(cut("\n".join(escalation_lines(e, now=now)), 3000))})
    if len(overview.open) > 30:
        blocks.append(context(f"and {len(overview.open) - 30} more open."))
    if overview.closed:
        blocks += sections(["*Recently closed*",
                            *(closed_line(e, now=now) for e in overview.closed)])
    return text, fit(blocks, MESSAGE_BLOCKS, note="Cut to fit one message.")
