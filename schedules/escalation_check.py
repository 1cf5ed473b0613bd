"""The escalation check: the threshold rule for everyone, then climb what is overdue, flag
trainers significantly below the rest (``bot.services.outliers``), and catch up on
consistency notices a crash may have lost."""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.services.disputes import lapse_overdue
from bot.services.escalation import CheckOutcome, check_all, climb_overdue
from bot.services.feedback import owe_due_feedback
from bot.services.outliers import store_outliers
from bot.slack.consistency_notices import owe_consistency_messages
from bot.wiring.context import AppContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EscalationCheckSummary:
    outcomes: list[CheckOutcome]
    climbed: list[int]

    def describe(self) -> str:
        opened = [o for o in self.outcomes if o.opened]
        closed = [o for o in self.outcomes if o.closed]
        watch = [o for o in self.outcomes if o.state == "watch"]
        lines = [f"Escalation check: {len(self.outcomes)} trainer/task types checked"]
        lines += [f"  opened: {o.trainer} · {o.task_type}" for o in opened]
        lines += [f"  closed (recovered): {o.trainer} · {o.task_type}" for o in closed]
        lines += [f"  on watch: {o.trainer} · {o.task_type}" for o in watch]
        lines.append(f"  {len(self.climbed)} escalation(s) moved to the next level or reminded")
        return "\n".join(lines)


def run_escalation_check(ctx: AppContext, *, now: datetime) -> EscalationCheckSummary:
    with ctx.session() as session:
        # Disagreements unsettled past their deadline count with both grades from now on,
        # so the check below sees their weeks fully graded.
        lapse_overdue(session, ctx.workspace, now=now)
    with ctx.session() as session:
        outcomes = check_all(session, ctx.workspace, now=now)
    with ctx.session() as session:
        climbed = climb_overdue(session, ctx.workspace, now=now)
    try:
        with ctx.session() as session:
            store_outliers(session, ctx.workspace, now=now)
    except IntegrityError:  # two replicas flagged the same new trainer: one row is enough
        log.info("another replica stored this look's outliers first")
    with ctx.session() as session:
        # What each grade's follow-up owes (dispute notices, consistency alerts) is owed
        # after the grade commits; a crash in between would lose it. Owed once per key.
        owe_consistency_messages(session, ctx.workspace, now=now)
    with ctx.session() as session:
        # The trainers' weekly feedback of weeks now fully graded (``bot.services.feedback``):
        # owed by each change's follow-up too; this catches up on one a crash lost.
        owe_due_feedback(session, ctx.workspace, now=now)
    ctx.outbox.wake()
    return EscalationCheckSummary(outcomes, climbed)

