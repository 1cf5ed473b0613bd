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
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.context import AppContext
from bot.services.audit import audit_week
from bot.services.jobs import claim_run, finish_run
from schedules.weekly_audit import run_weekly_audit

log = logging.getLogger(__name__)
WEEKLY_AUDIT = "weekly-audit"


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
    scheduler.start()
    catch_up_weekly_audit(ctx)
    return scheduler


def scheduled_weekly_audit(ctx: AppContext) -> None:
    now = ctx.clock.now()
    week = audit_week(ctx.workspace, now)
    with ctx.session() as session:
        if not claim_run(session, job=WEEKLY_AUDIT, period=week, now=now):
            log.info("weekly audit %s already ran", week)
            return
    summary = run_weekly_audit(ctx, now=now)
    with ctx.session() as session:
        finish_run(session, job=WEEKLY_AUDIT, period=week, now=ctx.clock.now(),
                   summary=summary.describe())
    log.info("%s", summary.describe())


def catch_up_weekly_audit(ctx: AppContext) -> bool:
    """Run this week's audit now if its time has passed and it has not run (bot was down).

    Only within the same ISO week: a run missed last week is not worth posting now.
    """
    now = ctx.clock.now()
    due = ctx.workspace.schedule.weekly_audit.latest_at_or_before(now, ctx.workspace.tz)
    if audit_week(ctx.workspace, due) != audit_week(ctx.workspace, now):
        return False
    scheduled_weekly_audit(ctx)
    return True
