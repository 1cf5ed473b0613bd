"""Owe the consistency messages (DMs through the outbox) in the caller's transaction.

    with ctx.session() as session:
        view = settle(session, workspace, ...)                 # the state ...
        owe_settlement_dms(session, workspace, view, now=now)  # ... and its messages, together
    ctx.outbox.wake()

Each DM carries a dedupe key saying what makes it the same message, so a retry, a second
replica or the next grade owes it once: a dispute is announced once per manager, a
settlement once per reviewer, an alert once per ISO week per manager.
"""

from datetime import datetime

from sqlmodel import Session

from bot.services.consistency import consistency_alerts
from bot.services.disputes import DisputeView, list_disputes, sample_dispute
from bot.services.outbox import enqueue_message
from bot.slack.consistency_blocks import agreement_alert, calibration_alert
from bot.slack.dispute_blocks import dispute_opened, settlement_dm
from bot.workspace import Workspace


def owe_dispute_notice(session: Session, workspace: Workspace, *, sample_id: int,
                       now: datetime) -> int:
    """Tell the managers about the sample's dispute if it is open (once each)."""
    view = sample_dispute(session, sample_id)
    if view is None or view.settlement is not None:
        return 0
    text, blocks = dispute_opened(view, task_name=workspace.task_type(view.task_type).name)
    return sum(enqueue_message(session, to=manager, text=text, blocks=blocks,
                               dedupe_key=f"dispute_open:{sample_id}:{manager}", now=now)
               for manager in workspace.managers if manager != view.trainer)


def owe_settlement_dms(session: Session, workspace: Workspace, view: DisputeView, *,
                       now: datetime) -> int:
    """Tell each reviewer of a settled dispute the outcome (once each)."""
    task_name = workspace.task_type(view.task_type).name
    owed = 0
    for reviewer in dict.fromkeys(r.reviewer for r in view.reviews):
        text, blocks = settlement_dm(view, task_name=task_name, reviewer=reviewer)
        owed += enqueue_message(session, to=reviewer, text=text, blocks=blocks,
                                dedupe_key=f"dispute_settled:{view.sample_id}:{reviewer}",
                                now=now)
    return owed


def owe_consistency_alerts(session: Session, workspace: Workspace, *, now: datetime,
                           task_type: str | None = None) -> int:
    """DM managers this week's agreement and calibration alerts (of one task type or all).

    Cheap enough to run after every grade; a scheduled job may run it for all task types.
    """
    owed = 0
    for alert in consistency_alerts(session, workspace, now=now, task_type=task_type):
        if alert.agreement is not None:
            text, blocks = agreement_alert(alert.agreement)
        else:
            assert alert.calibration is not None
            name = workspace.task_type(alert.calibration.task_type).name
            text, blocks = calibration_alert(alert.calibration, task_name=name)
        owed += sum(enqueue_message(session, to=manager, text=text, blocks=blocks,
                                    dedupe_key=f"{alert.key}:{manager}", now=now)
                    for manager in workspace.managers)
    return owed


def owe_consistency_messages(session: Session, workspace: Workspace, *, now: datetime) -> int:
    """Everything above for every task type: for a scheduled job (after each grade the
    grading listeners owe what that grade changed). Catches up on a notice a crash lost."""
    owed = sum(owe_dispute_notice(session, workspace, sample_id=view.sample_id, now=now)
               for view in list_disputes(session, workspace, now=now))
    return owed + owe_consistency_alerts(session, workspace, now=now)


def owe_precedent_offer(session: Session, workspace: Workspace, view: DisputeView, *,
                        now: datetime) -> int:
    """Offer whoever settled the dispute to save it as a precedent (once per sample)."""
    from bot.slack.precedent_form import precedent_offer  # it imports dispute_blocks too

    if view.settlement is None:
        return 0
    text, blocks = precedent_offer(view, task_name=workspace.task_type(view.task_type).name)
    return enqueue_message(session, to=view.settlement.manager, text=text, blocks=blocks,
                           dedupe_key=f"precedent_offer:{view.sample_id}", now=now)


def owe_ruling_offer(session: Session, workspace: Workspace, *, sample_id: int,
                     now: datetime) -> int:
    """Offer whoever ruled on the sample last (``precedent_save.ruling_of``: a manager's
    settlement, or the decision on the trainer's dispute) to save it as a precedent, once
    per sample and kind of ruling."""
    from bot.services.precedent_save import ruled_view, ruling_of
    from bot.slack.precedent_form import precedent_offer

    ruling = ruling_of(session, sample_id)
    view = ruled_view(session, sample_id)
    if ruling is None or view is None:
        return 0
    text, blocks = precedent_offer(view, task_name=workspace.task_type(view.task_type).name)
    key = (f"precedent_offer:{sample_id}" if ruling.kind == "dispute"
           else f"precedent_offer:{sample_id}:{ruling.kind}")
    return enqueue_message(session, to=ruling.by, text=text, blocks=blocks, dedupe_key=key,
                           now=now)
