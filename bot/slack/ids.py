"""Every Slack identifier auditbot puts on a surface, in one place.

The Block Kit builders and the listener registrations both use these, so the two cannot
drift apart.
"""

import re
from enum import StrEnum


class Action(StrEnum):
    SHOW_FULL = "show_full"
    ESCALATION_ACK = "escalation_ack"
    ESCALATION_RESOLVE = "escalation_resolve"
    ESCALATION_SNOOZE = "escalation_snooze"
    SHOW_CHART = "show_chart"  # on `/audit status @trainer`: the PNG chart to your DM
    HOME_PAGE = "home_page"  # App Home pagers: "home_page-<section>-<next|prev>"
    STATUS_MORE = "status_more"  # on `/audit status`: the next page of trainers' rows
    CLARITY_CLEAR = "clarity_clear"  # on a sample with the trainer's reasoning
    CLARITY_UNCLEAR = "clarity_unclear"
    ADJUDICATE = "adjudicate"  # on a disagreement between trainers


class Callback(StrEnum):
    GRADE_MODAL = "grade_modal"
    FULL_OUTPUT = "full_output"
    RESOLVE_MODAL = "resolve_modal"
    CLARITY_MODAL = "clarity_modal"
    ADJUDICATE_MODAL = "adjudicate_modal"
    SNOOZE_MODAL = "snooze_modal"


class Block(StrEnum):
    CATEGORY = "category"
    EXPLANATION = "explanation"
    CLARITY_REASON = "clarity_reason"
    RULING_LABEL = "ruling_label"
    RULING_REASON = "ruling_reason"


class EscalationBlock(StrEnum):
    """The escalation forms' inputs (block id = action id): Resolve's note, Snooze's choice."""

    NOTE = "note"
    UNTIL = "until"
    DAY = "day"
    REASON = "reason"


# A grade button's action id is "grade_" + the grade's key, for any scale a workspace
# defines (keys are a-z, 0-9 and _: bot.workspace.scale): one listener matches them all and
# the key is read back from the id, so a new level needs no new id here.
GRADE_ACTION_PREFIX = "grade_"
GRADE_ACTION = re.compile(rf"^{GRADE_ACTION_PREFIX}([a-z][a-z0-9_]*)$")


def grade_action(key: str) -> str:
    """The action id of the button that grades ``key``."""
    return f"{GRADE_ACTION_PREFIX}{key}"


def grade_of_action(action_id: str) -> str | None:
    """The grade key a grade button's action id names (``None``: not a grade button)."""
    match = GRADE_ACTION.match(action_id)
    return match[1] if match else None


OUTBOX_EVENT_TYPE = "auditbot_outbox"


# --- disputes between reviewers (bot.slack.dispute_blocks, handlers.disputes) --------------

class DisputeAction(StrEnum):
    SETTLE = "dispute_settle"


class DisputeCallback(StrEnum):
    SETTLE_MODAL = "dispute_settle_modal"


class DisputeBlock(StrEnum):
    GRADE = "settle_grade"
    NOTE = "settle_note"


SETTLE_ACTION = re.compile(rf"^{DisputeAction.SETTLE}(:\d+)?$")


def settle_action_id(sample_id: int) -> str:
    return f"{DisputeAction.SETTLE}:{sample_id}"


# --- the trainer's side: disputes of grades (bot.slack.feedback_blocks) ---------------------

class FeedbackAction(StrEnum):
    DISPUTE = "trainer_dispute"
    UPHOLD = "trainer_dispute_uphold"
    OVERTURN = "trainer_dispute_overturn"


class FeedbackCallback(StrEnum):
    DISPUTE_MODAL = "trainer_dispute_modal"
    DECIDE_MODAL = "trainer_dispute_decide_modal"


class FeedbackBlock(StrEnum):
    REASONING = "dispute_reasoning"
    GRADE = "decide_grade"
    REASON = "decide_reason"


DISPUTE_ACTION = re.compile(rf"^{FeedbackAction.DISPUTE}(:\d+)?$")
UPHOLD_ACTION = re.compile(rf"^{FeedbackAction.UPHOLD}(:\d+)?$")
OVERTURN_ACTION = re.compile(rf"^{FeedbackAction.OVERTURN}(:\d+)?$")


# --- saving a precedent (bot.slack.precedent_form, handlers.precedents) ---------------------

class PrecedentAction(StrEnum):
    SAVE = "precedent_save"
    SAVE_DISAGREEMENT = "precedent_save_disagreement"


class PrecedentCallback(StrEnum):
    MODAL = "precedent_modal"


class PrecedentBlock(StrEnum):
    CATEGORY = "precedent_category"
    RULING = "precedent_ruling"
    RATIONALE = "precedent_rationale"


SAVE_ACTION = re.compile(rf"^{PrecedentAction.SAVE}(:\d+)?$")
SAVE_DISAGREEMENT_ACTION = re.compile(rf"^{PrecedentAction.SAVE_DISAGREEMENT}(:\d+)?$")
