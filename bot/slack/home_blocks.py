"""The App Home view, from ``bot.services.home.HomeData`` (pure).

    view = home_view(data, links=links, now=now)      # {"type": "home", "blocks": [...]}

One part per role the viewer has (reviewer, lead, manager, trainer), each with its own
pager, and never more than Slack's 100 blocks: lists are packed several lines to a section
and come a page at a time (the pager buttons are ``home_page-<part>-<next|prev>``).
"""

import json
from collections.abc import Sequence
from datetime import datetime

from bot.common.grades import scale_in_force
from bot.services.home import HomeData, Page, RecentSample, TrainerLine
from bot.services.scorecard import Scorecard
from bot.services.trainer_rows import TrainerRows
from bot.slack.blocks import cut, escape, grade_line, mrkdwn, plain
from bot.slack.escalation_blocks import sparkline
from bot.slack.ids import Action
from bot.slack.status_blocks import (
    Links,
    ago,
    closed_line,
    context,
    escalation_lines,
    fit,
    linked,
    pending_line,
    score_text,
    scorecard_lines,
    sections,
    task_type_lines,
    trainer_row_line,
)

HOME_BLOCKS = 100
ESCALATIONS_SHOWN = 8


def home_view(data: HomeData, *, links: Links, now: datetime,
              task_names: dict[str, str]) -> dict:
    blocks: list[dict] = [{"type": "header", "text": plain("auditbot")}]
    roles = data.roles
    if not roles.known:
        blocks += _stranger(data)
    if data.queue is not None:
        blocks += _reviewer(data, links=links, now=now, task_names=task_names)
    if data.trainers is not None:
        blocks += _rows("Your trainers", "trainers", data.trainers)
    if data.team is not None:
        blocks += _manager(data, now=now)
    if roles.trainer is not None:
        blocks += _trainer(data.own, data.recent, links=links, cards=data.scorecards)
    blocks.append(context(f"Updated {now:%Y-%m-%d %H:%M} UTC · `/audit help` lists the "
                          "commands."))
    return {"type": "home", "callback_id": "home",
            "private_metadata": json.dumps({"user": data.user}),
            "blocks": fit(blocks, HOME_BLOCKS, note="Cut to fit: `/audit status` has the rest.")}


def _stranger(data: HomeData) -> list[dict]:
    ask = ", ".join(f"<@{m}>" for m in data.managers) or "whoever runs auditbot here"
    return [{"type": "section", "text": mrkdwn(
        "auditbot keeps the quality of AI model trainers' work under a weekly audit: every "
        "week it samples each trainer's recent outputs into their task type's review "
        f"channel, where domain reviewers grade them {scale_in_force().listed()} "
        "with a written explanation. Scores roll up per trainer; when someone's quality "
        "falls below the threshold their lead is told, then a manager. You are not in its "
        f"config as a reviewer, lead, trainer or manager; to take part, ask {ask}.")}]


def _part(title: str) -> list[dict]:
    return [{"type": "divider"}, {"type": "header", "text": plain(title)}]


def _pager(part: str, page: Page, *, noun: str) -> list[dict]:
    if page.pages <= 1:
        return []
    buttons = []
    if page.number > 0:
        buttons.append(_page_button("‹ Previous", part, "prev", page.number - 1))
    if page.number + 1 < page.pages:
        buttons.append(_page_button("Next ›", part, "next", page.number + 1))
    return [context(f"Page {page.number + 1} of {page.pages} · {page.total} {noun}"),
            {"type": "actions", "block_id": f"home-page-{part}", "elements": buttons}]


def _page_button(label: str, part: str, direction: str, page: int) -> dict:
    """A pager button; its action id is unique on the Home, its value says where to go."""
    return {"type": "button", "text": plain(label), "value": f"{part}:{page}",
            "action_id": f"{Action.HOME_PAGE}-{part}-{direction}"}


def _reviewer(data: HomeData, *, links: Links, now: datetime,
              task_names: dict[str, str]) -> list[dict]:
    assert data.queue is not None and data.queue_page is not None
    blocks = _part("Your grading queue")
    queue = data.queue
    if queue.total:
        noun = "sample waits" if queue.total == 1 else "samples wait"
        lines = [f"*{queue.total} {noun} for your grade*, oldest first:"]
        lines += [pending_line(s, task_name=task_names.get(s.task_type, s.task_type),
                               links=links, now=now) for s in queue.samples]
        blocks += sections(lines)
    else:
        blocks.append({"type": "section", "text": mrkdwn("Nothing waits for your grade. 🎉")})
    blocks += _pager("queue", data.queue_page, noun="waiting")
    if data.stats is not None:
        s = data.stats
        share = f" · {s.non_pass_window / s.graded_window:.0%} not Pass" if s.graded_window \
            else ""
        blocks.append(context(f"You graded {s.graded_week} this week, {s.graded_window} in "
                              f"the last {s.window_weeks} weeks{share}."))
    return blocks


def _rows(title: str, part: str, rows: TrainerRows) -> list[dict]:
    """One row per trainer and task type, riskiest first, with this part's pager."""
    blocks = _part(title)
    blocks += sections([trainer_row_line(r) for r in rows.rows]) or [
        {"type": "section", "text": mrkdwn("No trainers.")}]
    page = Page(number=rows.number, pages=rows.pages, total=rows.total)
    return blocks + _pager(part, page, noun="trainer task types, riskiest first")


def _manager(data: HomeData, *, now: datetime) -> list[dict]:
    assert data.team is not None and data.team_page is not None
    blocks = _part(f"Every task type · {data.team.iso_week}")
    for t in data.team.task_types:
        blocks.append({"type": "section", "text": mrkdwn(cut("\n".join(
            task_type_lines(t, now=now)), 2900))})
    blocks += _pager("team", data.team_page, noun="task types")
    if data.rows is not None:
        blocks += _rows("Every trainer", "rows", data.rows)
    if data.disputes:
        noun = "dispute waits" if data.disputes == 1 else "disputes wait"
        blocks.append(context(f"⚖️ {data.disputes} double-review {noun} for a manager to "
                              "settle: `/audit disputes`."))
    if data.trainer_disputes:
        shown = data.trainer_disputes[:TRAINER_DISPUTES_SHOWN]
        lines = [f"🙋 *{len(data.trainer_disputes)} open trainer "
                 f"dispute{'s' if len(data.trainer_disputes) != 1 else ''}* "
                 "(`/audit disputes`)"]
        lines += [f"• <@{trainer}> · {escape(task)} · open {ago(now - opened)} · "
                  + (f"with <@{second}>" if second else "no eligible reviewer")
                  for trainer, task, opened, second in shown]
        blocks += sections(lines)
    overview = data.escalations
    if overview is None:
        return blocks
    blocks += _part(f"Open escalations ({len(overview.open)})")
    if not overview.open:
        blocks.append({"type": "section", "text": mrkdwn("No escalation is open.")})
    for e in overview.open[:ESCALATIONS_SHOWN]:
        blocks.append({"type": "section", "text": mrkdwn("\n".join(escalation_lines(e, now=now)))})
    if len(overview.open) > ESCALATIONS_SHOWN:
        blocks.append(context(f"and {len(overview.open) - ESCALATIONS_SHOWN} more: "
                              "`/audit escalations` lists them all."))
    if overview.closed:
        blocks += sections(["*Recently closed*",
                            *(closed_line(e, now=now) for e in overview.closed[:3])])
    return blocks


TRAINER_DISPUTES_SHOWN = 5


def _trainer(own: Sequence[TrainerLine], recent: Sequence[RecentSample], *,
             links: Links, cards: Sequence[Scorecard] = ()) -> list[dict]:
    blocks = _part("Your audit results")
    lines = []
    for line in own:
        s = line.standing
        lines.append(f"*{escape(line.task_name)}* — score *{score_text(s.score)}* "
                     f"`{sparkline([w.score for w in s.weekly])}` over {s.graded} graded "
                     f"samples (threshold {s.threshold:.2f})")
    blocks += sections(lines)
    for card in cards:
        blocks.append({"type": "section", "text": mrkdwn(cut(
            f"*{escape(card.task_name)}* · " + "\n".join(scorecard_lines(card)), 2900))})
    if recent:
        blocks.append({"type": "section", "text": mrkdwn("*Recently graded*")})
    for r in recent:
        label = f"{escape(r.task_name)} · {r.week} · sample {r.position + 1} of {r.count}"
        link = links.get((r.channel, r.message_ts)) if r.message_ts else None
        detail = [grade_line(grade, reviewer, category, why, cap=400)
                  for reviewer, grade, category, why in r.grades[:2]]
        blocks.append({"type": "section", "text": mrkdwn(
            cut(linked(label, link) + "\n" + "\n".join(detail), 2900))})
    return blocks


def messages_to_link(data: HomeData) -> list[tuple[str, str | None]]:
    """The messages the Home links to: queue samples and recently graded ones."""
    queue = [(s.channel, s.message_ts) for s in data.queue.samples] if data.queue else []
    return queue + [(r.channel, r.message_ts) for r in data.recent]
