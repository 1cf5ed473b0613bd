"""The rows of `bench/run.py`: each measures the bot through its public entry points and its
floor in the same run, and returns table rows."""

import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from bench import scale_data as data
from bench.outbox_bench import NOW as OUTBOX_NOW
from bench.outbox_bench import bench_workspace
from bench.outbox_bench import records as outbox_records
from bench.start_bench import free_port, healthy
from bot.common.clock import FixedClock
from bot.common.grades import DEFAULT_SCALE
from bot.follow.weekly_audit import run_weekly_audit
from bot.sandbox import SlackSandbox
from bot.sandbox.driver import SlackDriver
from bot.services.ingest import ingest as ingest_records
from bot.services.ingest import records_from_json_array, roster_from_workspace
from bot.services.nudges import digest_for, weekly_digest
from bot.slack.delivery import OutboxWorker, outbox_client
from bot.slack.ids import grade_action
from bot.slack.nudge_blocks import digest_message
from bot.slack.pacing import SLACK_PACE, Pace
from bot.store.db import make_engine, session_scope, upgrade
from bot.wiring.config import load_settings
from bot.wiring.context import AppContext
from bot.workspace import Workspace, parse_workspace

REPO = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-bench"
SECRET = "bench-signing-secret"
CLIENTS = 16
ONE_CLIENT_GAP = 0.25  # seconds between one reviewer's clicks in row 1's informative line
WINDOW_WEEKS = 4
ANSWER_TIMEOUT = 60.0


class RowsThenError(RuntimeError):
    """A row crashed after others were measured: ``rows`` are those (the runner keeps them)."""

    def __init__(self, rows: list["Row"]) -> None:
        super().__init__("a row crashed after others were measured")
        self.rows = rows


@dataclass(frozen=True)
class Sizes:
    name: str
    trainers: int
    task_types: int
    grades: tuple[int, int]  # row 2's two history sizes
    clicks: int
    click_grades: int
    ingest: int
    deliver_trainers: int
    plan_grades: int
    read_repeats: int
    scale: float  # row 3: the sandbox's and the pacer's rate, × Slack's 1 post/s/channel

    def describe(self) -> str:
        return (f"{self.name}: {self.trainers} trainers over {self.task_types} task types, "
                f"{'/'.join(f'{g:,}' for g in self.grades)} grades, {self.clicks} clicks, "
                f"{self.ingest:,} ingest records")


@dataclass
class Row:
    row: int
    what: str
    size: str
    store: str
    figure: str
    floor: str
    ratio: str
    goal: str
    met: bool | None
    values: dict[str, Any]


def postgres_reachable(url: str) -> str | None:
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return url
    except Exception as error:
        print(f"PostgreSQL unreachable: {error}", file=sys.stderr)
        return None


def say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _ratio(value: float, floor: float) -> str:
    return f"{value / floor:.1f}×" if floor > 0 else "-"


def _k(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


# --- the subprocess environment ---------------------------------------------------------------

def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"PORT", "DATABASE_URL", "AUDITBOT_CONFIG", "INGEST_TOKEN",
                        "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL"}}
    env["PYTHONPATH"] = str(REPO)
    env.update(settings)
    return env


def _auditbot() -> list[str]:
    script = Path(sys.executable).parent / "auditbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.entry.cli"]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_kb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


@contextmanager
def _process(argv: list[str], env: dict[str, str], cwd: Path, port: int) -> Iterator[int]:
    log = (cwd / f"process-{port}.log").open("ab")
    process = subprocess.Popen(argv, cwd=cwd, env={**env, "PORT": str(port)}, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not healthy(f"http://127.0.0.1:{port}/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv} did not start; see {log.name}: "
                                   + (cwd / log.name).read_text()[-2000:])
            time.sleep(0.05)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# --- row 1 and 5: clicks ----------------------------------------------------------------------

def _click_targets(url: str, count: int) -> list[tuple[int, str, str, str, int]]:
    """Ungraded single-review samples of the current week: (sample, reviewer, channel,
    thread id, task index), whole threads first."""
    engine = make_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text(
            "SELECT s.id, t.task_type, t.channel, t.id FROM sample s "
            "JOIN audit_thread t ON t.id = s.thread_id "
            "WHERE t.iso_week = (SELECT max(iso_week) FROM audit_thread) "
            "AND NOT s.needs_double_review "
            "AND NOT EXISTS (SELECT 1 FROM grade g WHERE g.sample_id = s.id) "
            "ORDER BY s.id LIMIT :n"), {"n": count}).all()
    engine.dispose()
    if len(found) < count:
        raise RuntimeError(f"only {len(found)} ungraded samples to click, {count} wanted")
    rng = random.Random(1)
    return [(sample, data.reviewer_id(int(task[4:]), rng.randrange(data.REVIEWERS)), channel,
             str(thread), int(task[4:])) for sample, task, channel, thread in found]


def _post_messages(url: str, sandbox: SlackSandbox,
                   targets: list[tuple[int, str, str, str, int]]) -> dict[int, tuple[str, str]]:
    """Each target's thread parent and sample message, posted to the sandbox as the bot did;
    the store's ``message_ts`` / ``parent_ts`` point at them. Returns sample → (ts, thread)."""
    from slack_sdk import WebClient
    client = WebClient(token=TOKEN, base_url=sandbox.url)
    parents: dict[str, str] = {}
    where: dict[int, tuple[str, str]] = {}
    for sample, _reviewer, channel, thread, _task in targets:
        if thread not in parents:
            parents[thread] = str(client.chat_postMessage(channel=channel,
                                                          text="Audit thread")["ts"])
        ts = str(client.chat_postMessage(channel=channel, text=f"Sample {sample}",
                                         thread_ts=parents[thread])["ts"])
        where[sample] = (ts, parents[thread])
    if not where:
        return where
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE sample SET message_ts = :ts WHERE id = :id"),
                           [{"ts": ts, "id": s} for s, (ts, _) in where.items()])
        connection.execute(text("UPDATE audit_thread SET parent_ts = :ts WHERE id = :id"),
                           [{"ts": ts, "id": int(t)} for t, ts in parents.items()])
    engine.dispose()
    return where


def _fire(driver: SlackDriver, clicks: list[dict[str, Any]], *, clients: int = CLIENTS,
          gap: float = 0.0) -> tuple[list[float], float, dict[int, int]]:
    """Sends the click payloads from ``clients`` threads, each waiting ``gap`` seconds after
    an answer before its next click; latencies, wall time, how many answers were not 200,
    by status."""
    latencies: list[float] = []
    bad: dict[int, int] = defaultdict(int)
    lock = threading.Lock()
    chunks = [clicks[n::clients] for n in range(clients)]

    def client(chunk: list[dict[str, Any]]) -> None:
        for payload in chunk:
            start = time.perf_counter()
            response = driver.send_payload(payload)
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                if response.status != 200:
                    bad[response.status] += 1
            time.sleep(gap)

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - start, dict(bad)


def _payloads(driver: SlackDriver, targets: list[tuple[int, str, str, str, int]],
              where: dict[int, tuple[str, str]]) -> list[dict[str, Any]]:
    out = []
    for sample, reviewer, channel, _thread, _task in targets:
        ts, parent = where.get(sample, (f"{time.time():.6f}", f"{time.time():.6f}"))
        payload = driver._common("block_actions", reviewer)
        payload.update(
            container={"type": "message", "message_ts": ts, "channel_id": channel,
                       "is_ephemeral": False, "thread_ts": parent},
            channel={"id": channel, "name": channel.lower()}, state={"values": {}},
            response_url=driver.sandbox.new_response_url(user=reviewer, channel=channel,
                                                         message_ts=ts),
            actions=[{"type": "button", "action_id": grade_action(DEFAULT_SCALE.best),
                      "block_id": f"sample-{sample}", "value": str(sample),
                      "text": {"type": "plain_text", "text": "Pass"},
                      "action_ts": f"{time.time():.6f}"}],
            message={"type": "message", "ts": ts, "thread_ts": parent, "text": "Sample"})
        out.append(payload)
    return out


def _grades(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = int(connection.execute(text("SELECT count(*) FROM grade")).scalar_one())
    engine.dispose()
    return count


def clicks(sizes: Sizes, *, memory: bool, only_memory: bool = False,
           one_by_one: int = 200) -> list[Row]:
    scale = data.Scale(sizes.trainers, sizes.task_types, sizes.click_grades)
    anchor = data.anchor_now()
    cached = data.cached_sqlite(scale, anchor)
    size = f"{sizes.clicks} clicks, {_k(sizes.click_grades)} grades"
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        url = data.copy_sqlite(cached, cwd / "clicks.db")
        config = data.write_toml(data.workspace_data(scale), cwd / "auditbot.toml")
        users = data.slack_users(scale)
        channels = {data.channel_of(k): data.task_key(k) for k in range(sizes.task_types)}
        with SlackSandbox(bot_token=TOKEN, users=users, channels=channels,
                          post_rate_per_sec=100_000, post_burst=100_000) as sandbox:
            every = _click_targets(url, sizes.clicks + one_by_one) if not only_memory else []
            targets, singles = every[:sizes.clicks], every[sizes.clicks:]
            where = _post_messages(url, sandbox, every)
            env = _env(DATABASE_URL=url, AUDITBOT_CONFIG=str(config), SLACK_BOT_TOKEN=TOKEN,
                       SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=sandbox.url, THREADS="8")
            results: dict[str, Any] = {}
            for name, argv in (("floor", [sys.executable, str(REPO / "bench" / "bare_bolt.py")]),
                               ("serve", [*_auditbot(), "serve", "--no-scheduler"])):
                port = free_port()
                with _process(argv, env, cwd, port) as pid:
                    time.sleep(2)
                    idle = _status_kb(pid, "VmRSS")
                    driver = SlackDriver(app_url=f"http://127.0.0.1:{port}/slack/events",
                                         signing_secret=SECRET, sandbox=sandbox)
                    before = _grades(url) if name == "serve" else 0
                    say(f"{name}: pid {pid}, idle {idle:.0f} MB; {len(targets)} clicks from "
                        f"{CLIENTS} clients")
                    payloads = _payloads(driver, targets, where)
                    cpu_before = _cpu_seconds(pid)
                    latencies, wall, bad = _fire(driver, payloads)
                    cpu_at_last_ack = _cpu_seconds(pid) - cpu_before
                    stored_at_last_ack = (_grades(url) - before) if name == "serve" else 0
                    deadline = time.monotonic() + 60
                    while name == "serve" and _grades(url) - before < len(targets) \
                            and time.monotonic() < deadline:
                        time.sleep(0.1)
                    stored = (_grades(url) - before) if name == "serve" else 0
                    time.sleep(1)  # what follows the last clicks (cards, checks) is done
                    cpu_after = _cpu_seconds(pid) - cpu_before
                    results[name] = {"latencies": latencies, "wall": wall, "bad": bad,
                                     "idle_mb": idle, "peak_mb": _status_kb(pid, "VmHWM"),
                                     "stored": stored, "stored_at_last_ack": stored_at_last_ack,
                                     "cpu_s_at_last_ack": cpu_at_last_ack,
                                     "cpu_s_with_follow_up": cpu_after}
                    # Then at a team's pace (after the peak above was read): one click at a
                    # time, ONE_CLIENT_GAP apart, so what followed the last is done.
                    one, _, one_bad = _fire(driver, _payloads(driver, singles, where), clients=1,
                                            gap=ONE_CLIENT_GAP)
                    results[name].update(one_client=one, one_client_bad=one_bad)
    out: list[Row] = []
    floor, serve = results["floor"], results["serve"]
    if targets:
        def pct(values: list[float], q: float) -> float:
            ordered = sorted(values)
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
        f50, f99 = pct(floor["latencies"], 0.5), pct(floor["latencies"], 0.99)
        s50, s99 = pct(serve["latencies"], 0.5), pct(serve["latencies"], 0.99)
        smax = max(serve["latencies"])
        rate = serve["stored_at_last_ack"] / serve["wall"]
        values = {k: v for k, v in serve.items() if k not in ("latencies", "one_client")}
        values.update(floor_p50=f50, floor_p99=f99, p50=s50, p99=s99, max=smax,
                      floor_max=max(floor["latencies"]), grades_per_s=rate,
                      non_200=serve["bad"], floor_non_200=floor["bad"])
        out += [
            Row(1, "click→ack p50", size, "sqlite", ms(s50), ms(f50), _ratio(s50, f50),
                "≤ 1.5× floor", s50 <= 1.5 * f50, values),
            Row(1, "click→ack p99", size, "sqlite", ms(s99), ms(f99), _ratio(s99, f99),
                "≤ 2× floor", s99 <= 2 * f99, {}),
            Row(1, "click→ack max", size, "sqlite", ms(smax), ms(max(floor["latencies"])),
                _ratio(smax, max(floor["latencies"])), "< 1 s", smax < 1.0, {}),
            Row(1, "grades stored/s", size, "sqlite",
                f"{rate:.0f}/s ({serve['stored']}/{len(targets)} stored, "
                f"{sum(serve['bad'].values())} non-200)", "-", "-", "≥ 200/s", rate >= 200, {}),
            # Where the time goes, not a goal: the process's CPU per click (2 cores, one
            # interpreter), until the last ack and with what follows the clicks.
            # Not a goal: the same click at a team's pace, where no click waits for another.
            Row(1, "click→ack p50, one client",
                f"{len(singles)} clicks, {ONE_CLIENT_GAP:g} s apart",
                "sqlite", f"{ms(pct(serve['one_client'], 0.5))} (p99 "
                f"{ms(pct(serve['one_client'], 0.99))})",
                f"{ms(pct(floor['one_client'], 0.5))} (p99 "
                f"{ms(pct(floor['one_client'], 0.99))})",
                _ratio(pct(serve["one_client"], 0.5), pct(floor["one_client"], 0.5)), "-", None,
                {"non_200": serve["one_client_bad"]}),
            Row(1, "serve CPU per click", size, "sqlite",
                f"{serve['cpu_s_at_last_ack'] / len(targets) * 1000:.1f} ms "
                f"({serve['cpu_s_with_follow_up'] / len(targets) * 1000:.1f} ms with follow-up)",
                f"{floor['cpu_s_at_last_ack'] / len(targets) * 1000:.1f} ms",
                _ratio(serve["cpu_s_with_follow_up"], floor["cpu_s_at_last_ack"]), "-", None,
                {}),
        ]
    if memory:
        out += [
            Row(5, "serve RSS idle", "-", "sqlite", f"{serve['idle_mb']:.0f} MB",
                f"{floor['idle_mb']:.0f} MB", _ratio(serve["idle_mb"], floor["idle_mb"]),
                "≤ 100 MB", serve["idle_mb"] <= 100, {}),
            Row(5, "serve RSS peak (VmHWM)", size if targets else "-", "sqlite",
                f"{serve['peak_mb']:.0f} MB", f"{floor['peak_mb']:.0f} MB",
                _ratio(serve["peak_mb"], floor["peak_mb"]), "≤ 150 MB",
                serve["peak_mb"] <= 150, {}),
        ]
    return out


# --- row 2: reads -----------------------------------------------------------------------------

@dataclass
class ReadBot:
    """The real app in-process (signed HTTP through waitress), on a built store."""

    ctx: AppContext
    driver: SlackDriver
    sandbox: SlackSandbox
    stop: Callable[[], None]


def _read_bot(url: str, workspace: Workspace, scale: data.Scale) -> ReadBot:
    from bot.demo.local import start_local_bot
    users = data.slack_users(scale)
    channels = {data.channel_of(k): data.task_key(k) for k in range(scale.task_types)}
    sandbox = SlackSandbox(users=users, channels={"C0GENERAL": "general", **channels},
                           post_rate_per_sec=1000, post_burst=1000).start()
    engine = make_engine(url)
    clock = FixedClock(data.reads_now(data.anchor_now()))
    local = start_local_bot(engine=engine, workspace=workspace, clock=clock, sandbox=sandbox,
                            worker=False)
    # As `serve` does once started: what lives for good (here also the bench's own data and
    # earlier rows' leftovers) is kept out of the cycle collector's walks. Unfrozen, a full
    # collection walked ~158k objects for ~80 ms inside whichever read it fell in, and one
    # or two of five runs decided a median (the 100k-to-1M growth swung from ×1.1 to ×1.8).
    gc.collect()
    gc.freeze()

    def stop() -> None:
        local.stop()
        engine.dispose()
    return ReadBot(ctx=local.ctx, driver=local.driver, sandbox=sandbox, stop=stop)


def _answered(bot: ReadBot, send: Callable[[], Any], count: Callable[[], int]) -> float:
    """Seconds from sending until ``count()`` grows (the answer reached the sandbox)."""
    before = count()
    start = time.perf_counter()
    send()
    deadline = start + ANSWER_TIMEOUT
    while count() <= before:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no answer within {ANSWER_TIMEOUT:.0f} s")
        time.sleep(0.002)
    return time.perf_counter() - start


ReadPlan = tuple[dict[str, Callable[[], float]], Callable[[str], str]]


def _read_plan(bot: ReadBot, url: str) -> ReadPlan:
    """The reads to time on ``bot`` (the floor first) and what the last of each showed."""
    manager, reviewer, trainer = data.MANAGERS[0], data.reviewer_id(0, 0), data.trainer_id(7)
    sandbox, driver = bot.sandbox, bot.driver

    def responses() -> int:
        return len(sandbox.responses())

    def published() -> int:
        return len(sandbox.calls("views.publish"))

    def command(user: str, words: str) -> Callable[[], float]:
        return lambda: _answered(bot, lambda: driver.slash_command(user, words), responses)

    def digest() -> float:
        start = time.perf_counter()
        now = bot.ctx.clock.now()
        with bot.ctx.session() as session:
            built = weekly_digest(session, bot.ctx.workspace, now=now)
        digest_message(digest_for(built, bot.ctx.workspace, viewer=manager), now=now)
        return time.perf_counter() - start

    def floor() -> float:
        engine = make_engine(url)
        start = time.perf_counter()
        with engine.connect() as connection:
            connection.execute(text(
                "SELECT t.task_type, g.grade, count(*) FROM grade g "
                "JOIN sample s ON s.id = g.sample_id JOIN audit_thread t ON t.id = s.thread_id "
                "WHERE t.iso_week >= :since GROUP BY t.task_type, g.grade"),
                {"since": _window_start()}).all()
        took = time.perf_counter() - start
        engine.dispose()
        return took

    reads: dict[str, Callable[[], float]] = {
        "floor": floor,
        "/audit status": command(manager, "status"),
        "status @trainer": command(manager, f"status <@{trainer}>"),
        "manager's Home": lambda: _answered(bot, lambda: driver.app_home_opened(manager),
                                            published),
        "/audit disputes": command(manager, "disputes"),
        "/audit pending": command(reviewer, "pending"),
        "weekly digest": digest,
    }
    def answer(name: str) -> str:
        """What the last read showed (checks it answered, not a refusal or the help)."""
        if name == "manager's Home":
            view = sandbox.calls("views.publish")[-1].params.get("view") or {}
            if isinstance(view, str):
                view = json.loads(view)
            return f"a Home of {len(view.get('blocks', []))} blocks"
        if name in ("floor", "weekly digest"):
            return ""
        body = sandbox.responses()[-1].body
        return f"{len(body.get('blocks') or [])} blocks: {str(body.get('text'))[:70]!r}"

    return reads, answer


def _measure(plans: dict[int, ReadPlan], repeats: int) -> tuple[
        dict[int, dict[str, list[float]]], dict[int, dict[str, str]]]:
    """Each read ``repeats`` times on every store size in turn (100k, 1M, 100k, 1M …): the
    growth from one size to the other compares runs a moment apart, so the shared machine's
    slower and faster minutes fall on both sizes alike."""
    times: dict[int, dict[str, list[float]]] = {key: defaultdict(list) for key in plans}
    shown: dict[int, dict[str, str]] = {key: {} for key in plans}
    failed = dict.fromkeys(plans, False)
    given_up: set[tuple[int, str]] = set()
    for reads, _ in plans.values():
        reads["floor"]()  # once untimed: the first read of a store pays for its cold cache
    names = list(next(iter(plans.values()))[0])
    for name in names:
        for _n in range(repeats):
            for key, (reads, _) in plans.items():
                if (key, name) in given_up:
                    continue
                try:
                    took = reads[name]()
                except (TimeoutError, DBAPIError) as error:  # too slow: the table says so
                    say(f"{_k(key)} {name}: {error!r}"[:300])
                    took = float("inf")
                times[key][name].append(took)
                if took > 5:
                    given_up.add((key, name))  # slow: one more run says nothing new
        for key, (_, answer) in plans.items():
            values = times[key][name]
            shown[key][name] = answer(name) if values[-1] != float("inf") else "timeout"
            if shown[key][name] == "timeout" or "went wrong" in shown[key][name]:
                failed[key] = True
            elif failed[key]:  # the request given up on may still hold the store (its lock)
                shown[key][name] += " (after a timeout or error)"
            say(f"{_k(key)} {name}: {', '.join(ms(t) for t in values)} · {shown[key][name]}")
    return times, shown


def _statement_timeout(url: str) -> str:
    """The URL with a statement timeout past ANSWER_TIMEOUT: a read the bench gave up on
    does not keep PostgreSQL busy for the rows after it."""
    parsed = make_url(url)
    options = f"{parsed.query.get('options', '')} -cstatement_timeout={int(ANSWER_TIMEOUT + 30)}s"
    return parsed.update_query_dict({"options": options.strip()}).render_as_string(
        hide_password=False)


def _window_start() -> str:
    from bot.common.clock import iso_week
    anchor = data.anchor_now()
    return iso_week((anchor - timedelta(weeks=WINDOW_WEEKS - 1)).astimezone(data._tz()))


def reads(sizes: Sizes, postgres: str | None,
          so_far: Callable[[list[Row]], None] = lambda rows: None) -> list[Row]:
    """Row 2; ``so_far`` gets the rows measured so far after each store."""
    stores: list[str] = ["sqlite"] + (["postgresql"] if postgres else [])
    measured: dict[tuple[str, int], dict[str, list[float]]] = {}
    answers: dict[tuple[str, int], dict[str, str]] = {}
    for store in stores:
        urls: dict[int, str] = {}
        for grades in sizes.grades:
            scale = data.Scale(sizes.trainers, sizes.task_types, grades)
            anchor = data.anchor_now()
            say(f"{store}, {scale.label()}")
            if store == "sqlite":
                urls[grades] = f"sqlite:///{data.cached_sqlite(scale, anchor)}"
            else:
                assert postgres is not None
                urls[grades] = _statement_timeout(data.cached_postgres(postgres, scale, anchor))
        bots: dict[int, ReadBot] = {}
        try:
            for grades, url in urls.items():
                scale = data.Scale(sizes.trainers, sizes.task_types, grades)
                bots[grades] = _read_bot(url, parse_workspace(data.workspace_data(scale)),
                                         scale)
            times, shown = _measure({g: _read_plan(bots[g], urls[g]) for g in bots},
                                    sizes.read_repeats)
        finally:
            for bot in bots.values():
                bot.stop()
        for grades in bots:
            measured[(store, grades)], answers[(store, grades)] = times[grades], shown[grades]
        so_far(_read_rows(sizes, measured, answers))
    return _read_rows(sizes, measured, answers)


def _read_rows(sizes: Sizes, measured: dict[tuple[str, int], dict[str, list[float]]],
               answers: dict[tuple[str, int], dict[str, str]]) -> list[Row]:
    out: list[Row] = []
    small, large = sizes.grades
    for (store, grades), times in measured.items():
        floor = statistics.median(times["floor"])
        for name, values in times.items():
            if name == "floor":
                continue
            median = statistics.median(values)
            limit = 0.05 if name == "status @trainer" else 0.3
            met = median <= limit
            goal = f"≤ {ms(limit)}"
            if grades == large and (store, small) in measured:
                growth = median / statistics.median(measured[(store, small)][name])
                goal += f", ×{growth:.2f} from {_k(small)} (≤ 1.5)"
                met = met and growth <= 1.5
            said = answers[(store, grades)].get(name, "")
            figure = "timeout" if median == float("inf") else \
                f"{ms(median)} (max {ms(max(values))}, n={len(values)})"
            if "went wrong" in said:
                figure, met = f"error after {ms(median)}", False
            elif "after a timeout" in said:
                figure += " after a timeout"
            out.append(Row(2, name, f"{sizes.trainers}t, {_k(grades)} grades", store,
                           figure, ms(floor), _ratio(median, floor), goal, met,
                           {"runs": values, "floor_runs": times["floor"],
                            "answer": answers[(store, grades)].get(name, "")}))
    return out


# --- row 3: Monday ----------------------------------------------------------------------------

def monday(sizes: Sizes) -> list[Row]:
    scale = data.Scale(sizes.trainers, sizes.task_types, sizes.plan_grades)
    anchor = data.anchor_now()
    cached = data.cached_sqlite(scale, anchor)
    out: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = data.copy_sqlite(cached, Path(tmp) / "monday.db")
        engine = make_engine(url)
        workspace = parse_workspace(data.workspace_data(scale))
        now = anchor + timedelta(weeks=1)
        settings = load_settings({"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": "http://127.0.0.1:9/",
                                  "DATABASE_URL": url}, cwd=Path(tmp))
        ctx = AppContext.build(settings, workspace, clock=FixedClock(now), engine=engine)
        say(f"planning the audit of {scale.trainers} trainers, {_k(scale.grades)} grades")
        start = time.perf_counter()
        summary = run_weekly_audit(ctx, now=now)
        plan = time.perf_counter() - start
        ctx.outbox.stop()
        engine.dispose()
        out.append(Row(3, "weekly audit: plan", f"{scale.trainers}t, {_k(scale.grades)} grades",
                       "sqlite", f"{plan:.1f} s ({len(summary.results)} threads)", "-", "-",
                       "≤ 10 s", plan <= 10, {"seconds": plan}))
    try:
        out.append(_deliver(sizes))
    except Exception as error:
        out.append(Row(3, "weekly audit: delivery", "-", "sqlite", f"crashed: {error!r}",
                       "-", "-", "≤ 1.2× floor", None, {}))
        raise RowsThenError(out) from error
    return out


def _deliver(sizes: Sizes) -> Row:
    channels, samples, scale = 4, 5, sizes.scale
    workspace = bench_workspace(sizes.deliver_trainers, channels, samples)
    names = {tt.channel: tt.key for tt in workspace.task_types}
    sandbox = SlackSandbox(bot_token=TOKEN, channels=names, post_rate_per_sec=scale,
                           post_burst=3).start()
    now = OUTBOX_NOW  # the outputs' dates are relative to it
    stop = threading.Event()

    def answer_429s() -> None:  # 10% of posts answered 429: one queued per 10 posts seen
        queued = 0
        while not stop.is_set():
            # A count, not ``calls`` (a deep copy of every call, under the sandbox's lock):
            # polled every 10 ms over thousands of posts, the copies took the CPU and the
            # lock from the worker and the sandbox being measured.
            posts = sandbox.call_count("chat.postMessage")
            while queued < (posts + 10) // 10:
                sandbox.ratelimit_next("chat.postMessage", retry_after=1)
                queued += 1
            time.sleep(0.01)

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'deliver.db'}"
        engine = make_engine(url)
        upgrade(engine)
        settings = load_settings({"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": sandbox.url,
                                  "DATABASE_URL": url}, cwd=Path(tmp))
        ctx = AppContext.build(settings, workspace, clock=FixedClock(now), engine=engine)
        ctx.outbox = OutboxWorker(engine=engine, client=outbox_client(TOKEN, sandbox.url),
                                  workspace=workspace, clock=ctx.clock, threads=8,
                                  pace=Pace(per_second=scale, burst=SLACK_PACE.burst))
        trainers, task_types = roster_from_workspace(workspace)
        with session_scope(engine) as session:
            ingest_records(session, records_from_json_array(
                outbox_records(workspace, samples)), known_trainers=trainers,
                known_task_types=task_types, now=now)
        planned = run_weekly_audit(ctx, now=now)
        if not planned.results:
            raise RuntimeError(f"nothing to deliver: {planned.describe()}")
        say(f"delivering {sizes.deliver_trainers} trainers × {samples} samples over {channels} "
            f"channels at {scale:g} posts/s per channel (Slack's 1/s, time × {scale:g}), "
            "10% answered 429")
        injector = threading.Thread(target=answer_429s, daemon=True)
        injector.start()
        start = time.perf_counter()
        due = ctx.outbox.run_until_idle(timeout=1800)
        wall = time.perf_counter() - start
        stop.set()
        ctx.outbox.stop()
        engine.dispose()
    calls = sandbox.calls("chat.postMessage")
    sandbox.stop()
    ok = [c for c in calls if c.status == 200 and c.response.get("ok")]
    per_channel: dict[str, int] = defaultdict(int)
    for call in ok:
        per_channel[call.params["channel"]] += 1
    busiest = max(per_channel.values())
    floor = busiest / scale
    limited = sum(1 for c in calls if c.status == 429)
    ratio = wall / floor
    return Row(3, "weekly audit: delivery", f"{sizes.deliver_trainers}t × {samples}, "
               f"{channels} channels", "sqlite",
               f"{wall:.1f} s ({len(ok)} posts, {limited} × 429; ≈{wall * scale / 60:.1f} min "
               "at Slack's pace)", f"{floor:.1f} s ({busiest} posts at {scale:g}/s)",
               f"{ratio:.2f}×", "≤ 1.2× floor", ratio <= 1.2,
               {"wall": wall, "floor": floor, "posts": len(ok), "429": limited,
                "pending": due.pending, "failed": due.failed, "scale": scale})


# --- row 4: ingest ----------------------------------------------------------------------------

def _jsonl(path: Path, scale: data.Scale, count: int) -> None:
    anchor = data.anchor_now()
    with path.open("w") as out:
        for n in range(count):
            i = n % scale.trainers
            created = anchor - timedelta(minutes=n % 40_000)
            out.write(json.dumps({
                "id": f"ing-{n:08d}", "trainer": data.trainer_id(i),
                "task_type": data.task_key(i % scale.task_types),
                "prompt": f"Prompt {n}: summarise the attached note.",
                "output": f"Output {n}: " + "a plausible answer. " * 12,
                "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "metadata": {"project": "bench"}}) + "\n")


# The indexes of ``trainer_output`` (bot.store.models: its primary key and secondary indexes),
# for the informative floor with indexes.
_FLOOR_INDEXES = ("(trainer, task_type, created_at)", "(task_type, created_at)",
                  "(task_type, created_at) WHERE item IS NOT NULL AND label IS NOT NULL")


def _floor_ingest(url: str, path: Path, *, indexed: bool = False) -> float:
    """Read + parse + executemany into a bare table, through the driver (no validation).
    ``indexed``: the table has ``trainer_output``'s primary key and indexes (and its
    ``item`` and ``label`` columns, left empty, which two of them cover): what the same
    loop pays for the index maintenance any store of outputs has to do. Informative only:
    the issue's floor is the bare table."""
    engine = make_engine(url)  # the bot's settings (SQLite: WAL, synchronous=NORMAL)
    columns = "id, trainer, task_type, prompt, output, created_at, metadata_json"
    table = "bench_floor_indexed" if indexed else "bench_floor"
    with engine.begin() as connection:
        if indexed:
            rest = columns.removeprefix("id, ").replace(",", " TEXT,")
            connection.execute(text(f"CREATE TABLE {table} (id TEXT PRIMARY KEY, {rest} TEXT, "
                                    "item TEXT, label TEXT)"))
            for n, columns_where in enumerate(_FLOOR_INDEXES):
                connection.execute(text(f"CREATE INDEX ix_{table}_{n} ON {table} "
                                        f"{columns_where}"))
        else:
            connection.execute(text(f"CREATE TABLE {table} ({columns.replace(',', ' TEXT,')} "
                                    "TEXT)"))
    raw = engine.raw_connection()
    marker = "?" if url.startswith("sqlite") else "%s"
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join([marker] * 7)})"
    start = time.perf_counter()
    cursor = raw.cursor()
    if url.startswith("sqlite"):
        cursor.execute("BEGIN")  # the pragmas put pysqlite in autocommit mode
    batch: list[tuple[str, ...]] = []
    with path.open() as lines:
        for line in lines:
            r = json.loads(line)
            batch.append((r["id"], r["trainer"], r["task_type"], r["prompt"], r["output"],
                          r["created_at"], json.dumps(r.get("metadata"))))
            if len(batch) >= 10_000:
                cursor.executemany(sql, batch)
                batch = []
    if batch:
        cursor.executemany(sql, batch)
    raw.commit()
    took = time.perf_counter() - start
    raw.close()
    engine.dispose()
    return took


def ingest(sizes: Sizes, postgres: str | None) -> list[Row]:
    scale = data.Scale(sizes.trainers, sizes.task_types, 0)
    out: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        path = cwd / "outputs.jsonl"
        _jsonl(path, scale, sizes.ingest)
        one = cwd / "one.jsonl"
        one.write_text(path.open().readline().replace("ing-00000000", "ing-startup"))
        config = data.write_toml(data.workspace_data(scale), cwd / "auditbot.toml")
        stores: list[str] = ["sqlite"] + (["postgresql"] if postgres else [])
        for store in stores:
            with _fresh_store(store, cwd, postgres) as (url, floor_url):
                engine = make_engine(url)
                upgrade(engine)
                engine.dispose()
                env = _env(DATABASE_URL=url, AUDITBOT_CONFIG=str(config))
                start = time.perf_counter()  # the command's start-up: one record
                subprocess.run([*_auditbot(), "ingest", str(one)], cwd=cwd, env=env,
                               capture_output=True, text=True, check=True)
                startup = time.perf_counter() - start
                say(f"{store}: auditbot ingest of {sizes.ingest:,} records "
                    f"(start-up {startup:.1f} s)")
                start = time.perf_counter()
                done = subprocess.run([*_auditbot(), "ingest", str(path)], cwd=cwd, env=env,
                                      capture_output=True, text=True)
                took = time.perf_counter() - start
                if done.returncode != 0:
                    raise RuntimeError(f"auditbot ingest exited {done.returncode}: "
                                       f"{done.stdout[-500:]} {done.stderr[-1500:]}")
                floor = _floor_ingest(floor_url, path)
                indexed = _floor_ingest(floor_url, path, indexed=True)
                ratio = took / floor
                out.append(Row(4, "ingest JSONL", f"{_k(sizes.ingest)} records", store,
                               f"{sizes.ingest / took:,.0f} rec/s ({took:.1f} s, "
                               f"{startup:.1f} s of it start-up)",
                               f"{sizes.ingest / floor:,.0f} rec/s ({floor:.1f} s; with "
                               f"trainer_output's indexes {indexed:.1f} s, "
                               f"{took / indexed:.1f}× of it)",
                               f"{ratio:.1f}× time", "≤ 1.5× floor's time", ratio <= 1.5,
                               {"seconds": took, "floor_seconds": floor,
                                "indexed_floor_seconds": indexed,
                                "startup_seconds": startup,
                                "summary": done.stdout.strip()[-300:]}))
    return out


@contextmanager
def _fresh_store(store: str, cwd: Path, postgres: str | None) -> Iterator[tuple[str, str]]:
    if store == "sqlite":
        yield f"sqlite:///{cwd / 'ingest.db'}", f"sqlite:///{cwd / 'floor.db'}"
        return
    from tests.postgres.schemas import postgres_schema
    assert postgres is not None
    with postgres_schema(postgres) as url, postgres_schema(postgres) as floor_url:
        yield url, floor_url
