"""Block Kit for saving a precedent (pure): the settler's offer and the modal (its ids are in
``bot.slack.ids``; its metadata and parser, ``parse_precedent``, in ``bot.slack.payloads``).

    text, blocks = precedent_offer(view, task_name="Clinical NLP")   # DM to whoever settled
    modal = precedent_modal(view, task_name=..., categories=(...), saved=None,
                            private_metadata=precedent_metadata(sample_id=7, task_type="clinical"))
    submission = parse_precedent(body)

An adjudicated disagreement between trainers gets the same offer and form
(``disagreement_offer``, ``disagreement_precedent_modal``; action id
``precedent_save_disagreement:<disagreement id>``, metadata with ``disagreement_id``).

The offer carries ``Save as precedent`` (action id ``precedent_save:<sample id>``); the modal
asks for the error category (the task type's), the ruling in one sentence and the rationale,
prefilled with the saved precedent when its author edits it.
"""

from typing import Any

from bot.services.disputes import DisputeView
from bot.services.precedent_save import MAX_RATIONALE, MAX_RULING, MIN_RULING, Adjudicated
from bot.services.precedents import SavedPrecedent
from bot.slack.blocks import badge, escape, escape_cut, mrkdwn, option, plain
from bot.slack.dispute_blocks import review_line, sample_label
from bot.slack.ids import PrecedentAction, PrecedentBlock, PrecedentCallback


def save_button(sample_id: int) -> dict:
    return {"type": "button", "text": plain("Save as precedent"),
            "action_id": f"{PrecedentAction.SAVE}:{sample_id}", "value": str(sample_id)}


def precedent_offer(view: DisputeView, *, task_name: str) -> tuple[str, list[dict]]:
    """The DM to whoever settled a disagreement: the settlement, and Save as precedent."""
    s = view.settlement
    assert s is not None, "only a settled dispute is offered as a precedent"
    label = badge(s.grade)
    text = f"You settled a {task_name} sample of <@{view.trainer}> as {label}"
    blocks: list[dict] = [
        {"type": "section", "text": mrkdwn(
            f"⚖️ You settled *{escape(task_name)}* · {sample_label(view)}\n"
            f"*Decision:* {label}\n*Note:* {escape_cut(s.note, 2000)}")},
        {"type": "context", "elements": [mrkdwn(review_line(r)) for r in view.reviews[:10]]},
        {"type": "actions", "block_id": f"precedent-{view.sample_id}",
         "elements": [save_button(view.sample_id)]},
        {"type": "context", "elements": [mrkdwn(
            "Save it as a precedent so reviewers find the ruling with `/audit precedents` "
            "and in the grading form. You can edit it later with the same button.")]},
    ]
    return escape(text), blocks


def save_disagreement_button(disagreement_id: int) -> dict:
    return {"type": "button", "text": plain("Save as precedent"),
            "action_id": f"{PrecedentAction.SAVE_DISAGREEMENT}:{disagreement_id}",
            "value": str(disagreement_id)}


def _item_label(view: Adjudicated) -> str:
    return f"{view.week} · item `{escape_cut(view.item, 200).replace('`', chr(39))}`"


def _labels_line(view: Adjudicated) -> str:
    return " · ".join(f"<@{trainer}> labelled *{escape_cut(label, 64)}*"
                      for trainer, label in view.labels[:8])


def disagreement_offer(view: Adjudicated, *, task_name: str) -> tuple[str, list[dict]]:
    """The DM to whoever adjudicated a disagreement between trainers: the ruling, and Save
    as precedent."""
    text = f"You adjudicated a {task_name} disagreement between trainers"
    blocks: list[dict] = [
        {"type": "section", "text": mrkdwn(
            f"⚖️ You adjudicated *{escape(task_name)}* · {_item_label(view)}\n"
            f"*Ruling:* *{escape_cut(view.ruling_label, 64)}* is right\n"
            f"*Why:* {escape_cut(view.ruling_reason, 2000)}")},
        {"type": "context", "elements": [mrkdwn(_labels_line(view) or "(no labels)")]},
        {"type": "actions", "block_id": f"precedent-disagreement-{view.disagreement_id}",
         "elements": [save_disagreement_button(view.disagreement_id)]},
        {"type": "context", "elements": [mrkdwn(
            "Save it as a precedent so reviewers find the ruling with `/audit precedents` "
            "and in the grading form. You can edit it later with the same button.")]},
    ]
    return escape(text), blocks


def disagreement_precedent_modal(view: Adjudicated, *, task_name: str,
                                 categories: tuple[str, ...], saved: SavedPrecedent | None,
                                 private_metadata: str) -> dict:
    """The same form as a sample's, the task type fixed, for an adjudicated disagreement."""
    heading = (f"*Task type:* {escape(task_name)} · {_item_label(view)}\n"
               f"*Adjudicated:* *{escape_cut(view.ruling_label, 64)}* is right: "
               f"{escape_cut(view.ruling_reason, 1200)}")
    category = saved.category if saved is not None and saved.category in categories else None
    return _form(heading, categories=categories, category=category, saved=saved,
                 private_metadata=private_metadata)


def precedent_modal(view: DisputeView, *, task_name: str, categories: tuple[str, ...],
                    saved: SavedPrecedent | None, private_metadata: str) -> dict:
    s = view.settlement
    decided = (f"\n*Settled as* {badge(s.grade)}: "
               f"{escape_cut(s.note, 1200)}" if s is not None else "")
    return _form(f"*Task type:* {escape(task_name)} · {sample_label(view)}{decided}",
                 categories=categories, category=_category(view, saved, categories),
                 saved=saved, private_metadata=private_metadata)


def _form(heading: str, *, categories: tuple[str, ...], category: str | None,
          saved: SavedPrecedent | None, private_metadata: str) -> dict:
    select: dict[str, Any] = {"type": "static_select", "action_id": PrecedentBlock.CATEGORY,
                              "placeholder": plain("Choose a category"),
                              "options": [option(c) for c in categories[:100]]}
    if category is not None:
        select["initial_option"] = option(category)
    ruling: dict[str, Any] = {"type": "plain_text_input", "action_id": PrecedentBlock.RULING,
                              "min_length": MIN_RULING, "max_length": MAX_RULING}
    rationale: dict[str, Any] = {"type": "plain_text_input",
                                 "action_id": PrecedentBlock.RATIONALE, "multiline": True,
                                 "min_length": 20, "max_length": MAX_RATIONALE}
    if saved is not None:
        ruling["initial_value"] = saved.ruling[:MAX_RULING]
        rationale["initial_value"] = saved.rationale[:MAX_RATIONALE]
    return {
        "type": "modal",
        "callback_id": PrecedentCallback.MODAL,
        "private_metadata": private_metadata,
        "title": plain("Edit precedent" if saved else "Save as precedent"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "section", "text": mrkdwn(heading[:3000])},
            {"type": "input", "block_id": PrecedentBlock.CATEGORY,
             "label": plain("Error category"), "element": select},
            {"type": "input", "block_id": PrecedentBlock.RULING,
             "label": plain("The ruling, in one sentence"),
             "hint": plain(f"At least {MIN_RULING} characters, e.g. “NSAIDs for a patient "
                           "with stated CKD are a Major error.”"),
             "element": ruling},
            {"type": "input", "block_id": PrecedentBlock.RATIONALE,
             "label": plain("Why: the rationale reviewers will read"),
             "hint": plain("At least 20 characters."), "element": rationale},
        ],
    }


def _category(view: DisputeView, saved: SavedPrecedent | None,
              categories: tuple[str, ...]) -> str | None:
    """The saved category, else that of the review the settlement agreed with."""
    if saved is not None and saved.category in categories:
        return saved.category
    s = view.settlement
    for review in view.reviews:
        if s is not None and review.grade == s.grade and review.category in categories:
            return review.category
    return None


