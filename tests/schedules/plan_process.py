"""What one OS process does in the concurrency tests: run the weekly audit against a shared file.

Kept apart from the test module so a spawned child imports only what a job process needs.
"""

from datetime import datetime
from pathlib import Path
from typing import Any


def plan_in_process(database_url: str, now_iso: str, how: str, barrier: Any, results: Any) -> None:
    """Build an AppContext on ``database_url``, wait for the others, then run the audit.

    ``how`` is ``"plan"`` (plan_weekly_audit and commit) or ``"scheduled"`` (the scheduler's
    job, with its claim on the week). Puts ``(trainer, task_type, outcome)`` rows on
    ``results``, or ``("error", repr)`` if anything went wrong.
    """
    try:
        from bot.common.clock import FixedClock
        from bot.services.audit import plan_weekly_audit
        from bot.wiring.config import load_settings
        from bot.wiring.context import AppContext
        from schedules.runner import scheduled_weekly_audit
        from tests.support.factories import make_workspace

        now = datetime.fromisoformat(now_iso)
        settings = load_settings({"DATABASE_URL": database_url,
                                  "SLACK_API_URL": "http://127.0.0.1:9/api/"}, cwd=Path.cwd())
        ctx = AppContext.build(settings, make_workspace(), clock=FixedClock(now))
        barrier.wait(timeout=30)
        if how == "plan":
            with ctx.session() as session:
                summary = plan_weekly_audit(session, ctx.workspace, now=now)
            results.put([(r.trainer, r.task_type, r.outcome) for r in summary.results])
        else:
            scheduled_weekly_audit(ctx)
            results.put([])
        ctx.engine.dispose()
    except BaseException as error:  # report to the parent rather than die silently
        results.put([("error", repr(error), "")])
