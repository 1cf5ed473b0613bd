"""From stored state to the messages that show it: the outbox renders at delivery time."""

import json

from sqlmodel import Session

from bot.models import AuditThread
from bot.services.grading import load_sample, sample_grades
from bot.slack.blocks import GradeLine, SampleCard, audit_parent, sample_reply
from bot.workspace import Workspace


def parent_message(workspace: Workspace, thread: AuditThread) -> tuple[str, list[dict]]:
    task_type = workspace.task_type(thread.task_type)
    return audit_parent(trainer=thread.trainer, task_name=task_type.name,
                        iso_week=thread.iso_week, sample_count=thread.sample_count,
                        reviewers=task_type.reviewers)


def sample_message(session: Session, workspace: Workspace,
                   sample_id: int) -> tuple[str, list[dict]]:
    record = load_sample(session, sample_id)
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
        grades=[
            GradeLine(g.reviewer, g.grade, g.category, g.explanation)
            for g in sample_grades(session, sample_id)
        ],
    )
    return sample_reply(card)
