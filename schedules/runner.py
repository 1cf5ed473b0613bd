"""The in-process scheduler: registers the jobs, with explicit ids, on APScheduler 3.

Usage (``auditbot serve`` does this)::

    scheduler = start_scheduler(ctx)
    ...
    scheduler.shutdown()

APScheduler does not coordinate processes, so each due time is claimed in the database
(``job_run``) before it runs: a restart, a missed run caught up, or a second replica all
find the claim and do nothing.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.services.audit import audit_week, plan_weekly_audit
from bot.services.jobs import claim_run, finish_run
from bot.wiring.context import AppContext
from schedules.escalation_check import run_escalation_check
from schedules.home_refresh import refresh_homes
from schedules.nudges import NudgeSummary, run_reviewer_reminders, run_weekly_digest
from schedules.retry import when_busy

log = logging.getLogger(__name__)
WEEKLY_AUDIT = "weekly-audit"
ESCALATION_CHECK = "escalation-check"
REVIEWER_REMINDER = "reviewer-reminder"
WEEKLY_DIGEST = "weekly-digest"
HOME_REFRESH = "home-refresh"
HOME_REFRESH_SECONDS = 10  # changes are coalesced: each viewer's Home is published once per pass


def start_scheduler(ctx: AppContext) -> BackgroundScheduler:
    workspace = ctx.workspace
    at = workspace.schedule.weekly_audit
    scheduler = BackgroundScheduler(timezone=workspace.tz)
    scheduler.add_job(
        scheduled_weekly_audit, CronTrigger(**at.cron_fields(), timezone=workspace.tz),
        args=[ctx], id=WEEKLY_AUDIT, replace_existing=True, coalesce=True,
        # A run missed while the bot was down still happens within the same ISO week.
        misfire_grace_time=int(timedelta(days=7).total_seconds()),
    )
    scheduler.add_job(
        scheduled_escalation_check, "interval",
        seconds=int(workspace.schedule.escalation_check.total_seconds()),
        args=[ctx], id=ESCALATION_CHECK, replace_existing=True, coalesce=True,
        max_instances=1,
    )
    # Nudges: each DM has a dedupe key in the outbox, so a late or repeated run (a restart
    # within the grace time, a second replica) sends nothing twice.
    nudges = ((REVIEWER_REMINDER, run_reviewer_reminders, workspace.schedule.reviewer_reminder),
              (WEEKLY_DIGEST, run_weekly_digest, workspace.schedule.weekly_digest))
    for job_id, job, weekly in nudges:
        scheduler.add_job(
            scheduled_nudge, CronTrigger(**weekly.cron_fields(), timezone=workspace.tz),
            args=[ctx, job], id=job_id, replace_existing=True, coalesce=True,
            misfire_grace_time=int(timedelta(hours=12).total_seconds()), max_instances=1)
    scheduler.add_job(scheduled_home_refresh, "interval", seconds=HOME_REFRESH_SECONDS,
                      args=[ctx], id=HOME_REFRESH, replace_existing=True, coalesce=True,
                      max_instances=1)
    scheduler.start()
    catch_up_weekly_audit(ctx)
    return scheduler


def scheduled_nudge(ctx: AppContext, job: Callable[..., NudgeSummary]) -> None:
    log.info("%s", when_busy(lambda: job(ctx, now=ctx.clock.now())).describe())


def scheduled_home_refresh(ctx: AppContext) -> None:
    summary = when_busy(lambda: refresh_homes(ctx, now=ctx.clock.now()))
    if summary.published or summary.failed:
        log.debug("%s", summary.describe())


def scheduled_escalation_check(ctx: AppContext) -> None:
    # No claim row needed: the check is idempotent (unique notices, conditional level
    # changes), so replicas running it at the same moment notify each level once.
    summary = when_busy(lambda: run_escalation_check(ctx, now=ctx.clock.now()))
    if summary.climbed or any(o.opened or o.closed for o in summary.outcomes):
        log.info("%s", summary.describe())


def scheduled_weekly_audit(ctx: AppContext) -> None:
    when_busy(lambda: _weekly_audit(ctx))


def _weekly_audit(ctx: AppContext) -> None:
    now = ctx.clock.now()
    week = audit_week(ctx.workspace, now)
    if not _due_this_week(ctx, now):
        # APScheduler fired late (misfire grace) after the due time's ISO week ended, e.g.
        # the machine slept over Sunday night: that week is over, and claiming this one now
        # would post it early and swallow its real run.
        log.warning("weekly audit fired after its ISO week ended (now %s); skipped", week)
        return
    # The claim commits together with the plan it stands for: a run that dies half-way
    # (crash, restart, database error) leaves no claim behind, so the catch-up on restart
    # runs the week again instead of finding it "already ran". A concurrent claimant waits
    # on the claim (SQLite: BEGIN IMMEDIATE; PostgreSQL: the unique index) and then finds it.
    with ctx.session() as session:
        if not claim_run(session, job=WEEKLY_AUDIT, period=week, now=now):
            log.info("weekly audit %s already ran", week)
            return
        summary = plan_weekly_audit(session, ctx.workspace, now=now)
        finish_run(session, job=WEEKLY_AUDIT, period=week, now=ctx.clock.now(),
                   summary=summary.describe())
    ctx.outbox.wake()
    log.info("%s", summary.describe())


def catch_up_weekly_audit(ctx: AppContext) -> bool:
    """Run this week's audit now if its time has passed and it has not run (bot was down).

    Only within the same ISO week: a run missed last week is not worth posting now.
    """
    if not _due_this_week(ctx, ctx.clock.now()):
        return False
    scheduled_weekly_audit(ctx)
    return True


def _due_this_week(ctx: AppContext, now: datetime) -> bool:
    """Whether the latest scheduled time at or before ``now`` lies in ``now``'s ISO week."""
    due = ctx.workspace.schedule.weekly_audit.latest_at_or_before(now, ctx.workspace.tz)
    return audit_week(ctx.workspace, due) == audit_week(ctx.workspace, now)
