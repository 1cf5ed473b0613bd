"""Exactly once under concurrency on SQLite: audit runs and outbox workers racing each other.

Threads and processes are lined up on a barrier so they hit the store at the same moment;
nothing here sleeps to make a race happen.
"""

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.common.clock import FixedClock, SystemClock
from bot.demo.local import BOT_TOKEN
from bot.follow.weekly_audit import run_weekly_audit
from bot.sandbox.records import Message
from bot.slack.delivery import OutboxWorker, outbox_client
from bot.slack.pacing import Pace
from bot.store.db import make_engine
from bot.store.models import AuditThread, JobRun, OutboxItem, Sample
from bot.wiring.context import AppContext
from bot.workspace import Workspace, parse_workspace
from schedules.runner import WEEKLY_AUDIT, scheduled_weekly_audit
from tests.conftest import NOW
from tests.schedules.plan_process import plan_in_process
from tests.support.factories import (
    CLINICAL_CHANNEL,
    LEAD,
    LEGAL_CHANNEL,
    NURSE,
    TRAINER1,
    TRAINER2,
    TRAINER3,
    week_of_records,
    workspace_data,
)
from tests.support.harness import RunningBot, start_bot

RUNNERS = 4
PROCESSES = 3
# (trainer, task type) → outputs ingested this week; samples_per_trainer is 5.
OUTPUTS = {(TRAINER1, "clinical"): 8, (NURSE, "clinical"): 6, (TRAINER2, "legal"): 3}
EXPECTED_SAMPLES = {key: min(count, 5) for key, count in OUTPUTS.items()}
CHANNEL_OF = {"clinical": CLINICAL_CHANNEL, "legal": LEGAL_CHANNEL}


@pytest.fixture
def quiet_bot(engine: Engine, workspace: Workspace, clock: FixedClock) -> Iterator[RunningBot]:
    """The bot without its background outbox worker: the test decides who delivers."""
    bot = start_bot(engine=engine, workspace=workspace, clock=clock, worker=False)
    try:
        yield bot
    finally:
        bot.stop()


def ingest_week(bot: RunningBot, outputs: dict[tuple[str, str], int]) -> None:
    for (trainer, task_type), count in outputs.items():
        report = bot.ingest(week_of_records(NOW, trainer=trainer, task_type=task_type,
                                            count=count))
        assert report.ok, report.rejected


def run_at_once(jobs: list[Callable[[], Any]], timeout: float = 30.0) -> list[Any]:
    """Start every job in its own thread, released together by a barrier; their results."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[i] = jobs[i]()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a runner did not finish in time"
    assert errors == []
    return results


def contexts(bot: RunningBot, count: int, *, own_engine: bool) -> list[AppContext]:
    """AppContexts on the bot's database file, each with its own engine (and pool) if asked."""
    if not own_engine:
        return [bot.ctx] * count
    return [AppContext.build(bot.ctx.settings, bot.ctx.workspace, clock=bot.ctx.clock,
                             engine=make_engine(str(bot.ctx.engine.url)))
            for _ in range(count)]


def dispose(ctxs: list[AppContext], keep: AppContext) -> None:
    for ctx in ctxs:
        if ctx is not keep:
            ctx.engine.dispose()


def thread_rows(engine: Engine) -> Counter:
    with Session(engine) as session:
        rows = session.exec(select(AuditThread)).all()
        return Counter((t.trainer, t.task_type, t.iso_week) for t in rows)


def sample_counts(engine: Engine) -> dict[tuple[str, str], int]:
    with Session(engine) as session:
        counts: Counter = Counter()
        for sample in session.exec(select(Sample)).all():
            thread = session.get(AuditThread, sample.thread_id)
            assert thread is not None
            counts[(thread.trainer, thread.task_type)] += 1
        return dict(counts)


def assert_each_trainer_posted_once(bot: RunningBot) -> None:
    """In Slack: one parent per trainer and task type, with one reply per sample."""
    for (trainer, task_type), samples in EXPECTED_SAMPLES.items():
        channel = CHANNEL_OF[task_type]
        parents = [m for m in bot.parents(channel) if f"<@{trainer}>" in m.text]
        assert len(parents) == 1, (trainer, task_type, [m.text for m in parents])
        replies = [m for m in bot.thread_replies(channel) if m.thread_ts == parents[0].ts]
        assert len(replies) == samples, (trainer, task_type)
    posts = [c for c in bot.sandbox.calls("chat.postMessage") if c.ok]
    assert len(posts) == sum(1 + n for n in EXPECTED_SAMPLES.values())


def assert_one_outcome_posted_per_trainer(results: list[list[tuple[str, str, str]]]) -> None:
    outcomes: dict[tuple[str, str], list[str]] = {}
    for rows in results:
        for trainer, task_type, outcome in rows:
            outcomes.setdefault((trainer, task_type), []).append(outcome)
    for key in OUTPUTS:
        assert sorted(outcomes[key]) == ["already posted"] * (len(results) - 1) + ["posted"], key


# --- audit runs in threads --------------------------------------------------------------------


@pytest.mark.parametrize("own_engine", [True, False], ids=["own-engine", "shared-engine"])
def test_simultaneous_audit_runs_in_threads_post_each_trainer_once(quiet_bot: RunningBot,
                                                                   own_engine: bool):
    ingest_week(quiet_bot, OUTPUTS)
    ctxs = contexts(quiet_bot, RUNNERS, own_engine=own_engine)
    try:
        summaries = run_at_once([
            (lambda ctx=ctx: run_weekly_audit(ctx, now=NOW)) for ctx in ctxs
        ])
    finally:
        dispose(ctxs, keep=quiet_bot.ctx)
    assert_one_outcome_posted_per_trainer(
        [[(r.trainer, r.task_type, r.outcome) for r in s.results] for s in summaries])

    quiet_bot.deliver(timeout=15)
    assert_each_trainer_posted_once(quiet_bot)
    assert thread_rows(quiet_bot.ctx.engine) == Counter(
        {(trainer, task_type, "2026-W48"): 1 for trainer, task_type in OUTPUTS})
    assert sample_counts(quiet_bot.ctx.engine) == EXPECTED_SAMPLES


def test_simultaneous_scheduled_runs_claim_the_week_once(quiet_bot: RunningBot):
    ingest_week(quiet_bot, OUTPUTS)
    ctxs = contexts(quiet_bot, RUNNERS, own_engine=True)
    try:
        run_at_once([(lambda ctx=ctx: scheduled_weekly_audit(ctx)) for ctx in ctxs])
    finally:
        dispose(ctxs, keep=quiet_bot.ctx)
    with Session(quiet_bot.ctx.engine) as session:
        runs = session.exec(select(JobRun)).all()
    assert [(r.job, r.period) for r in runs] == [(WEEKLY_AUDIT, "2026-W48")]
    assert runs[0].finished_at is not None

    quiet_bot.deliver(timeout=15)
    assert_each_trainer_posted_once(quiet_bot)
    assert sample_counts(quiet_bot.ctx.engine) == EXPECTED_SAMPLES


# --- audit runs in separate OS processes ------------------------------------------------------


@pytest.mark.parametrize("how", ["plan", "scheduled"])
def test_simultaneous_audit_processes_on_one_sqlite_file_store_each_thread_once(
        quiet_bot: RunningBot, how: str):
    ingest_week(quiet_bot, OUTPUTS)
    engine = quiet_bot.ctx.engine
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(PROCESSES)
    queue = spawn.Queue()
    processes = [
        spawn.Process(target=plan_in_process,
                      args=(str(engine.url), NOW.isoformat(), how, barrier, queue), daemon=True)
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        results = [queue.get(timeout=60) for _ in processes]
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
    errors = [row for rows in results for row in rows if row[0] == "error"]
    assert errors == []
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    if how == "plan":
        assert_one_outcome_posted_per_trainer(results)
    else:
        with Session(engine) as session:
            periods = [r.period for r in session.exec(select(JobRun)).all()]
        assert periods == ["2026-W48"]

    assert thread_rows(engine) == Counter(
        {(trainer, task_type, "2026-W48"): 1 for trainer, task_type in OUTPUTS})
    assert sample_counts(engine) == EXPECTED_SAMPLES
    with Session(engine) as session:
        owed = Counter(item.kind for item in session.exec(select(OutboxItem)).all())
    assert owed == {"audit_parent": len(OUTPUTS), "sample_post": sum(EXPECTED_SAMPLES.values())}


# --- two outbox workers -----------------------------------------------------------------------


def _workspace_with_a_trainer_in_both_task_types() -> Workspace:
    data = workspace_data()
    data["trainers"].append({"user": TRAINER3, "task_types": ["clinical", "legal"],
                             "lead": LEAD})
    return parse_workspace(data)


def _sample_number(message: Message) -> str:
    return message.blocks[0]["text"]["text"].split("*")[1]


def test_two_outbox_workers_draining_together_deliver_every_item_exactly_once(
        engine: Engine, clock: FixedClock):
    workspace = _workspace_with_a_trainer_in_both_task_types()
    bot = start_bot(engine=engine, workspace=workspace, clock=clock, worker=False)
    workers: list[OutboxWorker] = []
    try:
        outputs = {(TRAINER1, "clinical"): 8, (NURSE, "clinical"): 6, (TRAINER2, "legal"): 7,
                   (TRAINER3, "clinical"): 5, (TRAINER3, "legal"): 9}
        ingest_week(bot, outputs)
        run_weekly_audit(bot.ctx, now=NOW)
        with Session(engine) as session:
            owed = {item.dedupe_key for item in session.exec(select(OutboxItem)).all()}
        assert len(owed) == 5 * 6
        # A little latency on each post keeps both workers busy at the same time.
        bot.sandbox.set_latency("chat.postMessage", 0.01)

        # Paced as the sandbox limits posts (as bot.demo.local's worker is): at Slack's own pace
        # the two workers would spend most of the test waiting for the channels' slots
        # (pacing shared by two workers: tests/slack/test_outbox_delivery.py).
        pace = Pace(per_second=bot.sandbox.post_rate_per_sec, burst=bot.sandbox.post_burst)
        workers = [OutboxWorker(engine=engine, client=outbox_client(BOT_TOKEN, bot.sandbox.url),
                                workspace=workspace, clock=SystemClock(), backoff_factor=0.05,
                                pace=pace)
                   for _ in range(2)]
        dues = run_at_once([(lambda w=w: w.run_until_idle(timeout=20)) for w in workers])
        assert [due.pending for due in dues] == [0, 0]

        calls = bot.sandbox.calls("chat.postMessage")
        assert [c for c in calls if not c.ok] == []
        assert len(calls) == len(owed)
        messages = bot.sandbox.messages(CLINICAL_CHANNEL) + bot.sandbox.messages(LEGAL_CHANNEL)
        keys = [(m.metadata or {}).get("event_payload", {}).get("key") for m in messages]
        assert sorted(keys) == sorted(owed)  # every item, no duplicates
        texts = Counter((m.channel, m.thread_ts, m.text) for m in messages)
        assert max(texts.values()) == 1

        with Session(engine) as session:
            items = session.exec(select(OutboxItem)).all()
        assert {item.status for item in items} == {"sent"}
        assert len({item.result_ts for item in items}) == len(items)
        # Order per thread survives two workers: samples 1..n under their own parent.
        for channel in (CLINICAL_CHANNEL, LEGAL_CHANNEL):
            for parent in bot.parents(channel):
                replies = [m for m in bot.thread_replies(channel) if m.thread_ts == parent.ts]
                assert [_sample_number(r) for r in replies] == [
                    f"Sample {i} of {len(replies)}" for i in range(1, len(replies) + 1)]
    finally:
        for worker in workers:
            worker.stop()
        bot.stop()
