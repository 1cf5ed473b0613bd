"""`auditbot`: the command line. The only place that reads .env and the environment."""

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dotenv import load_dotenv

from bot.config import Settings, SettingsError, load_settings
from bot.db import SchemaOutOfDate, make_engine, require_current_schema, upgrade
from bot.workspace import Workspace, WorkspaceError, describe_workspace, load_workspace


class CliError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    cwd = Path.cwd()
    load_dotenv(cwd / ".env")
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic narrates every connection at INFO; `db upgrade` says what it did itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = load_settings(os.environ, cwd=cwd)
        return int(args.handler(args, settings) or 0)
    except (CliError, SettingsError, WorkspaceError, SchemaOutOfDate) as error:
        print(f"auditbot: {error}", file=sys.stderr)
        return 2


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
    run.add_argument("job", choices=["weekly-audit", "escalation-check"])
    run.set_defaults(handler=_jobs_run)

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
    simulate.add_argument("--runs", type=int, default=10_000, help="simulated trainers per quality")
    simulate.add_argument("--seed", type=int, default=1)
    simulate.set_defaults(handler=_policy_simulate)

    demo = sub.add_parser("demo", help="a full audit week in a local Slack sandbox")
    demo.add_argument("--keep", action="store_true", help="keep the demo's database")
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
    from bot.clock import SystemClock
    from bot.db import session_scope
    from bot.services.ingest import UnsupportedFormat, ingest, read_records, roster_from_workspace

    if not args.file.exists():
        raise CliError(f"{args.file}: no such file")
    try:
        records = read_records(args.file)  # lazy: the file is opened while ingesting
    except UnsupportedFormat as error:
        raise CliError(str(error)) from None
    workspace = _workspace(settings)
    engine = make_engine(settings.database_url)
    require_current_schema(engine)
    trainers, task_types = roster_from_workspace(workspace)
    try:
        with session_scope(engine) as session:
            report = ingest(session, records, known_trainers=trainers,
                            known_task_types=task_types, now=SystemClock().now())
    except OSError as error:  # a directory, no permission: nothing was stored
        raise CliError(f"{args.file}: cannot read: {error.strerror or error}") from None
    for rejection in report.rejected:
        where = f"{args.file}:{rejection.number}"
        ident = f" ({rejection.id})" if rejection.id else ""
        print(f"{where}{ident}: {rejection.reason}", file=sys.stderr)
    print(report.summary_line())
    return 0 if report.ok else 1


def _context(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.clock import SystemClock
    from bot.context import AppContext

    settings.require("slack_bot_token")
    workspace = _workspace(settings)
    engine = make_engine(settings.database_url)
    require_current_schema(engine)
    return AppContext.build(settings, workspace, clock=SystemClock(), engine=engine)


def _jobs_run(args: argparse.Namespace, settings: Settings) -> int:
    from schedules.escalation_check import run_escalation_check
    from schedules.weekly_audit import run_weekly_audit

    ctx = _context(settings)
    job = run_weekly_audit if args.job == "weekly-audit" else run_escalation_check
    summary = job(ctx, now=ctx.clock.now())
    print(summary.describe())
    due = ctx.outbox.run_until_idle(timeout=600)
    print(f"delivered; {due.pending} still pending, {due.failed} failed")
    return 0 if due.failed == 0 else 1


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.server import serve

    settings.require("slack_bot_token")
    if args.socket_mode:
        settings.require("slack_app_token")
    else:
        settings.require("slack_signing_secret")
    return serve(_context(settings), socket_mode=args.socket_mode,
                 scheduler=not args.no_scheduler)


def _policy_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.policy_sim import run_policy_simulate

    if args.runs < 100:
        raise CliError("--runs must be at least 100 for the figures to mean anything")
    workspace = load_workspace(args.config) if args.config else _workspace(settings)
    print(run_policy_simulate(workspace, runs=args.runs, seed=args.seed))
    return 0


def _demo(args: argparse.Namespace, _settings: Settings) -> int:
    from bot.demo import run_demo

    return run_demo(keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
