"""Seeded data at a team's scale for `bench/run.py`: a workspace and a store full of history.

    scale = Scale(trainers=5000, task_types=20, grades=1_000_000)
    path = cached_sqlite(scale, anchor_now())          # bench/.data/<key>.db, built once
    url = cached_postgres(BASE_URL, scale, anchor_now())  # schema bench_<key>, built once

The workspace: ``trainers`` trainers spread over ``task_types`` task types (one each), three
reviewers per task type, a lead per 50 trainers, two managers. The store looks like what the
bot writes: each ISO week one audit thread per trainer with 5 samples (the first a double
review, graded by two reviewers in slots 1 and 2), each sample a trainer output, each grade
a ``grade`` row and its ``grade_event``; trainer states, open escalations for the weak
trainers, settled disputes for the older disagreements. The current week is posted and half
graded (the backlog, `/audit pending`, the clicks of row 1); older weeks are fully graded,
going back as far as the grade budget reaches (100k grades: ~3 weeks of 5,000 trainers; 1M:
~33 weeks, far beyond the 4-week window). Each trainer also has 7 outputs not yet audited,
for next Monday's audit (row 3).

Rows go in with SQLAlchemy Core ``insert()`` executemany in big batches, with explicit ids
(PostgreSQL's sequences are moved past them afterwards). The cache key is a hash of this
file, the schema's head revisions, the scale and the anchor week, so a second run reuses it.
"""

import hashlib
import json
import math
import random
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, insert, make_url, text
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers every table on SQLModel.metadata)
from bot.common.clock import iso_week
from bot.services.reviewer_tallies import recount as recount_reviewers
from bot.services.tallies import recount
from bot.store.db import head_revisions, make_engine, upgrade

DATA = Path(__file__).resolve().parent / ".data"
SAMPLES = 5
REVIEWERS = 3
LEAD_SPAN = 50
MANAGERS = ("U0MANAGER1", "U0MANAGER2")
TIMEZONE = "America/New_York"
CATEGORIES = ("Factual error", "Instruction not followed", "Unsupported claim", "Other")
NEXT_OUTPUTS = 7  # per trainer, for next Monday's audit
BATCH = 20_000


@dataclass(frozen=True)
class Scale:
    trainers: int
    task_types: int
    grades: int

    def label(self) -> str:
        return f"{self.trainers}t/{self.task_types}tt/{self.grades // 1000}k grades"


def anchor_now(moment: datetime | None = None) -> datetime:
    """This ISO week's Monday, 14:00 UTC (09:00 in New York): when its audit ran."""
    moment = moment or datetime.now(UTC)
    monday = (moment - timedelta(days=moment.weekday())).date()
    return datetime(monday.year, monday.month, monday.day, 14, 0, tzinfo=UTC)


def reads_now(anchor: datetime) -> datetime:
    """When the reads look: Wednesday of the anchor week, two days into grading."""
    return anchor + timedelta(days=2, hours=2)


def task_key(k: int) -> str:
    return f"task{k:02d}"


def channel_of(k: int) -> str:
    return f"C0TASK{k:04d}"


def trainer_id(i: int) -> str:
    return f"U0TR{i:06d}"


def reviewer_id(k: int, r: int) -> str:
    return f"U0RV{k:03d}{r}"


def lead_id(i: int) -> str:
    return f"U0LD{i // LEAD_SPAN:05d}"


def slack_users(scale: Scale) -> dict[str, str]:
    """Everyone the workspace names, as the sandbox's users (id → name): managers,
    reviewers, trainers and their leads, as a real workspace has them. The bot writes to
    each (cards, feedback DMs, escalations); one the sandbox did not know would be refused
    with ``user_not_found``, work a real workspace never makes it do."""
    return {**{m: m.lower() for m in MANAGERS},
            **{reviewer_id(k, r): f"rv{k}-{r}" for k in range(scale.task_types)
               for r in range(REVIEWERS)},
            **{trainer_id(i): f"tr{i}" for i in range(scale.trainers)},
            **{lead_id(i): f"lead{i // LEAD_SPAN}" for i in range(0, scale.trainers, LEAD_SPAN)}}


def workspace_data(scale: Scale) -> dict[str, Any]:
    """The workspace config, as the TOML file's tables."""
    return {
        "workspace": {"timezone": TIMEZONE, "managers": list(MANAGERS)},
        "task_types": [{"key": task_key(k), "name": f"Task {k}", "channel": channel_of(k),
                        "reviewers": [reviewer_id(k, r) for r in range(REVIEWERS)],
                        "error_categories": list(CATEGORIES)}
                       for k in range(scale.task_types)],
        "trainers": [{"user": trainer_id(i), "task_types": [task_key(i % scale.task_types)],
                      "lead": lead_id(i), "started": "2025-01-06"}
                     for i in range(scale.trainers)],
    }


def write_toml(data: dict[str, Any], path: Path) -> Path:
    """The workspace config as TOML (only the shapes `workspace_data` uses)."""
    def value(v: Any) -> str:
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)
    lines = ["[workspace]"] + [f"{k} = {value(v)}" for k, v in data["workspace"].items()]
    for array in ("task_types", "trainers"):
        for table in data[array]:
            lines += ["", f"[[{array}]]"] + [f"{k} = {value(v)}" for k, v in table.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def cache_key(scale: Scale, anchor: datetime) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(repr((sorted(head_revisions()), scale, anchor.isoformat())).encode())
    return digest.hexdigest()[:12]


def progress(message: str) -> None:
    print(f"  [data] {message}", file=sys.stderr, flush=True)


# --- the rows ----------------------------------------------------------------------------------

class Rows:
    """Rows per table, flushed in batches through Core executemany."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}
        self.order = ("trainer_output", "audit_thread", "sample", "grade", "grade_event",
                      "dispute_settlement", "trainer_state", "escalation")

    def add(self, table: str, row: dict[str, Any]) -> None:
        rows = self.pending.setdefault(table, [])
        rows.append(row)
        if len(rows) >= BATCH and table == "trainer_output":
            self.flush()

    def flush(self) -> None:
        with self.engine.begin() as connection:
            for name in self.order:  # parents first: the foreign keys hold at every commit
                rows = self.pending.pop(name, [])
                if rows:
                    table: Table = SQLModel.metadata.tables[name]
                    for start in range(0, len(rows), BATCH):
                        connection.execute(insert(table), rows[start:start + BATCH])
                    self.counts[name] = self.counts.get(name, 0) + len(rows)


def _grade_of(rng: random.Random, quality: float) -> str:
    if rng.random() < quality:
        return "pass"
    return "minor" if rng.random() < 0.67 else "major"


def _other(rng: random.Random, grade: str) -> str:
    """A second reviewer's grade: mostly the same, sometimes not (a step or two apart)."""
    if rng.random() < 0.85:
        return grade
    return rng.choice([g for g in ("pass", "minor", "major") if g != grade])


@dataclass
class Counter:
    value: int = 0

    def next(self) -> int:
        self.value += 1
        return self.value


def build(engine: Engine, scale: Scale, anchor: datetime, *, seed: int = 12) -> dict[str, int]:
    """Fill an upgraded, empty store; returns the rows written per table."""
    rng = random.Random(seed)
    rows = Rows(engine)
    ids = {name: Counter() for name in ("thread", "sample", "grade", "event", "settle", "esc")}
    quality = [rng.uniform(0.55, 0.8) if rng.random() < 0.05 else rng.uniform(0.82, 0.99)
               for _ in range(scale.trainers)]
    per_week_full = scale.trainers * (SAMPLES + 1)
    current_graded = {i: rng.random() < 0.5 for i in range(scale.trainers)}
    current_grades = sum(SAMPLES + 1 for i in range(scale.trainers) if current_graded[i])
    budget = max(0, scale.grades - current_grades)
    weeks = math.ceil(budget / per_week_full)
    progress(f"{scale.label()}: the current week and {weeks} weeks of history")
    stamp = Counter(int(anchor.timestamp()) * 1000)
    written = 0

    def ts() -> str:
        n = stamp.next()
        return f"{n // 1000}.{n % 1000:03d}000"

    def week(offset: int, *, graded: dict[int, bool] | None, limit: int | None) -> int:
        """Threads of the week ``offset`` weeks before the anchor's; returns grades written."""
        monday = anchor - timedelta(weeks=offset)
        week_name = iso_week(monday.astimezone(_tz()))
        done = 0
        for i in range(scale.trainers):
            if limit is not None and done >= limit:
                break
            k = i % scale.task_types
            trainer, task = trainer_id(i), task_key(k)
            thread = ids["thread"].next()
            outputs = [f"o-{week_name}-{trainer}-{n}" for n in range(SAMPLES)]
            for n, output in enumerate(outputs):
                created = monday - timedelta(hours=6 + 30 * n)
                body = f"Output {n} of {trainer} for {week_name}: " + "a plausible answer. " * 12
                rows.add("trainer_output", {
                    "id": output, "trainer": trainer, "task_type": task,
                    "prompt": f"Prompt {n}: summarise the attached note for {task}.",
                    "output": body, "created_at": created, "metadata_json": None,
                    "gold_grade": None, "gold_note": None,
                    "content_hash": hashlib.sha256(body.encode()).hexdigest(),
                    "ingested_at": created + timedelta(hours=1)})
            rows.add("audit_thread", {
                "id": thread, "trainer": trainer, "task_type": task, "iso_week": week_name,
                "channel": channel_of(k), "seed": f"{week_name}:{trainer}:{task}",
                "population_json": json.dumps(outputs), "sample_count": SAMPLES,
                "created_at": monday, "parent_ts": ts()})
            is_graded = graded[i] if graded is not None else True
            for n, output in enumerate(outputs):
                sample = ids["sample"].next()
                double = n == 0
                rows.add("sample", {"id": sample, "thread_id": thread, "output_id": output,
                                    "position": n, "needs_double_review": double,
                                    "message_ts": ts()})
                if not is_graded:
                    continue
                first = _grade_of(rng, quality[i])
                reviewers = rng.sample(range(REVIEWERS), 2 if double else 1)
                grades = [first] if not double else [first, _other(rng, first)]
                for slot, (r, grade) in enumerate(zip(reviewers, grades, strict=True), 1):
                    when = monday + timedelta(hours=rng.uniform(1, 40 if offset == 0 else 96))
                    category = None if grade == "pass" else rng.choice(CATEGORIES)
                    explanation = None if grade == "pass" else \
                        f"{grade}: the answer misses a point the note makes ({n})."
                    values = {"sample_id": sample, "reviewer": reviewer_id(k, r), "grade": grade,
                              "category": category, "explanation": explanation}
                    rows.add("grade", {**values, "id": ids["grade"].next(), "created_at": when,
                                       "updated_at": when, "slot": slot if double else None})
                    rows.add("grade_event", {**values, "id": ids["event"].next(),
                                             "recorded_at": when})
                    done += 1
                if double and {"pass", "major"} == set(grades) and offset >= 2:
                    rows.add("dispute_settlement", {
                        "id": ids["settle"].next(), "sample_id": sample, "task_type": task,
                        "trainer": trainer, "settled_by": MANAGERS[0], "grade": "minor",
                        "note": "Settled: a minor issue.",
                        "reviews_json": json.dumps({reviewer_id(k, r): g for r, g in
                                                    zip(reviewers, grades, strict=True)}),
                        "settled_at": monday + timedelta(days=5)})
        return done

    started = time.perf_counter()
    written += week(0, graded=current_graded, limit=None)
    for offset in range(1, weeks + 1):
        written += week(offset, graded=None, limit=scale.grades - written)
        if offset % 4 == 0 or offset == weeks:
            rows.flush()
            progress(f"{written:,} grades ({offset}/{weeks} weeks back, "
                     f"{time.perf_counter() - started:.0f} s)")
    _next_outputs(rows, scale, anchor)
    _standings(rows, scale, anchor, quality, ids["esc"])
    rows.flush()
    with engine.begin() as connection:  # what the bot keeps with each grade, counted once
        progress(f"{recount(connection):,} trainer-week tallies")
        progress(f"{recount_reviewers(connection):,} reviewer-week tallies")
    if engine.url.get_backend_name() == "postgresql":
        with engine.begin() as connection:
            for table in ("audit_thread", "sample", "grade", "grade_event",
                          "dispute_settlement", "trainer_state", "escalation"):
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"))
            connection.execute(text("ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    progress(f"built in {time.perf_counter() - started:.0f} s: {rows.counts}")
    return rows.counts


def _tz() -> Any:
    from zoneinfo import ZoneInfo
    return ZoneInfo(TIMEZONE)


def _next_outputs(rows: Rows, scale: Scale, anchor: datetime) -> None:
    for i in range(scale.trainers):
        for n in range(NEXT_OUTPUTS):
            created = anchor + timedelta(hours=1 + 6 * n)
            body = f"Next output {n} of {trainer_id(i)}: " + "a plausible answer. " * 12
            rows.add("trainer_output", {
                "id": f"o-next-{trainer_id(i)}-{n}", "trainer": trainer_id(i),
                "task_type": task_key(i % scale.task_types),
                "prompt": f"Prompt {n}: summarise the attached note.", "output": body,
                "created_at": created, "metadata_json": None, "gold_grade": None,
                "gold_note": None, "content_hash": hashlib.sha256(body.encode()).hexdigest(),
                "ingested_at": created})


def _standings(rows: Rows, scale: Scale, anchor: datetime, quality: list[float],
               esc: Counter) -> None:
    since = anchor - timedelta(days=10)
    for i in range(scale.trainers):
        task = task_key(i % scale.task_types)
        q = quality[i]
        state = "escalate" if q < 0.7 else "watch" if q < 0.82 else "ok"
        rows.add("trainer_state", {
            "id": i + 1, "trainer": trainer_id(i), "task_type": task, "state": state,
            "sampling": "tightened" if state != "ok" else "normal", "score": q,
            "lower": max(0.0, q - 0.08), "upper": min(1.0, q + 0.05), "graded": 24,
            "since": since, "updated_at": anchor})
        if state == "escalate":
            rows.add("escalation", {
                "id": esc.next(), "trainer": trainer_id(i), "task_type": task,
                "open_key": f"{trainer_id(i)}|{task}", "status": "open", "level": 0,
                "level_notified_at": since, "opened_at": since,
                "reason": "score confidently below the threshold", "score": q,
                "lower": q - 0.08, "upper": q + 0.05, "threshold": 0.85, "reminders": 0})


# --- caches ------------------------------------------------------------------------------------

def cached_sqlite(scale: Scale, anchor: datetime) -> Path:
    """The built SQLite file for this scale (built now if not cached); copy it before writing."""
    DATA.mkdir(exist_ok=True)
    key = cache_key(scale, anchor)
    path = DATA / f"{scale.trainers}-{scale.grades}-{key}.db"
    if path.exists():
        progress(f"reusing {path.name}")
        return path
    for old in DATA.glob(f"{scale.trainers}-{scale.grades}-*.db*"):
        old.unlink()
    partial = path.with_suffix(".partial")
    for leftover in DATA.glob(partial.name + "*"):
        leftover.unlink()
    engine = make_engine(f"sqlite:///{partial}")
    upgrade(engine)
    build(engine, scale, anchor)
    engine.dispose()  # the last connection closed checkpoints the WAL into the file
    partial.rename(path)
    return path


def copy_sqlite(path: Path, to: Path) -> str:
    """A writable copy of a cached store; its URL."""
    shutil.copyfile(path, to)
    return f"sqlite:///{to}"


def cached_postgres(base_url: str, scale: Scale, anchor: datetime) -> str:
    """A schema ``bench_<scale>_<key>`` on ``base_url`` holding the built store (built now if
    missing; older bench schemas of this scale are dropped); its URL (search_path set)."""
    key = cache_key(scale, anchor)
    prefix = f"bench_{scale.trainers}_{scale.grades}_"
    schema = prefix + key
    admin = create_engine(base_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    url = make_url(base_url).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema})
    rendered = url.render_as_string(hide_password=False)
    try:
        with admin.connect() as connection:
            schemas = {row[0] for row in connection.execute(text(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"), {"p": prefix + "%"})}
            complete = schema in schemas and connection.execute(text(
                "SELECT to_regclass(:t) IS NOT NULL"), {"t": f"{schema}.bench_built"}).scalar()
            if complete:
                progress(f"reusing PostgreSQL schema {schema}")
                return rendered
            for old in schemas:
                connection.execute(text(f'DROP SCHEMA "{old}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(rendered)
        upgrade(engine)
        build(engine, scale, anchor)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE bench_built (at timestamptz)"))
        engine.dispose()
        return rendered
    finally:
        admin.dispose()

