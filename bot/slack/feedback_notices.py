"""Owe the trainer-dispute DMs (through the outbox) in the caller's transaction.

    opened = open_trainer_dispute(session, workspace, ...)
    owe_dispute_opened(session, workspace, opened.dispute, now=now)

Each DM carries a dedupe key (``trainer_dispute_*:<sample>:<person>``), so a retried
submission or a second replica owes it once.
"""

from datetime import datetime

from sqlmodel import Session

from bot.services.outbox import enqueue_message
from bot.services.trainer_disputes import first_grades
from bot.slack.feedback_blocks import dispute_opened_dm, outcome_dm, second_review_dm
from bot.store.models import TrainerOutput
from bot.store.models.feedback import TrainerDispute
from bot.workspace import Workspace


def _name(workspace: Workspace, key: str) -> str:
    try:
        return workspace.task_type(key).name
    except KeyError:
        return key


def owe_dispute_opened(session: Session, workspace: Workspace, dispute: TrainerDispute, *,
                       output: TrainerOutput, now: datetime) -> int:
    """Tell the trainer where their dispute went, and ask the second reviewer (if any)."""
    name = _name(workspace, dispute.task_type)
    text, blocks = dispute_opened_dm(dispute, task_name=name)
    owed = 0
    owed += enqueue_message(session, to=dispute.trainer, text=text, blocks=blocks,
                           dedupe_key=f"trainer_dispute_opened:{dispute.sample_id}", now=now)
    if dispute.second_reviewer is not None:
        text, blocks = second_review_dm(dispute, task_name=name, prompt=output.prompt,
                                        output=output.output, link=None)
        owed += enqueue_message(
            session, to=dispute.second_reviewer, text=text, blocks=blocks,
            dedupe_key=f"trainer_dispute_review:{dispute.sample_id}:{dispute.second_reviewer}",
            now=now)
    return owed


def owe_dispute_outcome(session: Session, workspace: Workspace, dispute: TrainerDispute, *,
                        now: datetime) -> int:
    """Tell the trainer and each first reviewer the outcome and the reason (once each)."""
    name = _name(workspace, dispute.task_type)
    try:
        show = workspace.task_type(dispute.task_type).policy.show_reviewer_to_trainer
    except KeyError:
        show = False
    text, blocks = outcome_dm(dispute, task_name=name, to_trainer=True, show_reviewer=show,
                              link=None)
    owed = 0
    owed += enqueue_message(session, to=dispute.trainer, text=text, blocks=blocks,
                           dedupe_key=f"trainer_dispute_outcome:{dispute.sample_id}:"
                                      f"{dispute.trainer}", now=now)
    for reviewer in dict.fromkeys(r.reviewer for r in first_grades(dispute)):
        text, blocks = outcome_dm(dispute, task_name=name, to_trainer=False, show_reviewer=True,
                                  link=None)
        owed += enqueue_message(session, to=reviewer, text=text, blocks=blocks,
                                dedupe_key=f"trainer_dispute_outcome:{dispute.sample_id}:"
                                           f"{reviewer}", now=now)
    return owed
