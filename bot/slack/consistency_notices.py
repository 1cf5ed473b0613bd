"""Owe the consistency messages (DMs through the outbox) in the caller's transaction.

    with ctx.session() as session:
        view = settle(session, workspace, ...)                 # the state ...
        owe_settlement_dms(session, workspace, view, now=now)  # ... and its messages, together
    ctx.outbox.wake()

Each DM carries a dedupe key saying what makes it the same message, so a retry, a second
replica or the next grade owes it once: a dispute is announced once per manager, a
settlement once per reviewer, an alert once per ISO week per manager.

After a grade the messages are worked out in a read-only session and owed in a short write
of their own, only when one is new (``messages_after_grade``, then ``owe``): the reads never
hold SQLite's write lock, which the next grade is waiting for.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.services.consistency import ConsistencyAlert, alerts_after_grade, consistency_alerts
from bot.services.disputes import DisputeView, list_disputes, sample_dispute
from bot.services.outbox import enqueue_message, owed_already
from bot.slack.consistency_blocks import agreement_alert, calibration_alert
from bot.slack.dispute_blocks import dispute_opened, settlement_dm
from bot.store.models.trainer import Disagreement
from bot.workspace import Workspace


@dataclass(frozen=True)
class Message:
    """A DM to owe: to whom, what, and the key that makes it the same message."""

    to: str
    text: str
    blocks: list[dict]
    dedupe_key: str


def owe(session: Session, messages: Sequence[Message], *, now: datetime) -> int:
    """Owe ``messages`` (each once, by its dedupe key); how many were new."""
    return sum(enqueue_message(session, to=m.to, text=m.text, blocks=m.blocks,
                               dedupe_key=m.dedupe_key, now=now) for m in messages)


def dispute_notices(session: Session, workspace: Workspace, *,
                    sample_id: int) -> list[Message]:
    """The managers' DMs about the sample's dispute if it is open (reads only)."""
    view = sample_dispute(session, sample_id)
    if view is None or view.settlement is not None:
        return []
    text, blocks = dispute_opened(view, task_name=workspace.task_type(view.task_type).name)
    return [Message(manager, text, blocks, f"dispute_open:{sample_id}:{manager}")
            for manager in workspace.managers if manager != view.trainer]


def owe_dispute_notice(session: Session, workspace: Workspace, *, sample_id: int,
                       now: datetime) -> int:
    """Tell the managers about the sample's dispute if it is open (once each)."""
    return owe(session, dispute_notices(session, workspace, sample_id=sample_id), now=now)


def messages_after_grade(session: Session, workspace: Workspace, *, sample_id: int,
                         task_type: str, now: datetime) -> list[Message]:
    """What a grade of the sample may newly owe the managers, not owed before (reads
    only): its dispute's notice, and the alerts of its task type the grade can have changed
    (``bot.services.consistency.alerts_after_grade``)."""
    messages = dispute_notices(session, workspace, sample_id=sample_id) + _alert_messages(
        workspace, alerts_after_grade(session, workspace, now=now, task_type=task_type,
                                      sample_id=sample_id))
    owed = owed_already(session, [m.dedupe_key for m in messages])
    return [m for m in messages if m.dedupe_key not in owed]


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
    After a grade, the listeners owe only what that grade can have changed
    (``messages_after_grade``); the scheduled check runs this for every task type."""
    alerts = consistency_alerts(session, workspace, now=now, task_type=task_type)
    return owe(session, _alert_messages(workspace, alerts), now=now)


def _alert_messages(workspace: Workspace, alerts: Sequence[ConsistencyAlert]) -> list[Message]:
    messages = []
    for alert in alerts:
        if alert.agreement is not None:
            text, blocks = agreement_alert(alert.agreement)
        else:
            assert alert.calibration is not None
            name = workspace.task_type(alert.calibration.task_type).name
            text, blocks = calibration_alert(alert.calibration, task_name=name)
        messages += [Message(manager, text, blocks, f"{alert.key}:{manager}")
                     for manager in workspace.managers]
    return messages


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


def owe_disagreement_precedent_offer(session: Session, workspace: Workspace,
                                     row: Disagreement, *, now: datetime) -> int:
    """Offer whoever adjudicated the disagreement between trainers to save the ruling as a
    precedent (once per disagreement)."""
    from bot.services.precedent_save import adjudicated_view
    from bot.slack.precedent_form import disagreement_offer

    view = adjudicated_view(row)
    if view is None:
        return 0
    text, blocks = disagreement_offer(view, task_name=workspace.task_type(view.task_type).name)
    return enqueue_message(session, to=view.ruled_by, text=text, blocks=blocks,
                           dedupe_key=f"precedent_offer:disagreement:{view.disagreement_id}",
                           now=now)
