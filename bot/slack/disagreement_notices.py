"""Owe the DMs of an adjudicated disagreement between trainers, in the ruling's transaction.

    with ctx.session() as session:
        row = adjudicate(session, workspace, ...)        # the ruling and its tallies ...
        owe_ruling_dms(session, workspace, row, now=now)  # ... and its DMs, together
    ctx.outbox.wake()

One DM per involved trainer (dedupe key ``disagreement_ruling:<id>:<trainer>``): a retried
submission or a second replica owes none twice. The content is fixed at the ruling.
"""

from datetime import datetime

from sqlmodel import Session

from bot.services.disagreements import labels_of
from bot.services.outbox import enqueue_message
from bot.services.tallies import verdicts_of
from bot.slack.disagreement_blocks import Ruling, ruling_dm
from bot.store.models.trainer import Disagreement
from bot.workspace import Workspace


def owe_ruling_dms(session: Session, workspace: Workspace, row: Disagreement, *,
                   now: datetime) -> int:
    """Tell each trainer involved in the adjudicated ``row`` the ruling and why (once)."""
    if row.ruled_by is None or row.ruling_label is None:
        return 0
    task_type = workspace.task_type(row.task_type)
    ruling = Ruling(reviewer=row.ruled_by, label=row.ruling_label,
                    reason=row.ruling_reason or "")
    first_label: dict[str, str] = {}
    for given in labels_of(row):
        first_label.setdefault(given.trainer, given.label)
    owed = 0
    for verdict in verdicts_of(row):
        text, blocks = ruling_dm(
            task_name=task_type.name, item=row.item, label=first_label[verdict.trainer],
            verdict=verdict.grade, ruling=ruling, week=verdict.iso_week,
            show_reviewer=task_type.policy.show_reviewer_to_trainer)
        owed += enqueue_message(session, to=verdict.trainer, text=text, blocks=blocks,
                                dedupe_key=f"disagreement_ruling:{row.id}:{verdict.trainer}",
                                now=now)
    return owed
