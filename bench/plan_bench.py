"""Row 3's plan alone: ``run_weekly_audit`` on a fresh copy of the cached store, as
``bench.rows.monday`` runs it, without the ten-minute delivery part; best of ``--repeats``,
each beside its floor measured in the same run (the store's reads the plan cannot avoid: the
window tallies of every task type and the week's eligible outputs), optionally profiled.

    .venv/bin/python bench/plan_bench.py          # full size: 5,000 trainers, 1M grades
    .venv/bin/python bench/plan_bench.py --trainers 200 --grades 40000 --profile
"""

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script, like bench/run.py
    sys.path.insert(0, str(REPO))

from bench import scale_data as data  # noqa: E402
from bench.rows import TOKEN  # noqa: E402
from bot.common.clock import FixedClock  # noqa: E402
from bot.follow.weekly_audit import run_weekly_audit  # noqa: E402
from bot.services.audit import LOOKBACK, eligible_by_pair  # noqa: E402
from bot.services.standings import all_standings, decision_span  # noqa: E402
from bot.services.tallies import window_tallies  # noqa: E402
from bot.store.db import make_engine, session_scope  # noqa: E402
from bot.wiring.config import load_settings  # noqa: E402
from bot.wiring.context import AppContext  # noqa: E402
from bot.workspace import Workspace, parse_workspace  # noqa: E402


def floor(url: str, workspace: Workspace, now: datetime) -> float:
    """The reads every plan needs, timed alone: each task type's window tallies and the
    week's eligible outputs (what the plan reads before deciding anything)."""
    engine = make_engine(url)
    start = time.perf_counter()
    with session_scope(engine) as session:
        for task_type in workspace.task_types:
            window_tallies(session, task_type=task_type.key,
                           weeks=decision_span(workspace, now - LOOKBACK, task_type.policy))
        eligible_by_pair(session, task_types=[t.key for t in workspace.task_types], now=now)
    spent = time.perf_counter() - start
    engine.dispose()
    return spent


def standings_once(url: str, workspace: Workspace, now: datetime) -> tuple[float, float]:
    """(every trainer's standing as the plan reads them, the tally reads alone): the part
    of the plan the batched rule serves, beside its floor, back to back on one store."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        start = time.perf_counter()
        for task_type in workspace.task_types:
            window_tallies(session, task_type=task_type.key,
                           weeks=decision_span(workspace, now - LOOKBACK, task_type.policy))
        reads = time.perf_counter() - start
        start = time.perf_counter()
        all_standings(session, workspace, now=now - LOOKBACK)
        spent = time.perf_counter() - start
    engine.dispose()
    return spent, reads


def plan_once(cached: Path, workspace: Workspace, now: datetime,
              profile: cProfile.Profile | None) -> tuple[float, float, float, int]:
    """(plan seconds, its CPU seconds, floor seconds, threads) on a fresh copy of ``cached``.
    The CPU time is this process's: on a shared machine it moves less than the wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        url = data.copy_sqlite(cached, Path(tmp) / "monday.db")
        floor_seconds = floor(url, workspace, now)
        engine = make_engine(url)
        settings = load_settings({"SLACK_BOT_TOKEN": TOKEN,
                                  "SLACK_API_URL": "http://127.0.0.1:9/",
                                  "DATABASE_URL": url}, cwd=Path(tmp))
        ctx = AppContext.build(settings, workspace, clock=FixedClock(now), engine=engine)
        if profile is not None:
            profile.enable()
        start, cpu = time.perf_counter(), time.process_time()
        summary = run_weekly_audit(ctx, now=now)
        spent, cpu = time.perf_counter() - start, time.process_time() - cpu
        if profile is not None:
            profile.disable()
        ctx.outbox.stop()
        engine.dispose()
        return spent, cpu, floor_seconds, len(summary.results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trainers", type=int, default=5000)
    parser.add_argument("--task-types", type=int, default=20)
    parser.add_argument("--grades", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the last run")
    args = parser.parse_args()
    scale = data.Scale(args.trainers, args.task_types, args.grades)
    anchor = data.anchor_now()
    cached = data.cached_sqlite(scale, anchor)
    workspace = parse_workspace(data.workspace_data(scale))
    now = anchor + timedelta(weeks=1)
    runs = []
    for run in range(args.repeats):
        profile = cProfile.Profile() if args.profile and run == args.repeats - 1 else None
        spent, cpu, floor_seconds, threads = plan_once(cached, workspace, now, profile)
        runs.append((spent, floor_seconds, cpu))
        print(f"run {run + 1}: plan {spent:.2f} s (CPU {cpu:.2f} s), floor {floor_seconds:.2f} s, "
              f"ratio {spent / floor_seconds:.1f}x ({threads} threads)", flush=True)
        if profile is not None:
            stats = pstats.Stats(profile, stream=sys.stdout)
            stats.sort_stats("cumulative").print_stats(35)
            stats.sort_stats("tottime").print_stats(25)
    with tempfile.TemporaryDirectory() as tmp:
        url = data.copy_sqlite(cached, Path(tmp) / "standings.db")
        parts = [standings_once(url, workspace, now) for _ in range(args.repeats)]
    spent, reads = min(p[0] for p in parts), min(p[1] for p in parts)
    print(f"all_standings, best of {len(parts)}: {spent:.2f} s, its tally reads alone "
          f"{reads:.2f} s, ratio {spent / reads:.1f}x")
    best, best_floor = min(r[0] for r in runs), min(r[1] for r in runs)
    print(f"best of {len(runs)}: plan {best:.2f} s (CPU {min(r[2] for r in runs):.2f} s), "
          f"floor {best_floor:.2f} s, "
          f"ratio {best / best_floor:.1f}x (goal: plan ≤ 10 s)")


if __name__ == "__main__":
    main()
