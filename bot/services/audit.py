"""The weekly audit: choose each trainer's samples and owe their posts, once per ISO week.

Usage (the caller commits)::

    summary = plan_weekly_audit(session, workspace, now=clock.now())
    print(summary.describe())

Exactly once lives in the store: ``audit_thread`` is unique per trainer, task type and
week, and ``sample.output_id`` is unique, so a second run, a concurrent run or a replica
finds the thread already there and owes nothing more.
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.common.clock import iso_week
from bot.services.escalation import open_escalation_pairs
from bot.services.outbox import OutboxKind, Owed, enqueue_many
from bot.services.people import audit_exemptions
from bot.services.sampling import double_review_positions, draw_sample, sample_seed
from bot.services.scoring import samples_for_next_audit
from bot.services.standings import all_standings, trainer_standing
from bot.services.tallies import added_many
from bot.store.models import AuditThread, Sample, TrainerOutput
from bot.workspace import TaskType, Workspace

LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class TrainerResult:
    trainer: str
    task_type: str
    outcome: str  # "posted" | "already posted" | "no outputs" | "paused" | "away"
    samples: int = 0
    population: int = 0


@dataclass
class AuditSummary:
    iso_week: str
    results: list[TrainerResult] = field(default_factory=list)

    @property
    def posted(self) -> list[TrainerResult]:
        return [r for r in self.results if r.outcome == "posted"]

    def describe(self) -> str:
        lines = [f"Weekly audit {self.iso_week}:"]
        for r in self.results:
            detail = f"{r.samples} of {r.population} outputs" if r.samples else ""
            lines.append(f"  {r.trainer} · {r.task_type}: {r.outcome} {detail}".rstrip())
        posted = self.posted
        lines.append(
            f"  {len(posted)} threads, {sum(r.samples for r in posted)} samples owed to Slack"
        )
        return "\n".join(lines)


def audit_week(workspace: Workspace, now: datetime) -> str:
    """The ISO week a run at ``now`` belongs to, in the workspace's time zone."""
    return iso_week(now.astimezone(workspace.tz))


def plan_weekly_audit(session: Session, workspace: Workspace, *, now: datetime) -> AuditSummary:
    """Plan every trainer's thread of this week, set-based: a few queries per task type
    (threads already there, eligible outputs, standings) and batched inserts, whatever the
    number of trainers."""
    week = audit_week(workspace, now)
    summary = AuditSummary(iso_week=week)
    exempt = audit_exemptions(session, workspace, now=now)  # paused or away: no audit
    # Every trainer's standing over the window that ended last week, from the tallies: one
    # query per task type, not one window of grades per trainer.
    standings = all_standings(session, workspace, now=now - LOOKBACK)
    escalated = open_escalation_pairs(session)
    # The outputs before the threads: a concurrent run that commits in between then shows
    # as "already posted" here (its threads are read after), never as "no outputs".
    populations = eligible_by_pair(session, task_types=[t.key for t in workspace.task_types],
                                   now=now)
    posted = threads_of_week(session, week=week)
    drafts: list[Draft] = []
    for trainer in workspace.trainers:
        for key in trainer.task_types:
            pair = (trainer.user, key)
            if trainer.user in exempt:
                summary.results.append(TrainerResult(trainer.user, key, exempt[trainer.user]))
            elif pair in posted:
                summary.results.append(
                    TrainerResult(trainer.user, key, "already posted", posted[pair]))
            else:
                summary.results.append(TrainerResult(trainer.user, key, "no outputs"))
                drafts.append(Draft(len(summary.results) - 1, workspace.task_type(key),
                                    trainer.user))
    chosen: list[Draft] = []
    for draft in drafts:
        outputs = populations.get((draft.trainer, draft.task_type.key))
        if not outputs:
            continue
        key = draft.task_type.key
        last_week = standings.get((draft.trainer, key))
        if last_week is None:  # a pair all_standings does not know: read it alone
            last_week, _ = trainer_standing(session, workspace, trainer=draft.trainer,
                                            task_type=key, now=now - LOOKBACK)
        size = samples_for_next_audit(last_week, draft.task_type.policy,
                                      escalation_open=(draft.trainer, key) in escalated)
        chosen.append(draft.drawn(outputs, size=size, week=week))
    try:
        with session.begin_nested():
            stored = _store_drafts(session, chosen, week=week, now=now)
    except IntegrityError:
        # An output drawn here was sampled by a concurrent run since we read (another
        # replica whose clock is in another week): store thread by thread, as far as it goes.
        stored = set()
        for draft in chosen:
            try:
                with session.begin_nested():
                    stored |= _store_drafts(session, [draft], week=week, now=now)
            except IntegrityError:
                continue
    for draft in chosen:
        summary.results[draft.index] = (
            TrainerResult(draft.trainer, draft.task_type.key, "posted", len(draft.chosen),
                          len(draft.population))
            if (draft.trainer, draft.task_type.key) in stored
            # Another run or replica stored this week's thread since we looked.
            else TrainerResult(draft.trainer, draft.task_type.key, "already posted"))
    return summary


@dataclass
class Draft:
    """One trainer's thread of the week as planned, before it is stored."""

    index: int  # in the summary's results
    task_type: TaskType
    trainer: str
    seed: str = ""
    population: list[str] = field(default_factory=list)  # sorted
    chosen: list[str] = field(default_factory=list)  # in draw order
    doubles: frozenset[int] = frozenset()
    gold: frozenset[str] = frozenset()  # calibration items among ``population``

    def drawn(self, outputs: dict[str, bool], *, size: int, week: str) -> "Draft":
        """The sample drawn (``outputs``: id → calibration item?), reproducibly."""
        self.seed = sample_seed(trainer=self.trainer, task_type=self.task_type.key,
                                iso_week=week)
        self.population = sorted(outputs)
        self.chosen = draw_sample(self.population, k=size, seed=self.seed)
        self.doubles = double_review_positions(
            len(self.chosen), fraction=self.task_type.policy.double_review_fraction,
            seed=self.seed)
        self.gold = frozenset(o for o, gold in outputs.items() if gold)
        return self


def threads_of_week(session: Session, *, week: str) -> dict[tuple[str, str], int]:
    """(trainer, task type) → sample count of the threads already stored for ``week``."""
    rows = session.exec(select(AuditThread.trainer, AuditThread.task_type,
                               AuditThread.sample_count)
                        .where(AuditThread.iso_week == week)).all()
    return {(trainer, key): count for trainer, key, count in rows}


def eligible_by_pair(session: Session, *, task_types: Sequence[str],
                     now: datetime) -> dict[tuple[str, str], dict[str, bool]]:
    """Per (trainer, task type), the outputs of the 7 days before ``now`` never audited
    (id → calibration item?): one query per task type on ``ix_output_task_created``, a
    lookup per output on the unique index of ``sample.output_id``."""
    audited = exists().where(col(Sample.output_id) == TrainerOutput.id)
    found: dict[tuple[str, str], dict[str, bool]] = defaultdict(dict)
    for key in task_types:
        rows = session.exec(
            select(TrainerOutput.trainer, TrainerOutput.id,
                   col(TrainerOutput.gold_grade).is_not(None))
            .where(TrainerOutput.task_type == key,
                   TrainerOutput.created_at >= now - LOOKBACK,
                   TrainerOutput.created_at < now,
                   ~audited)).all()
        for trainer, output_id, gold in rows:
            found[(trainer, key)][output_id] = bool(gold)
    return found


def _store_drafts(session: Session, drafts: Sequence[Draft], *, week: str,
                  now: datetime) -> set[tuple[str, str]]:
    """Store the drafted threads, their samples, tallies and owed posts in a few batched
    INSERTs; returns the (trainer, task type) stored. A thread another run stored since we
    looked is skipped (ON CONFLICT on ``uq_thread_week``)."""
    if not drafts:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    threads = AuditThread.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        insert(threads).on_conflict_do_nothing(
            index_elements=["trainer", "task_type", "iso_week"])
        .returning(threads.c.id, threads.c.trainer, threads.c.task_type),
        [{"trainer": d.trainer, "task_type": d.task_type.key, "iso_week": week,
          "channel": d.task_type.channel, "seed": d.seed,
          "population_json": json.dumps(d.population), "sample_count": len(d.chosen),
          "created_at": now, "parent_ts": None} for d in drafts]).all()
    thread_ids = {(trainer, key): thread_id for thread_id, trainer, key in rows}
    ours = [d for d in drafts if (d.trainer, d.task_type.key) in thread_ids]
    samples = Sample.__table__  # type: ignore[attr-defined]
    sample_rows = [{"thread_id": thread_ids[(d.trainer, d.task_type.key)],
                    "output_id": output_id, "position": position,
                    "needs_double_review": position in d.doubles, "message_ts": None}
                   for d in ours for position, output_id in enumerate(d.chosen)]
    sample_ids: dict[str, int] = {}
    if sample_rows:
        sample_ids = {output_id: sample_id for sample_id, output_id in session.execute(
            insert(samples).returning(samples.c.id, samples.c.output_id),
            sample_rows).all()}
    added_many(session, [(d.trainer, d.task_type.key, week,
                          sum(1 for o in d.chosen if o not in d.gold)) for d in ours])
    owed: list[Owed] = []
    for d in ours:  # a thread's parent before its samples, each channel in this order
        thread_id = thread_ids[(d.trainer, d.task_type.key)]
        owed.append(Owed(OutboxKind.AUDIT_PARENT, thread_id, d.task_type.channel,
                         f"{OutboxKind.AUDIT_PARENT}:{thread_id}"))
        owed += [Owed(OutboxKind.SAMPLE_POST, sample_ids[o], d.task_type.channel,
                      f"{OutboxKind.SAMPLE_POST}:{sample_ids[o]}") for o in d.chosen]
    enqueue_many(session, owed, now=now)
    return set(thread_ids)
