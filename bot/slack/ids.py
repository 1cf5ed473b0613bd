"""Every Slack identifier auditbot puts on a surface, in one place.

The Block Kit builders and the listener registrations both use these, so the two cannot
drift apart.
"""

from enum import StrEnum

from bot.grades import SCALE


class Action(StrEnum):
    GRADE_PASS = "grade_pass"
    GRADE_MINOR = "grade_minor"
    GRADE_MAJOR = "grade_major"
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


# A grade button's action id is "grade_" + the grade's key (bot.grades); the Action members
# above name the default scale's three.
GRADE_BY_ACTION = {Action(f"grade_{key}"): key for key in SCALE.keys}
ACTION_BY_GRADE = {key: action for action, key in GRADE_BY_ACTION.items()}

OUTBOX_EVENT_TYPE = "auditbot_outbox"
