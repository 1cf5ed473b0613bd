"""The nudges: reviewer reminders and the managers' weekly digest, as jobs.

    run_reviewer_reminders(ctx, now=now)     # [schedule] reviewer_reminder
    run_weekly_digest(ctx, now=now)          # [schedule] weekly_digest

Plain functions called the same way by the scheduler, `auditbot jobs run` and the tests.
Each DM is owed to the outbox under a dedupe key (one reminder per person and day, one
digest per manager and ISO week), so running a job again, or on two replicas, sends
nothing twice; a reviewer with nothing waiting, or away, gets nothing.
"""

from dataclasses import dataclass
from datetime import datetime

from bot.services.nudges import (
    digest_for,
    digest_key,
    digest_recipients,
    reminders_due,
    weekly_digest,
)
from bot.services.outbox import enqueue_message
from bot.slack.links import permalinks_for
from bot.slack.nudge_blocks import digest_message, reminder_message
from bot.wiring.context import AppContext


@dataclass(frozen=True)
class NudgeSummary:
    job: str
    sent: tuple[str, ...]

    def describe(self) -> str:
        who = ", ".join(self.sent) or "nobody"
        return f"{self.job}: {len(self.sent)} DM(s) owed ({who})"


def run_reviewer_reminders(ctx: AppContext, *, now: datetime) -> NudgeSummary:
    with ctx.session() as session:
        due = reminders_due(session, ctx.workspace, now=now)
    names = {t.key: t.name for t in ctx.workspace.task_types}
    links = permalinks_for(ctx.client)
    sent = []
    for reminder in due:
        found = links.resolve((s.channel, s.message_ts) for s in reminder.waiting.samples)
        text, blocks = reminder_message(reminder, task_names=names, links=found, now=now)
        with ctx.session() as session:
            if enqueue_message(session, to=reminder.reviewer, text=text, blocks=blocks,
                               dedupe_key=reminder.dedupe_key, now=now):
                sent.append(reminder.reviewer)
    ctx.outbox.wake()
    return NudgeSummary("Reviewer reminders", tuple(sent))


def run_weekly_digest(ctx: AppContext, *, now: datetime) -> NudgeSummary:
    with ctx.session() as session:
        managers = digest_recipients(session, ctx.workspace, now=now)
        digest = weekly_digest(session, ctx.workspace, now=now) if managers else None
    sent = []
    if digest is not None:
        for manager in managers:
            text, blocks = digest_message(digest_for(digest, ctx.workspace, viewer=manager),
                                          now=now)
            with ctx.session() as session:
                if enqueue_message(session, to=manager, text=text, blocks=blocks, now=now,
                                   dedupe_key=digest_key(manager=manager, week=digest.sent_in)):
                    sent.append(manager)
    ctx.outbox.wake()
    return NudgeSummary("Weekly digest", tuple(sent))
