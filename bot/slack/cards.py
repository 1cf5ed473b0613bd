"""From stored state to the messages that show it: the outbox renders at delivery time."""

import json
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot.services.blind import quotable
from bot.services.clarity import sample_clarity
from bot.services.disagreements import labels_of
from bot.services.disputes import sample_dispute
from bot.services.escalation import notices, tested_weeks
from bot.services.escalation_view import NO_TIMELINE, timelines
from bot.services.grading import SampleRecord, load_sample, sample_grades
from bot.services.standings import trainer_standing, worst
from bot.slack.blocks import ClarityLine, GradeLine, SampleCard, audit_parent, sample_reply
from bot.slack.disagreement_blocks import LabelLine, Ruling, disagreement_blocks
from bot.slack.dispute_blocks import dispute_status_line
from bot.slack.escalation_blocks import EscalationCard, TestedWindow, WorstLine
from bot.store.models import AuditThread, Escalation
from bot.store.models.trainer import Disagreement
from bot.workspace import Workspace

CARD_TIMELINE = 12  # the newest changes an escalation message shows


def parent_message(workspace: Workspace, thread: AuditThread) -> tuple[str, list[dict]]:
    task_type = workspace.task_type(thread.task_type)
    return audit_parent(trainer=thread.trainer, task_name=task_type.name,
                        iso_week=thread.iso_week, sample_count=thread.sample_count,
                        reviewers=task_type.reviewers, scale=workspace.scale)


def sample_message(session: Session, workspace: Workspace,
                   sample_id: int) -> tuple[str, list[dict]]:
    return record_message(session, workspace, load_sample(session, sample_id))


def record_message(session: Session, workspace: Workspace,
                   record: SampleRecord) -> tuple[str, list[dict]]:
    """``sample_message`` of a sample already loaded (the outbox reads it to address the
    message as well)."""
    sample_id = record.sample.id or 0
    grades = sample_grades(session, sample_id)
    output = record.output
    metadata = json.loads(output.metadata_json) if output.metadata_json else {}
    project = metadata.get("project") if isinstance(metadata, dict) else None
    card = SampleCard(
        sample_id=sample_id,
        position=record.sample.position,
        count=record.thread.sample_count,
        output_id=output.id,
        trainer=record.thread.trainer,
        task_name=workspace.task_type(record.thread.task_type).name,
        prompt=output.prompt,
        output=output.output,
        created_at=output.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        project=str(project) if project is not None else None,
        needs_double_review=record.sample.needs_double_review,
        grades=[GradeLine(g.reviewer, g.grade, g.category, g.explanation) for g in grades],
        dispute=dispute_status_line(sample_dispute(session, sample_id,
                                                   reviewers=len(grades))),
        label=output.label,
        reasoning=output.reasoning,
        clarity=[ClarityLine(c.reviewer, c.rating, c.reason)
                 for c in sample_clarity(session, sample_id)] if output.reasoning else [],
        scale=workspace.scale,
    )
    return sample_reply(card)


def disagreement_message(workspace: Workspace,
                         row: Disagreement) -> tuple[str, list[dict]]:
    try:
        task_name = workspace.task_type(row.task_type).name
    except KeyError:
        task_name = row.task_type
    given = [LabelLine(g.trainer, g.label, g.reasoning) for g in labels_of(row)]
    ruling = None
    if row.ruled_at is not None and row.ruled_by and row.ruling_label is not None:
        ruling = Ruling(row.ruled_by, row.ruling_label, row.ruling_reason or "")
    return disagreement_blocks(disagreement_id=row.id or 0, task_name=task_name,
                               item=row.item, iso_week=row.iso_week, labels=given,
                               share=row.disagreement, ruling=ruling)


def escalation_card(session: Session, workspace: Workspace, escalation: Escalation, *,
                    now: datetime, permalink: Callable[[str, str], str | None]) -> EscalationCard:
    """Everything an escalation message shows, from the store as it is now."""
    task_type = workspace.task_type(escalation.task_type)
    current, records = trainer_standing(session, workspace, trainer=escalation.trainer,
                                        task_type=escalation.task_type, now=now)
    worst_lines = [
        WorstLine(
            label=f"Sample {r.position + 1} of {r.count} · {r.week} · {r.output_id}",
            link=permalink(r.channel, r.message_ts) if r.message_ts else None,
            grades=[(g.reviewer, g.grade, g.category, g.explanation) for g in r.grades],
        )
        for r in worst(quotable(session, records))  # a lone first grade stays blind
    ]
    told = notices(session, escalation.id or 0)
    return EscalationCard(
        escalation_id=escalation.id or 0,
        trainer=escalation.trainer,
        task_name=task_type.name,
        status=escalation.status,
        score=current.score,
        lower=current.lower,
        upper=current.upper,
        threshold=escalation.threshold,
        confidence=task_type.policy.escalation_confidence,
        graded=current.graded,
        weekly=[(w.week, w.score, w.graded) for w in current.weekly],
        # A recovered escalation's note says why it closed; a row without one (the column is
        # nullable) shows why it opened rather than breaking the message.
        reason=(escalation.close_note or escalation.reason) if escalation.status == "recovered"
        else escalation.reason,
        worst=worst_lines,
        level=escalation.level,
        levels=len(workspace.escalation.levels),
        notified=[(n.level, n.target, n.notified_at) for n in told
                  if n.round == 0 and n.cycle == 0],
        acknowledged_by=escalation.acknowledged_by,
        acknowledged_at=escalation.acknowledged_at,
        closed_by=escalation.closed_by,
        closed_at=escalation.closed_at,
        close_note=escalation.close_note,
        snoozed_until=escalation.snoozed_until,
        snoozed_by=escalation.snoozed_by,
        snooze_reason=escalation.snooze_reason,
        waits_until=escalation.notify_at,
        repeats=escalation.repeats,
        repeat=workspace.escalation.repeat,
        stopped_at=escalation.stopped_at,
        timeline=timelines(session, [escalation.id or 0], last=CARD_TIMELINE).get(
            escalation.id or 0, NO_TIMELINE),
        tested=TestedWindow(escalation.tested_lower, escalation.tested_upper,
                            tested_weeks(escalation)) if escalation.tested_through else None,
    )
