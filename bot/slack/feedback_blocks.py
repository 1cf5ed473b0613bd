"""Block Kit for the trainer's side: feedback DMs, the dispute form, the blind second review.

Pure builders (plain data in, payload dicts out); the Slack ids they share with
``handlers.trainer_disputes`` are in ``bot.slack.ids``, their forms' parsers in
``bot.slack.payloads``::

    text, blocks = feedback_dm(feedback, links={(channel, ts): "https://…"})
    view = dispute_modal(item, task_name="Clinical NLP", private_metadata="{...}")
    text, blocks = second_review_dm(dispute, prompt=..., output=..., task_name=...)

Reviewers' names reach a trainer only when the task type's ``show_reviewer_to_trainer``
says so; their words go out escaped (``escape``).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.common.grades import scale_in_force
from bot.services.feedback import ClarityNote, Feedback
from bot.services.reviewer_quality import ReviewerQuality
from bot.services.scorecard import Dimension, Scorecard, week_span
from bot.services.trainer_disputes import OVERTURNED, UPHELD, CountedSample
from bot.slack.blocks import badge, cut, escape, escape_cut, grade_line, mrkdwn, plain
from bot.slack.escalation_blocks import sparkline
from bot.slack.ids import FeedbackAction, FeedbackBlock, FeedbackCallback
from bot.slack.status_blocks import ago, interval_text, linked, score_text
from bot.store.models.feedback import TrainerDispute

MESSAGE_BLOCK_LIMIT = 50
ITEMS_SHOWN = 12  # non-pass samples in one DM: 3 blocks each stays inside 50
CLARITY_NOTES_SHOWN = 8
UNASSIGNED_SHOWN = 5  # trainer disputes a manager decides, in `/audit disputes`


def decide_buttons(sample_id: int) -> dict:
    """Uphold / Overturn (action ids unique per sample: a list may hold several)."""
    value = str(sample_id)
    return {"type": "actions", "block_id": f"trainer-dispute-{sample_id}", "elements": [
        {"type": "button", "text": plain("Uphold"),
         "action_id": f"{FeedbackAction.UPHOLD}:{sample_id}", "value": value},
        {"type": "button", "text": plain("Overturn"), "style": "danger",
         "action_id": f"{FeedbackAction.OVERTURN}:{sample_id}", "value": value}]}


def _reviews_line(item: CountedSample, *, show_reviewer: bool) -> str:
    parts = []
    for r in (item.counted or ())[:2]:
        parts.append(grade_line(r.grade, r.reviewer if show_reviewer else None, r.category,
                                r.explanation, cap=700, quoted=True))
    return "\n".join(parts)


def _dispute_line(dispute: TrainerDispute, *, show_reviewer: bool) -> str:
    who = f" by <@{dispute.second_reviewer}>" if show_reviewer and dispute.second_reviewer \
        else ""
    if dispute.status == UPHELD:
        return f"⚖️ You disputed this grade: *upheld*{who}. {escape(cut(dispute.reason or '', 500))}"
    if dispute.status == OVERTURNED:
        grade = badge(dispute.grade or "")
        return (f"⚖️ You disputed this grade: *overturned*{who}, now {grade}. "
                f"{escape(cut(dispute.reason or '', 500))}")
    return "⚖️ You disputed this grade: waiting for a second reviewer."


def _trend(weekly: Sequence[float | None]) -> str:
    known = [v for v in weekly if v is not None]
    if len(known) < 2:
        return ""
    change = known[-1] - known[-2]
    return " · trend ↑" if change > 0.005 else " · trend ↓" if change < -0.005 else " · trend →"


def dimension_line(name: str, d: Dimension, *, confidence: float, unit: str) -> str:
    """One part of the scorecard as the trainer reads it: value, interval, n, weekly
    sparkline and trend, threshold (the values are the scorecard's, formatted here)."""
    if d.value is None:
        return f"*{name}:* – (nothing in the window yet)"
    interval = interval_text(d.lower, d.upper, confidence)
    threshold = f", threshold {d.threshold:.2f}" if d.threshold is not None else ""
    watch = " · 👀 on watch" if d.watch else ""
    return (f"*{name}:* {score_text(d.value)}" + (f" ({interval})" if interval else "")
            + f" over {d.n} {unit}{threshold} · weekly `{sparkline(list(d.weekly))}`"
            + _trend(d.weekly) + watch)


def scorecard_text(card: Scorecard | None) -> str:
    """The trainer's scorecard: precision (their score), consistency with other trainers
    and clarity, each with its interval and trend, over the window."""
    if card is None:
        return "*Your score:* – (nothing graded in the window yet)"
    c = card.confidence
    lines = [f"*Your scorecard* · {week_span(card.weeks)}",
             dimension_line("Your score", card.precision, confidence=c,
                            unit="graded samples"),
             dimension_line("Consistency with other trainers", card.consistency,
                            confidence=c, unit="comparisons on shared items"),
             dimension_line("Clarity of your reasoning", card.clarity, confidence=c,
                            unit="rating" if card.clarity.n == 1 else "ratings")]
    return "\n".join(lines)


def clarity_notes_text(notes: Sequence[ClarityNote], *, show_reviewer: bool,
                       links: Mapping[tuple[str, str], str | None]) -> str:
    """Why reviewers found the trainer's reasoning unclear, sample by sample."""
    lines = ["*Clarity notes:* a reviewer found your reasoning unclear"]
    for note in notes[:CLARITY_NOTES_SHOWN]:
        s = note.sample
        link = links.get((s.channel, s.message_ts)) if s.message_ts else None
        who = f" (<@{note.reviewer}>)" if show_reviewer else ""
        lines.append(f"• {linked(f'Sample {s.position + 1} of {s.count}', link)}{who}: "
                     f"{escape(cut(note.reason or 'no reason given', 300))}")
    if len(notes) > CLARITY_NOTES_SHOWN:
        lines.append(f"and {len(notes) - CLARITY_NOTES_SHOWN} more.")
    return "\n".join(lines)


def feedback_dm(feedback: Feedback, *,
                links: Mapping[tuple[str, str], str | None]) -> tuple[str, list[dict]]:
    """The trainer's DM: the week's summary, or one non-pass grade ("each")."""
    task = escape(feedback.task_name)
    if feedback.single:
        text = f"Feedback on a {task} sample of {feedback.week}"
        head = f"📝 *{task}* · {feedback.week}: a reviewer graded one of your samples."
    else:
        flawed = len(feedback.items)
        text = (f"Your {task} feedback for {feedback.week}: {feedback.passes} passed, "
                f"{flawed} to look at")
        head = (f"📝 *{task}* · {feedback.week}: your audited samples are graded.\n"
                f"✅ *{feedback.passes} passed*" + (f", {flawed} did not:" if flawed else "."))
        if feedback.sent_alone:
            head += (f"\n({feedback.sent_alone} non-pass grade"
                     f"{'s were' if feedback.sent_alone != 1 else ' was'} sent to you one "
                     "by one.)")
        if feedback.pending:
            head += f"\n{feedback.pending} still waiting for a final grade."
    blocks: list[dict] = [{"type": "section", "text": mrkdwn(cut(head, 2900))}]
    for item in feedback.items[:ITEMS_SHOWN]:
        label = f"Sample {item.position + 1} of {item.count}"
        link = links.get((item.channel, item.message_ts)) if item.message_ts else None
        body = f"*{linked(label, link)}* · `{escape(cut(item.output_id, 80))}`"
        if item.dispute is not None and item.dispute.status == OVERTURNED:
            body += "\n" + _dispute_line(item.dispute, show_reviewer=feedback.show_reviewer)
        else:
            body += "\n" + _reviews_line(item, show_reviewer=feedback.show_reviewer)
            if item.dispute is not None:
                body += "\n" + _dispute_line(item.dispute, show_reviewer=feedback.show_reviewer)
        blocks.append({"type": "section", "text": mrkdwn(cut(body, 2900))})
        if item.dispute is None and item.non_pass:
            blocks.append({"type": "actions", "block_id": f"feedback-{item.sample_id}",
                           "elements": [{"type": "button", "text": plain("Dispute"),
                                         "action_id": f"{FeedbackAction.DISPUTE}:"
                                                      f"{item.sample_id}",
                                         "value": str(item.sample_id)}]})
    if len(feedback.items) > ITEMS_SHOWN:
        blocks.append({"type": "context", "elements": [mrkdwn(
            f"{len(feedback.items) - ITEMS_SHOWN} more in your App Home.")]})
    if feedback.clarity_notes:
        blocks.append({"type": "section", "text": mrkdwn(cut(clarity_notes_text(
            feedback.clarity_notes, show_reviewer=feedback.show_reviewer, links=links),
            2900))})
    blocks.append({"type": "section", "text": mrkdwn(cut(scorecard_text(feedback.scorecard),
                                                         2900))})
    if any(i.dispute is None and i.non_pass for i in feedback.items):
        blocks.append({"type": "context", "elements": [mrkdwn(
            f"Think a grade is wrong? *Dispute* it within {feedback.dispute_within} with your "
            "reasoning: a different reviewer decides, without seeing the first grade.")]})
    return text, blocks[:MESSAGE_BLOCK_LIMIT]


def dispute_modal(item: CountedSample, *, task_name: str, private_metadata: str) -> dict:
    return {
        "type": "modal",
        "callback_id": FeedbackCallback.DISPUTE_MODAL,
        "private_metadata": private_metadata,
        "title": plain("Dispute a grade"),
        "submit": plain("Dispute"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "section", "text": mrkdwn(
                f"*{escape(task_name)}* · {item.week} · sample {item.position + 1} of "
                f"{item.count}\nA different reviewer decides from the output and your "
                "reasoning. A sample can be disputed once.")},
            {"type": "input", "block_id": FeedbackBlock.REASONING,
             "label": plain("Why is the grade wrong?"),
             "hint": plain("At least 20 characters."),
             "element": {"type": "plain_text_input", "action_id": FeedbackBlock.REASONING,
                         "multiline": True, "min_length": 20, "max_length": 3000}},
        ],
    }


def dispute_opened_dm(dispute: TrainerDispute, *, task_name: str) -> tuple[str, list[dict]]:
    """To the trainer: their dispute is in, and who (in general terms) decides it."""
    if dispute.second_reviewer is None:
        text = (f"Your dispute of a {escape(task_name)} grade is recorded, but no other "
                "reviewer can decide it")
        body = (f"⚖️ Your dispute ({dispute.iso_week}) is recorded. *No eligible second "
                f"reviewer* exists for {escape(task_name)} (everyone else graded it or leads "
                "you), so it stays listed for the managers. The sample does not count until "
                "it is decided.")
    else:
        text = f"Your dispute of a {escape(task_name)} grade is with a second reviewer"
        body = (f"⚖️ Your dispute ({dispute.iso_week}) is with a second reviewer, who "
                "decides without seeing the first grade. The sample does not count towards "
                "your score until they decide; you will be told the outcome.")
    return text, [{"type": "section", "text": mrkdwn(body)}]


def second_review_dm(dispute: TrainerDispute, *, task_name: str, prompt: str, output: str,
                     link: str | None) -> tuple[str, list[dict]]:
    """To the second reviewer: the output and the trainer's reasoning, not the first grade."""
    text = f"A trainer disputes a {escape(task_name)} grade: please decide"
    label = linked("the sample", link)
    return text, [
        {"type": "section", "text": mrkdwn(cut(
            f"⚖️ *A trainer disputes a non-pass grade* on {label} ({escape(task_name)}, "
            f"{dispute.iso_week}). You decide it blind: the first grade, its category, "
            "explanation and reviewer are not shown. *Uphold* if the output has a real "
            "error; *Overturn* with the grade it deserves.", 2900))},
        {"type": "section", "text": mrkdwn(f"*Prompt:*\n{escape_cut(prompt, 1200)}")},
        {"type": "section", "text": mrkdwn(f"*Output:*\n{escape_cut(output, 2400)}")},
        {"type": "section", "text": mrkdwn(
            f"*The trainer's reasoning:*\n> {escape_cut(dispute.reasoning, 2000)}")},
        decide_buttons(dispute.sample_id),
    ]


def decide_modal(dispute: TrainerDispute, *, outcome: str, task_name: str,
                 private_metadata: str) -> dict:
    blocks: list[dict] = [{"type": "section", "text": mrkdwn(
        f"*{escape(task_name)}* · {dispute.iso_week}\n*The trainer's reasoning:* "
        f"{escape_cut(dispute.reasoning, 1500)}")}]
    if outcome == OVERTURNED:
        options = [{"text": plain(label), "value": grade}
                   for grade, label in scale_in_force().badges().items()]
        blocks.append({"type": "input", "block_id": FeedbackBlock.GRADE,
                       "label": plain("The corrected grade"),
                       "element": {"type": "radio_buttons", "action_id": FeedbackBlock.GRADE,
                                   "options": options}})
    blocks.append({"type": "input", "block_id": FeedbackBlock.REASON,
                   "label": plain("Your reason: the trainer and the first reviewer read it"),
                   "hint": plain("At least 20 characters."),
                   "element": {"type": "plain_text_input", "action_id": FeedbackBlock.REASON,
                               "multiline": True, "min_length": 20, "max_length": 3000}})
    return {
        "type": "modal",
        "callback_id": FeedbackCallback.DECIDE_MODAL,
        "private_metadata": private_metadata,
        "title": plain("Overturn the grade" if outcome == OVERTURNED else "Uphold the grade"),
        "submit": plain("Overturn" if outcome == OVERTURNED else "Uphold"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


def outcome_dm(dispute: TrainerDispute, *, task_name: str, to_trainer: bool,
               show_reviewer: bool, link: str | None) -> tuple[str, list[dict]]:
    """The outcome, to the trainer or to a first reviewer, with the second reviewer's reason."""
    verdict = "upheld" if dispute.status == UPHELD else "overturned"
    grade = badge(dispute.grade or "")
    who = f"<@{dispute.second_reviewer}>" if (show_reviewer or not to_trainer) \
        and dispute.second_reviewer else "The second reviewer"
    sample = linked("the sample", link)
    if to_trainer:
        text = f"Your dispute of a {escape(task_name)} grade was {verdict}"
        body = f"⚖️ {who} *{verdict}* the grade you disputed on {sample} ({dispute.iso_week})."
    else:
        text = (f"A trainer's dispute of your {escape(task_name)} grade was {verdict}")
        body = (f"⚖️ <@{dispute.trainer}> disputed your grade on {sample} "
                f"({dispute.iso_week}); {who} *{verdict}* it.")
    if dispute.status == OVERTURNED:
        body += f" The sample now counts as {grade}."
    body += f"\n*Reason:* {escape_cut(dispute.reason or '', 2000)}"
    return text, [{"type": "section", "text": mrkdwn(cut(body, 2900))}]


def trainer_disputes_section(disputes: Sequence[TrainerDispute], *, now: datetime,
                             task_names: Mapping[str, str],
                             can_decide: bool = False) -> list[dict]:
    """`/audit disputes`: open trainer disputes with their age; for a manager, Uphold /
    Overturn on those no reviewer was eligible for (at most ``UNASSIGNED_SHOWN``)."""
    if not disputes:
        return [{"type": "section", "text": mrkdwn(
            "🙋 *No open trainer disputes.* A trainer's dispute of a grade waits here for "
            "its second reviewer.")}]
    noun = "dispute" if len(disputes) == 1 else "disputes"
    lines = [f"🙋 *{len(disputes)} open trainer {noun}*"]
    for d in disputes[:20]:
        who = (f"with <@{d.second_reviewer}>" if d.second_reviewer
               else "*no eligible reviewer*: add one to the task type")
        lines.append(f"• <@{d.trainer}> · {escape(task_names.get(d.task_type, d.task_type))} · "
                     f"{d.iso_week} · open {ago(now - d.opened_at)} · {who}")
    if len(disputes) > 20:
        lines.append(f"and {len(disputes) - 20} more")
    blocks: list[dict] = [{"type": "section", "text": mrkdwn(cut("\n".join(lines), 2900))}]
    if can_decide:
        for d in [d for d in disputes if d.second_reviewer is None][:UNASSIGNED_SHOWN]:
            blocks += [{"type": "section", "text": mrkdwn(cut(
                f"<@{d.trainer}> · {escape(task_names.get(d.task_type, d.task_type))} · "
                f"{d.iso_week}: no eligible reviewer. *The trainer's reasoning:* "
                f"{escape_cut(d.reasoning, 1500)}", 2900))}, decide_buttons(d.sample_id)]
    return blocks


def _rate(value: float | None, of: int) -> str:
    return "–" if value is None else f"{value:.0%} of {of}"


def reviewer_quality_section(rows: Sequence[ReviewerQuality]) -> list[dict]:
    """Managers: per reviewer, catch rate, agreement and overturn rate side by side."""
    if not rows:
        return []
    lines = ["👩‍⚕️ *Reviewers* (over each task type's window): planted errors caught · "
             "agreement on double reviews · disputed grades overturned"]
    for r in rows[:40]:
        o = r.overturn
        lines.append(f"• <@{r.reviewer}> · {escape(r.task_name)}: caught "
                     f"{_rate(r.catch_rate, r.calibration_items)} · agreed "
                     f"{_rate(r.agreement, r.shared)} · overturned "
                     f"{_rate(o.rate if o else None, o.decided if o else 0)}")
    return [{"type": "section", "text": mrkdwn(cut("\n".join(lines), 2900))}]
