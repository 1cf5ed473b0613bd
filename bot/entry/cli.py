"""`auditbot`: the command line. The only place that reads .env and the environment."""

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dotenv import load_dotenv
from sqlalchemy.exc import OperationalError

from bot.common.logs import configure_logging
from bot.store.db import (
    SchemaOutOfDate,
    StoreBusy,
    is_busy,
    make_engine,
    require_current_schema,
    upgrade,
)
from bot.wiring.config import Settings, SettingsError, load_settings
from bot.workspace import Workspace, WorkspaceError, describe_workspace, load_workspace

if TYPE_CHECKING:  # imported where used, so a command loads only what it needs
    from bot.wiring.context import AppContext


class CliError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


class _JobSummary(Protocol):
    def describe(self) -> str: ...


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    cwd = Path.cwd()
    load_dotenv(cwd / ".env")
    configure_logging("text")
    try:
        settings = load_settings(os.environ, cwd=cwd)
        configure_logging(settings.log_format)
        return int(args.handler(args, settings) or 0)
    except (CliError, SettingsError, WorkspaceError, SchemaOutOfDate) as error:
        print(f"auditbot: {error}", file=sys.stderr)
        return 2
    except (OperationalError, StoreBusy) as error:
        if is_busy(error):  # it is there and answers: the configuration is fine
            print("auditbot: the database is busy (another process is writing to it) and "
                  f"did not answer in time; try again in a moment ({_orig(error)})",
                  file=sys.stderr)
        else:  # the store is down, or refuses us
            print(f"auditbot: cannot use the database at DATABASE_URL: {_orig(error)}",
                  file=sys.stderr)
        return 2


def _orig(error: Exception) -> object:
    return getattr(error, "orig", None) or error


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="auditbot", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="command")

    serve = sub.add_parser("serve", help="run the bot and its scheduler")
    serve.add_argument("--socket-mode", action="store_true", help="use Socket Mode, not HTTP")
    serve.add_argument("--no-scheduler", action="store_true", help="serve without scheduled jobs")
    serve.set_defaults(handler=_serve)

    ingest = sub.add_parser("ingest", help="store trainer outputs (JSON Lines or CSV)")
    ingest.add_argument("file", type=Path)
    ingest.set_defaults(handler=_ingest)

    jobs = sub.add_parser("jobs", help="run a scheduled job now")
    jobs_sub = jobs.add_subparsers(required=True, metavar="action")
    run = jobs_sub.add_parser("run", help="run a job once")
    run.add_argument("job", choices=["weekly-audit", "escalation-check", "reviewer-reminder",
                                     "weekly-digest"])
    run.set_defaults(handler=_jobs_run)

    outbox = sub.add_parser("outbox", help="Slack writes owed by the bot")
    outbox_sub = outbox.add_subparsers(required=True, metavar="action")
    retry = outbox_sub.add_parser(
        "retry", help="send failed writes again once their cause is fixed")
    retry.add_argument("--channel", help="only writes to this channel (or user id)")
    retry.set_defaults(handler=_outbox_retry)

    config = sub.add_parser("config", help="workspace configuration")
    config_sub = config.add_subparsers(required=True, metavar="action")
    check = config_sub.add_parser("check", help="validate auditbot.toml and print it")
    check.set_defaults(handler=_config_check)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(required=True, metavar="action")
    db_up = db_sub.add_parser("upgrade", help="create or upgrade the schema")
    db_up.set_defaults(handler=_db_upgrade)

    policy = sub.add_parser("policy", help="the escalation rule")
    policy_sub = policy.add_subparsers(required=True, metavar="action")
    simulate = policy_sub.add_parser(
        "simulate", help="how the configured rule behaves on trainers of known quality")
    simulate.add_argument("--config", type=Path, help="workspace config (default: AUDITBOT_CONFIG)")
    simulate.add_argument("--runs", type=int, default=500,
                          help="simulated trainers per row (the issue's reference: 2000)")
    simulate.add_argument("--seed", type=int, default=1)
    simulate.add_argument("--late-share", type=float, default=0.0,
                          help="share of grades given only in the week after (0..1)")
    simulate.add_argument("--json", action="store_true",
                          help="the table as a JSON list of rows instead of text")
    simulate.set_defaults(handler=_policy_simulate)

    export = sub.add_parser("export", help="the window's grades and explanations as CSV")
    export.add_argument("--weeks", type=int, default=4, help="ISO weeks, this one included")
    export.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    export.set_defaults(handler=_export)

    demo = sub.add_parser("demo", help="a full audit week in a local Slack sandbox")
    demo.add_argument("--keep", action="store_true", help="keep the demo's database")
    demo.add_argument("--socket-mode", action="store_true",
                      help="Slack reaches the bot over Socket Mode, not signed HTTP")
    demo.set_defaults(handler=_demo)
    return parser


def _workspace(settings: Settings) -> Workspace:
    return load_workspace(settings.config_path)


def _config_check(_args: argparse.Namespace, settings: Settings) -> int:
    workspace = _workspace(settings)
    print(f"{settings.config_path}: OK\n")
    print(describe_workspace(workspace))
    return 0


def _db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    upgrade(make_engine(settings.database_url))
    print("database schema is up to date")
    return 0


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from bot.common.clock import SystemClock
    from bot.services.ingest import (
        TRANSACTION_SECONDS,
        IngestReport,
        UnsupportedFormat,
        batches,
        check_records,
        label_scales_of,
        read_ahead,
        read_records,
        roster_from_workspace,
        store_checked,
    )
    from bot.store.db import end_bulk_writes, for_bulk_writes, let_others_write, session_scope

    if not args.file.exists():
        raise CliError(f"{args.file}: no such file")
    try:  # lazy: the file is opened while ingesting
        records = read_records(args.file, max_record_bytes=settings.ingest_max_record_bytes)
    except UnsupportedFormat as error:
        raise CliError(str(error)) from None
    from bot.wiring.context import use_grade_scale

    workspace = _workspace(settings)
    engine = for_bulk_writes(make_engine(settings.database_url))
    require_current_schema(engine)
    use_grade_scale(engine, workspace)  # gold grades are the workspace's
    trainers, task_types = roster_from_workspace(workspace)
    scales = label_scales_of(workspace)
    _bulk_gc()
    report = IngestReport()
    committed: float | None = None
    try:
        # One transaction per batch, read and checked before it begins (the next batch is
        # read while this one is written): SQLite has one writer at a time, and a whole file
        # in one transaction would keep every other writer (the bot's grades, jobs) waiting
        # past their timeouts, so they get a pause between transactions. Ingest is
        # idempotent, so a run stopped half-way is simply run again.
        checked_batches = (
            check_records(batch, known_trainers=trainers, known_task_types=task_types,
                          label_scales=scales) for batch in batches(records))
        for checked in read_ahead(checked_batches):
            while checked.read or checked.good:  # a slow machine: in several transactions
                if committed is not None:
                    let_others_write(engine, since=committed)
                with session_scope(engine) as session:
                    report.add(store_checked(session, checked, now=SystemClock().now(),
                                             until=time.monotonic() + TRANSACTION_SECONDS))
                committed = time.monotonic()
        end_bulk_writes(engine)
    except OSError as error:  # a directory, no permission
        kept = f" ({report.stored} records stored before it)" if report.stored else ""
        raise CliError(f"{args.file}: cannot read: {error.strerror or error}{kept}") from None
    for rejection in report.rejected:
        where = f"{args.file}:{rejection.number}"
        ident = f" ({rejection.id})" if rejection.id else ""
        print(f"{where}{ident}: {rejection.reason}", file=sys.stderr)
    print(report.summary_line())
    return 0 if report.ok else 1


def _bulk_gc() -> None:
    """For a bulk load: the cycle collector would otherwise run every 700 new objects (each
    record makes dozens), walking every object alive, for a third of the parsing time. What
    is loaded so far (modules, the workspace) is frozen out of its walks; records make no
    cycles (reference counting frees them), so it runs rarely."""
    import gc

    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _context(settings: Settings) -> "AppContext":
    from bot.common.clock import SystemClock
    from bot.wiring.context import AppContext

    settings.require("slack_bot_token")
    workspace = _workspace(settings)
    engine = make_engine(settings.database_url)
    require_current_schema(engine)
    return AppContext.build(settings, workspace, clock=SystemClock(), engine=engine)


def _jobs_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.follow.weekly_audit import run_weekly_audit
    from schedules.escalation_check import run_escalation_check
    from schedules.nudges import run_reviewer_reminders, run_weekly_digest
    from schedules.retry import when_busy

    ctx = _context(settings)
    jobs: dict[str, Callable[..., _JobSummary]] = {
        "weekly-audit": run_weekly_audit, "escalation-check": run_escalation_check,
        "reviewer-reminder": run_reviewer_reminders, "weekly-digest": run_weekly_digest}
    summary = when_busy(lambda: jobs[args.job](ctx, now=ctx.clock.now()))
    print(summary.describe())
    due = ctx.outbox.run_until_idle(timeout=600)
    print(f"delivered; {due.pending} still pending, {due.failed} failed")
    return 0 if due.failed == 0 else 1


def _outbox_retry(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.outbox import failed_deliveries, retry_failed
    from bot.slack.errors import fix_for
    from bot.store.db import session_scope

    engine = make_engine(settings.database_url)
    require_current_schema(engine)
    with session_scope(engine) as session:
        failures = [f for f in failed_deliveries(session)
                    if args.channel is None or f.channel == args.channel]
        count = retry_failed(session, channel=args.channel)
    for failure in failures:
        print(f"{failure.channel}: {failure.count} × {failure.error} ({fix_for(failure.error)})")
    print(f"{count} failed write(s) put back; the running bot delivers them "
          "(or `auditbot jobs run` delivers with its run)")
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.common.clock import SystemClock
    from bot.services.export import MAX_WEEKS, export_grades
    from bot.store.db import session_scope

    if not 1 <= args.weeks <= MAX_WEEKS:
        raise CliError(f"--weeks must be between 1 and {MAX_WEEKS}")
    workspace = _workspace(settings)
    engine = make_engine(settings.database_url)
    require_current_schema(engine)
    with session_scope(engine) as session:
        export = export_grades(session, workspace, weeks=args.weeks, now=SystemClock().now())
    try:
        args.out.write_text(export.csv, encoding="utf-8", newline="")
    except OSError as error:
        raise CliError(f"{args.out}: cannot write: {error.strerror or error}") from None
    print(f"{args.out}: {export.rows} grades, {export.weeks[0]} to {export.weeks[-1]}")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.entry.server import serve

    settings.require("slack_bot_token")
    if args.socket_mode:
        settings.require("slack_app_token")
    else:
        settings.require("slack_signing_secret")
    return serve(_context(settings), socket_mode=args.socket_mode,
                 scheduler=not args.no_scheduler)


def _policy_simulate(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from bot.services.policy_sim import run_policy_simulate, run_policy_simulate_rows

    if args.runs < 100:
        raise CliError("--runs must be at least 100 for the figures to mean anything")
    if not 0 <= args.late_share < 1:
        raise CliError("--late-share must be at least 0 and below 1")
    workspace = load_workspace(args.config) if args.config else _workspace(settings)
    if args.json:
        rows = [row.as_json() for _, _, task_rows in
                run_policy_simulate_rows(workspace, runs=args.runs, seed=args.seed,
                                         late_share=args.late_share)
                for row in task_rows]
        print(json.dumps(rows, indent=2))
    else:
        print(run_policy_simulate(workspace, runs=args.runs, seed=args.seed,
                                  late_share=args.late_share))
    return 0


def _demo(args: argparse.Namespace, _settings: Settings) -> int:
    from bot.demo.week import run_demo

    return run_demo(keep=args.keep, socket_mode=args.socket_mode)


if __name__ == "__main__":
    sys.exit(main())
