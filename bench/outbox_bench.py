"""How long a Monday audit of a large team takes to reach Slack, with Slack's pacing.

    make outbox-bench                           # 200 trainers × 5 samples, 10 channels
    .venv/bin/python bench/outbox_bench.py --trainers 50 --scale 10 --threads 1

Runs the real pieces in one process: ingest, the weekly audit's plan, and the outbox worker
delivering to the local Slack sandbox, which answers 429 past ``scale`` posts a second per
channel (burst 3) and takes ``latency`` to answer a post. Slack allows about one a second,
so time is scaled: the sandbox's limit, its latency and the outbox's pacer all run ``scale``
times faster, and the real-Slack estimate is the measured delivery time × ``scale``.
Not a test: it prints numbers and checks only that every post arrived once.
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.common.clock import FixedClock
from bot.follow.weekly_audit import run_weekly_audit
from bot.sandbox import SlackSandbox
from bot.services.ingest import ingest, records_from_json_array, roster_from_workspace
from bot.slack.delivery import OutboxWorker, outbox_client
from bot.slack.pacing import SLACK_PACE, Pace
from bot.store.db import make_engine, session_scope, upgrade
from bot.wiring.config import load_settings
from bot.wiring.context import AppContext
from bot.workspace import Workspace, parse_workspace

TOKEN = "xoxb-bench"
BURST = 3
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York


def bench_workspace(trainers: int, channels: int, samples: int) -> Workspace:
    reviewers = [f"U0REV{n:05d}" for n in range(channels)]
    return parse_workspace({
        "workspace": {"timezone": "America/New_York", "managers": ["U0MANAGER1"]},
        "policy": {"samples_per_trainer": samples, "double_review_fraction": 0.2},
        "task_types": [{"key": f"task{n}", "name": f"Task {n}", "channel": f"C0BENCH{n:03d}",
                        "reviewers": [reviewers[n]], "error_categories": ["Other"]}
                       for n in range(channels)],
        "trainers": [{"user": f"U0TR{n:06d}", "task_types": [f"task{n % channels}"]}
                     for n in range(trainers)],
    })


def records(workspace: Workspace, per_trainer: int) -> list[dict[str, Any]]:
    out = []
    for trainer in workspace.trainers:
        for i in range(per_trainer):
            out.append({
                "id": f"out-{trainer.user}-{i}", "trainer": trainer.user,
                "task_type": trainer.task_types[0],
                "prompt": f"Prompt {i} for {trainer.user}: summarise the attached note.",
                "output": f"Output {i}: " + "a plausible answer. " * 40,
                "created_at": (NOW - timedelta(hours=6 + 20 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            })
    return out


def run(args: argparse.Namespace) -> int:
    workspace = bench_workspace(args.trainers, args.channels, args.samples)
    channels = {tt.channel: tt.key for tt in workspace.task_types}
    sandbox = SlackSandbox(bot_token=TOKEN, channels=channels,
                           post_rate_per_sec=args.scale, post_burst=BURST).start()
    # Slack takes a while to answer a post; scaled like everything else.
    sandbox.set_latency("chat.postMessage", args.latency / args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        settings = load_settings({"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": sandbox.url,
                                  "DATABASE_URL": url}, cwd=Path(tmp))
        ctx = AppContext.build(settings, workspace, clock=FixedClock(NOW), engine=engine)
        ctx.outbox = OutboxWorker(engine=engine, client=outbox_client(TOKEN, sandbox.url),
                                  workspace=workspace, clock=ctx.clock, threads=args.threads,
                                  pace=Pace(per_second=args.scale, burst=SLACK_PACE.burst))

        started = time.perf_counter()
        known_trainers, known_task_types = roster_from_workspace(workspace)
        with session_scope(engine) as session:
            report = ingest(session, records_from_json_array(records(workspace, args.samples)),
                            known_trainers=known_trainers, known_task_types=known_task_types,
                            now=NOW)
        ingested = time.perf_counter()
        summary = run_weekly_audit(ctx, now=NOW)
        planned = time.perf_counter()
        due = ctx.outbox.run_until_idle(timeout=600)
        delivered = time.perf_counter()
        ctx.outbox.stop()
        engine.dispose()

    calls = sandbox.calls("chat.postMessage")
    sandbox.stop()
    ok = [c for c in calls if c.status == 200 and c.response.get("ok")]
    posts_expected = sum(1 + r.samples for r in summary.posted)
    keys = Counter(c.params.get("metadata", {}).get("event_payload", {}).get("key")
                   for c in ok)
    per_channel: dict[str, list[float]] = defaultdict(list)
    for call in ok:
        per_channel[call.params["channel"]].append(call.time)
    spans = [max(ts) - min(ts) for ts in per_channel.values()]
    rates = [(len(ts) - 1) / (max(ts) - min(ts)) for ts in per_channel.values()
             if max(ts) > min(ts)]
    seconds = delivered - planned

    print(f"Monday audit: {args.trainers} trainers × {args.samples} samples over "
          f"{args.channels} channels ({report.summary_line()})")
    print(f"  store {url.split(':')[0]}, outbox threads {args.threads}, "
          f"sandbox and pacer at {args.scale:g} posts/s per channel (bursts {BURST} and "
          f"{SLACK_PACE.burst}), "
          f"{args.latency * 1000 / args.scale:.0f} ms a post")
    print(f"  ingest          {ingested - started:7.2f} s")
    print(f"  plan            {planned - ingested:7.2f} s   "
          f"({len(summary.results)} threads, {posts_expected} posts owed)")
    print(f"  deliver         {seconds:7.2f} s   ({len(ok)} posts, "
          f"{len(ok) / seconds:.1f} posts/s overall)")
    print(f"  per channel     {statistics.mean(rates):7.2f} posts/s mean "
          f"(span {min(spans):.1f}–{max(spans):.1f} s)")
    print(f"  429 answers     {sum(1 for c in calls if c.status == 429):7d}")
    print(f"  at Slack's pace ≈ {seconds * args.scale / 60:.1f} min to deliver "
          f"(measured × {args.scale:g})")
    doubled = [key for key, n in keys.items() if n > 1]
    if len(ok) != posts_expected or doubled or due.pending or due.failed:
        print(f"  PROBLEM: {len(ok)} of {posts_expected} posts, {len(doubled)} doubled, "
              f"{due.pending} pending, {due.failed} failed", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trainers", type=int, default=200)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--scale", type=float, default=5.0,
                        help="posts per second per channel (Slack: 1; scaled for speed)")
    parser.add_argument("--threads", type=int, default=8, help="outbox delivery threads")
    parser.add_argument("--latency", type=float, default=0.15,
                        help="seconds Slack takes to answer a post (before scaling)")
    parser.add_argument("--database-url", help="an empty, upgraded-or-new database "
                        "(default: a temporary SQLite file)")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
