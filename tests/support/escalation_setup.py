"""Set-up for escalation tests: weeks of audited, graded samples for one trainer.

Grades are recorded through the grading service (the domain call a click makes); what the
tests then check (notices, clicks, climbs) goes through Slack.
"""

from datetime import timedelta

from sqlmodel import select

from bot.common.clock import iso_week
from bot.demo.local import LocalBot
from bot.sandbox.records import Message
from bot.services.audit import plan_weekly_audit
from bot.services.grading import record_grade
from bot.store.db import session_scope
from bot.store.models import AuditThread, Sample
from schedules.escalation_check import run_escalation_check
from tests.support.factories import DOCTOR, NURSE, TRAINER1, week_of_records

WHY = "Recommends ibuprofen although the patient has stated CKD stage 3."


def audited_weeks(bot: LocalBot, grades_per_week: list[list[str]], *,
                  trainer: str = TRAINER1, task_type: str = "clinical") -> None:
    """One audit week per entry, oldest first, ending with the clock's week; each sample
    graded as listed (``"pass" | "minor" | "major"``)."""
    clock = bot.ctx.clock
    end = clock.now()
    for back, grades in zip(range(len(grades_per_week) - 1, -1, -1), grades_per_week,
                            strict=True):
        moment = end - timedelta(weeks=back)
        records = week_of_records(moment, trainer=trainer, task_type=task_type,
                                  count=len(grades))
        for record in records:
            record["id"] = f"{record['id']}-{iso_week(moment)}"
        report = bot.ingest(records)
        assert report.ok, report.rejected
        with session_scope(bot.ctx.engine) as session:
            workspace = bot.ctx.workspace
            plan_weekly_audit(session, workspace, now=moment)
        with session_scope(bot.ctx.engine) as session:
            thread = session.exec(select(AuditThread).where(
                AuditThread.trainer == trainer, AuditThread.task_type == task_type)
                .order_by(AuditThread.id.desc())).first()  # type: ignore[union-attr]
            samples = session.exec(select(Sample).where(Sample.thread_id == thread.id)
                                   .order_by(Sample.position)).all()
            for sample, grade in zip(samples, grades, strict=False):
                reviewer = NURSE if sample.position % 2 == 0 else DOCTOR
                record_grade(session, workspace, sample_id=sample.id, reviewer=reviewer,
                             grade=grade, category=None if grade == "pass" else "Unsafe advice",
                             explanation=None if grade == "pass" else WHY, now=moment)
    bot.deliver()


BAD_WEEKS = [["major", "minor", "major", "pass", "major"], ["major"] * 5]


def check(bot: LocalBot) -> None:
    """The scheduled escalation check at the app's clock, and its messages delivered."""
    run_escalation_check(bot.ctx, now=bot.ctx.clock.now())
    bot.deliver()


def escalation_dms(bot: LocalBot, user: str) -> list[Message]:
    """The escalation notices ``user`` got as DMs, oldest first."""
    return [m for m in bot.sandbox.dms(user) if "Quality escalation" in m.text]


def shown_text(message: Message) -> str:
    """Everything a message's blocks show, as text."""
    parts = []
    for block in message.blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text")
            parts.append(text if isinstance(text, str) else (text or {}).get("text", ""))
    return "\n".join(parts)
