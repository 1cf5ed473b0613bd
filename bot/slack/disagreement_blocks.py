"""A disagreement between trainers in the review channel, and the modal that adjudicates it
(pure). What trainers wrote goes out as ``plain_text``."""

from collections.abc import Sequence
from dataclasses import dataclass

from bot.common.grades import scale_in_force
from bot.slack.blocks import (
    badge,
    button,
    cut,
    escape,
    escape_cut,
    mrkdwn,
    option,
    plain,
)
from bot.slack.ids import Action, Block, Callback

REASONING_SHOWN = 600
TRAINERS_SHOWN = 8  # two blocks each, well within a message's 50


@dataclass(frozen=True)
class LabelLine:
    trainer: str
    label: str
    reasoning: str | None


@dataclass(frozen=True)
class Ruling:
    reviewer: str
    label: str
    reason: str


def disagreement_blocks(*, disagreement_id: int, task_name: str, item: str, iso_week: str,
                        labels: Sequence[LabelLine], share: float,
                        ruling: Ruling | None) -> tuple[str, list[dict]]:
    text = (f"Disagreement between trainers · {escape(task_name)} · item "
            f"{escape_cut(item, 100)}")
    blocks: list[dict] = [
        {"type": "header", "text": plain(cut(f"Disagreement · {task_name}", 150))},
        {"type": "section", "text": mrkdwn(
            f"*Item* `{escape_cut(item, 200).replace('`', chr(39))}` · {iso_week} · "
            f"{len(labels)} trainers, {share:.0%} of their pairs disagree")},
    ]
    for line in labels[:TRAINERS_SHOWN]:
        blocks.append({"type": "context", "elements": [mrkdwn(
            f"<@{line.trainer}> labelled *{escape_cut(line.label, 64)}*")]})
        blocks.append({"type": "section", "text": plain(
            cut(line.reasoning or "(no reasoning given)", REASONING_SHOWN))})
    if len(labels) > TRAINERS_SHOWN:
        blocks.append({"type": "context", "elements": [mrkdwn(
            f"and {len(labels) - TRAINERS_SHOWN} more trainers")]})
    if ruling is None:
        blocks.append({"type": "actions", "block_id": f"disagreement-{disagreement_id}",
                       "elements": [button("Adjudicate", Action.ADJUDICATE,
                                           str(disagreement_id), style="primary")]})
        blocks.append({"type": "context", "elements": [mrkdwn(
            "A reviewer of this task type says which label is right, and why.")]})
    else:
        blocks.append({"type": "section", "text": mrkdwn(
            f"⚖️ *Adjudicated* by <@{ruling.reviewer}>: *{escape_cut(ruling.label, 64)}* "
            f"is right — {escape(cut(ruling.reason, 1500))}")})
    return text, blocks


def adjudicate_modal(*, labels: Sequence[str], item: str, private_metadata: str,
                     minimum: int) -> dict:
    return {
        "type": "modal",
        "callback_id": Callback.ADJUDICATE_MODAL,
        "private_metadata": private_metadata,
        "title": plain("Adjudicate"),
        "submit": plain("Record ruling"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "section", "text": mrkdwn(
                f"Which label is right for item `{escape_cut(item, 200).replace('`', chr(39))}`?")},
            {"type": "input", "block_id": Block.RULING_LABEL, "label": plain("The right label"),
             "element": {"type": "static_select", "action_id": Block.RULING_LABEL,
                         "placeholder": plain("Choose a label"),
                         "options": [option(label) for label in labels[:100]]}},
            {"type": "input", "block_id": Block.RULING_REASON, "label": plain("Why?"),
             "hint": plain(f"At least {minimum} characters. The trainers will read this."),
             "element": {"type": "plain_text_input", "action_id": Block.RULING_REASON,
                         "multiline": True, "min_length": minimum, "max_length": 3000}},
        ],
    }


def ruling_dm(*, task_name: str, item: str, label: str, verdict: str, ruling: Ruling,
              week: str, show_reviewer: bool) -> tuple[str, list[dict]]:
    """The DM to one trainer of an adjudicated disagreement: their label, the ruling, why,
    and how it counts in their precision. The reviewer is named only when
    ``show_reviewer_to_trainer`` says so."""
    right = verdict == scale_in_force().best
    who = f"<@{ruling.reviewer}>" if show_reviewer else "A reviewer"
    text = (f"{escape(task_name)}: a reviewer adjudicated item {escape_cut(item, 100)}: "
            f"your label was {'right' if right else 'not the one ruled right'}")
    head = (f"⚖️ *{escape(task_name)}* · item `{escape_cut(item, 200).replace('`', chr(39))}`"
            f"\nYou and other trainers labelled this item differently. {who} adjudicated: "
            f"*{escape_cut(ruling.label, 64)}* is right.")
    mark = "✅ Your label matched the ruling" if right else "❌ Your label did not match"
    blocks: list[dict] = [
        {"type": "section", "text": mrkdwn(head)},
        {"type": "section", "text": mrkdwn(
            f"{mark}: you labelled *{escape_cut(label, 64)}*.\n*Why:* "
            f"{escape(cut(ruling.reason, 2000))}")},
        {"type": "context", "elements": [mrkdwn(
            f"It counts in your precision as {badge(verdict)} "
            f"in {week}.")]},
    ]
    return text, blocks
