"""Block Kit for disputes: the list managers settle from, the settle modal, the DMs.

Pure builders (plain data in, payload dicts out); the Slack ids they share with
``handlers.disputes`` are in ``bot.slack.ids``, the modal's parser in ``bot.slack.payloads``::

    text, blocks = disputes_list(views, task_names={"clinical": "Clinical NLP"}, can_settle=True)
    view = settle_modal(dispute, task_name="Clinical NLP", private_metadata="{...}")
    text, blocks = settlement_dm(dispute, task_name="Clinical NLP", reviewer="U0NURSE01")

Reviewers' words go out escaped (``escape``), so an explanation cannot ping or inject markup.
"""

from collections.abc import Mapping, Sequence

from bot.common.grades import scale_in_force
from bot.services.disputes import DisputeView, Review
from bot.slack.blocks import badge, cut, escape, escape_cut, grade_line, mrkdwn, plain
from bot.slack.ids import DisputeBlock, DisputeCallback, settle_action_id

MESSAGE_BLOCK_LIMIT = 50
LIST_SHOWN = 8  # disputes per message: 5 blocks each stays well inside 50


def sample_label(view: DisputeView) -> str:
    return (f"<@{view.trainer}> · sample {view.position + 1} of {view.count} · {view.week} · "
            f"`{escape(view.output_id)}`")


def review_line(review: Review) -> str:
    return grade_line(review.grade, review.reviewer, review.category, review.explanation,
                      cap=600, who=" — ")[:2900]


def dispute_status_line(view: DisputeView | None) -> str | None:
    """The line a disputed sample's message carries (``None`` when it is not disputed)."""
    if view is None:
        return None
    if view.settlement is None:
        return ("⚖️ *Disputed*: the reviewers disagree by a whole step. It counts towards "
                "the score once a manager settles it (or, left unsettled past the "
                "deadline, with both grades).")
    s = view.settlement
    return (f"⚖️ *Settled* by <@{s.manager}>: {badge(s.grade)} — "
            f"{escape(cut(s.note, 600))}")


def disputes_list(views: Sequence[DisputeView], *, task_names: Mapping[str, str],
                  can_settle: bool, total: int | None = None) -> tuple[str, list[dict]]:
    """`/audit disputes` and App Home: each open dispute with both reviews (and Settle);
    ``total``: how many there are when ``views`` are only the first (``open_disputes``)."""
    total = len(views) if total is None else total
    if not views:
        return "No open disputes.", [{"type": "section", "text": mrkdwn(
            "⚖️ *No open disputes.* Double reviews that differ by a whole step ("
            f"{_whole_step_example()}) appear here for a manager to settle.")}]
    text = f"{total} open dispute{'s' if total != 1 else ''}"
    blocks: list[dict] = [{"type": "header", "text": plain(f"⚖️ {text}")}]
    for view in views[:LIST_SHOWN]:
        blocks += [
            {"type": "divider"},
            {"type": "section", "text": mrkdwn(
                f"*{escape(task_names.get(view.task_type, view.task_type))}* · "
                f"{sample_label(view)} · in <#{view.channel}>")},
            *({"type": "context", "elements": [mrkdwn(review_line(r))]}
              for r in view.reviews[:2]),
        ]
        if can_settle:
            # Slack wants action ids unique within a message; the listener matches the prefix.
            settle = {"type": "button", "text": plain("Settle"), "style": "primary",
                      "action_id": settle_action_id(view.sample_id),
                      "value": str(view.sample_id)}
            blocks.append({"type": "actions", "block_id": f"dispute-{view.sample_id}",
                           "elements": [settle]})
    footer = ("Settle gives the sample its grade; both reviewers are told by DM."
              if can_settle else "A manager settles these.")
    if total > min(len(views), LIST_SHOWN):
        footer = (f"{total - min(len(views), LIST_SHOWN)} more not shown (oldest first). "
                  + footer)
    blocks.append({"type": "context", "elements": [mrkdwn(footer)]})
    return text, blocks[:MESSAGE_BLOCK_LIMIT]


def dispute_opened(view: DisputeView, *, task_name: str) -> tuple[str, list[dict]]:
    """The DM to managers when two reviewers disagree by a whole step."""
    text = (f"Reviewers disagree on a {escape(task_name)} sample of <@{view.trainer}>: "
            "please settle it")
    _, blocks = disputes_list([view], task_names={view.task_type: task_name}, can_settle=True)
    blocks[0] = {"type": "section", "text": mrkdwn(
        f"⚖️ *Reviewers disagree by a whole step* on a {escape(task_name)} sample. It does "
        "not count towards the trainer's score until you settle it.")}
    return text, blocks


def _whole_step_example() -> str:
    """``Pass vs Major error``: the best grade against the first a whole step below it."""
    scale = scale_in_force()
    return f"{scale.label_of(scale.best)} vs {scale.label_of(scale.keys[scale.whole_step])}"


def settle_modal(view: DisputeView, *, task_name: str, private_metadata: str) -> dict:
    options = [{"text": plain(level.badge), "value": level.key} for level in scale_in_force()]
    return {
        "type": "modal",
        "callback_id": DisputeCallback.SETTLE_MODAL,
        "private_metadata": private_metadata,
        "title": plain("Settle dispute"),
        "submit": plain("Settle"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "section", "text": mrkdwn(
                f"*{escape(task_name)}* · {sample_label(view)}")},
            *({"type": "context", "elements": [mrkdwn(review_line(r))]}
              for r in view.reviews[:10]),
            {"type": "input", "block_id": DisputeBlock.GRADE,
             "label": plain("The sample's grade"),
             "element": {"type": "radio_buttons", "action_id": DisputeBlock.GRADE,
                         "options": options}},
            {"type": "input", "block_id": DisputeBlock.NOTE,
             "label": plain("Why? Both reviewers will read this"),
             "hint": plain("At least 20 characters."),
             "element": {"type": "plain_text_input", "action_id": DisputeBlock.NOTE,
                         "multiline": True, "min_length": 20, "max_length": 3000}},
        ],
    }


def settlement_dm(view: DisputeView, *, task_name: str,
                  reviewer: str) -> tuple[str, list[dict]]:
    """The DM to each of the two reviewers once a manager settled their disagreement."""
    s = view.settlement
    assert s is not None, "only a settled dispute is announced"
    label = badge(s.grade)
    text = f"<@{s.manager}> settled your disagreement on a {escape(task_name)} sample: {label}"
    yours = next((r for r in view.reviews if r.reviewer == reviewer), None)
    blocks: list[dict] = [
        {"type": "section", "text": mrkdwn(
            f"⚖️ <@{s.manager}> settled the disagreement on *{escape(task_name)}* · "
            f"{sample_label(view)}\n*Decision:* {label}\n*Note:* {escape_cut(s.note, 2000)}")},
        {"type": "context", "elements": [mrkdwn(review_line(r)) for r in view.reviews[:10]]},
    ]
    if yours is not None:
        agreed = "matches" if yours.grade == s.grade else "differs from"
        blocks.append({"type": "context", "elements": [mrkdwn(
            f"Your grade ({badge(yours.grade)}) {agreed} the decision. "
            "The sample now counts with the decided grade.")]})
    return text, blocks


