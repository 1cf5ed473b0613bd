"""Reading ``[escalation]``: who is notified, level by level, and how long each has.

    escalation = read_escalation(root.table("escalation", known=ESCALATION_KEYS),
                                 managers=("U0MANAGER1",))

Without ``levels`` the default path applies: the trainer's lead (4h), then the managers.
"""

from datetime import timedelta

from bot.workspace.model import (
    LEAD,
    Escalation,
    EscalationLevel,
    default_escalation,
)
from bot.workspace.reader import Table, channel_id_problem, user_id_problem
from bot.workspace.timing import parse_duration, parse_working_hours

ESCALATION_KEYS = ("levels", "reack_after", "repeat")
LEVEL_KEYS = ("notify", "ack_within", "working_hours")
MAX_REPEAT = 10


def read_escalation(table: Table, *, managers: tuple[str, ...]) -> Escalation:
    """The configured levels (or the default path), ``reack_after`` and ``repeat``."""
    reack_after = table.parsed("reack_after", parse_duration, default=timedelta(hours=24),
                               example="24h")
    repeat = table.integer("repeat", default=0, low=0, high=MAX_REPEAT)
    levels = table.tables("levels", known=LEVEL_KEYS)
    if levels is None:
        return Escalation(levels=default_escalation(managers).levels, reack_after=reack_after,
                          repeat=repeat)
    if not table.data["levels"]:
        table.report("levels", "must have at least one level")
    result: list[EscalationLevel] = []
    for i, level in enumerate(levels):
        is_last = i == len(levels) - 1
        # "lead" is allowed even if some trainers have none: for them the level notifies
        # its other targets, and a level with no target left is passed over at once.
        notify = level.strings("notify", required=True, non_empty=True, check=_target_problem)
        ack_within = level.parsed("ack_within", parse_duration, default=None, example="4h")
        if not is_last and not level.has("ack_within"):
            level.report("ack_within", "missing required key: every level but the last needs "
                         "one, or the next level is never reached")
        elif is_last and repeat and not level.has("ack_within"):
            level.report("ack_within", "missing required key: with escalation.repeat the last "
                         "level needs one too, or the path never starts again")
        working_hours = level.parsed("working_hours", parse_working_hours, default=None,
                                     example="mon-fri 09:00-18:00")
        result.append(EscalationLevel(notify=notify, ack_within=ack_within,
                                      working_hours=working_hours))
    return Escalation(levels=tuple(result), reack_after=reack_after, repeat=repeat)


def _target_problem(target: str) -> str | None:
    if target == LEAD or not user_id_problem(target) or not channel_id_problem(target):
        return None
    return (f"must be \"lead\", a user id (U… or W…) or a channel id (C… or G…) "
            f"(got {target!r})")
