"""From stored grades to a trainer's standing over the window (the rule lives in scoring).

Usage::

    current = trainer_standing(session, workspace, trainer="U0T1", task_type="clinical", now=now)
    current.state   # "ok" | "watch" | "escalate" | "insufficient"
    week = week_standings(session, workspace, iso_week="2026-W48")   # one week alone
    by_pair = tally_standings(session, workspace, pairs=[("U0T1", "clinical")], now=now)
    whole = task_type_summary(session, task_type=workspace.task_type("clinical"), weeks=weeks)

``window_samples`` reads the grades themselves (for one trainer's report and the escalation
check); ``tally_standings`` and ``task_type_summary`` read the trainer-week tallies kept with
the grades (``bot.services.tallies``), for lists of many trainers: the same samples, the
same rule, a few rows per trainer, each task type's trainers decided in one batch
(``decide_tallies``: ``scoring.standings``, of which ``scoring.standing`` is a thin call).
"""

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Float, String, and_, bindparam, case, cast, literal, or_, union_all
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, func, select

from bot.common.clock import iso_week
from bot.common.grades import scale_in_force
from bot.services.blind import revealed
from bot.services.disputes import dispute_outcomes, lapsed_disagreements
from bot.services.reviews import Review
from bot.services.scoring import (
    GradedSample,
    Standing,
    between_trainers,
    bounds,
    decision_weeks,
    sample_score,
    standing,
    standings,
)
from bot.services.tallies import (
    DISPUTED,
    SEP,
    Pair,
    Tally,
    as_kinds,
    kind_grades,
    ruled_verdicts,
    task_type_tallies,
    window_tallies,
)
from bot.services.trainer_disputes import trainer_disputes_of
from bot.store.models import AuditThread, Grade, Sample, TrainerOutput
from bot.store.models.tally import TrainerWeekTally
from bot.workspace import TaskType, Workspace
from bot.workspace.model import Policy


@dataclass(frozen=True)
class WindowSummary:
    """All trainers of a task type over the window: the mean sample score and its bounds
    (as for one trainer, ``bot.services.scoring``), per week and in all."""

    score: float | None
    lower: float | None
    upper: float | None
    weekly: tuple[float | None, ...]  # one per week of the window, oldest first
    audited: int
    graded: int
    trainers: int = 0  # trainers with a graded sample, each weighing the same in the score


@dataclass(frozen=True)
class GradedRecord:
    """A graded sample with where it lives in Slack, for "worst samples" lists."""

    sample_id: int
    week: str
    position: int
    count: int
    channel: str
    message_ts: str | None
    output_id: str
    grades: tuple[Review, ...]
    weight: float


class _Where(NamedTuple):
    """Where a window sample lives (what a ``GradedRecord`` shows of it)."""

    week: str
    position: int
    sample_count: int
    channel: str
    message_ts: str | None
    output_id: str


def window_weeks(workspace: Workspace, now: datetime, weeks: int) -> list[str]:
    """The ISO weeks of the window, oldest first, ending with the week of ``now``."""
    local = now.astimezone(workspace.tz)
    return [iso_week(local - timedelta(weeks=back)) for back in range(weeks - 1, -1, -1)]


def window_samples(session: Session, workspace: Workspace, *, trainer: str, task_type: str,
                   weeks: list[str]) -> tuple[list[GradedSample], list[GradedRecord]]:
    """The window's audited samples (graded or not) and the graded ones with details.

    Ungraded samples matter: a week only counts as settled once all its samples are graded,
    so the rule is not tested again on every partial week. Calibration items never count.
    A double review whose reviewers disagree by a whole step is not graded yet (its week
    not fully graded) until a manager settles it (then with the settled grade) or it
    outlives ``disagreement_deadline`` (then with both grades, their mean). A sample its
    trainer disputes is not graded yet until a second reviewer decides (overturned, it
    counts with the corrected grade). A double review counts once both its grades are in
    (``bot.services.blind.revealed``): until then it is an ungraded sample, in every score,
    count and interval and in the escalation rule alike, and not among the graded records.
    An adjudicated disagreement between trainers counts as one graded sample in the week of
    its ruling (``tallies.ruled_verdicts``), not among the records (it is no sample).
    """
    rows = session.connection().execute(
        _window_statement(), {"trainer": trainer, "task_type": task_type, "weeks": weeks}
    ).all()
    policy = workspace.task_type(task_type).policy
    by_sample: dict[int, list[Review]] = defaultdict(list)
    meta: dict[int, _Where] = {}
    for (sample_id, position, message_ts, week, count, channel, output_id, reviewer, grade,
         category, explanation, is_revealed) in rows:
        meta[sample_id or 0] = _Where(week, position, count, channel, message_ts, output_id)
        if grade is not None and is_revealed:
            by_sample[sample_id or 0].append(Review(reviewer, grade, category, explanation))
    given = {sid: [g.grade for g in grades] for sid, grades in by_sample.items()}
    outcomes = dispute_outcomes(session, given)
    lapsed = lapsed_disagreements(session, [sid for sid, s in outcomes.items() if s is None])
    for sample_id, settled in outcomes.items():
        if settled is None and sample_id in lapsed:
            continue  # unsettled past the deadline: both grades count (their mean)
        if settled is None:  # disagreeing: not graded yet until a manager settles it
            del by_sample[sample_id]
        else:
            by_sample[sample_id] = [Review(settled.manager, settled.grade, None,
                                                  settled.note)]
    for pushed in trainer_disputes_of(session, list(meta)):
        if pushed.status == "open":  # the trainer's dispute: ungraded until decided
            by_sample.pop(pushed.sample_id, None)
        elif pushed.status == "overturned" and pushed.grade is not None:
            by_sample[pushed.sample_id] = [Review(pushed.second_reviewer or "", pushed.grade,
                                                  None, pushed.reason)]
    samples = [GradedSample(sample_id=sample_id, week=where.week,
                            grades=tuple(g.grade for g in by_sample.get(sample_id, [])))
               for sample_id, where in meta.items()]
    # Adjudicated disagreements between trainers count outside any sample (their ids
    # made up, negative: never a sample's), as the tallies count them.
    samples += [GradedSample(sample_id=-v.disagreement_id, week=v.iso_week, grades=(v.grade,))
                for v in ruled_verdicts(session, task_type=task_type, weeks=weeks,
                                        trainer=trainer)]
    records = []
    for sample_id, grades in by_sample.items():
        where = meta[sample_id]
        records.append(GradedRecord(
            sample_id=sample_id, week=where.week, position=where.position,
            count=where.sample_count, channel=where.channel, message_ts=where.message_ts,
            output_id=where.output_id, grades=tuple(grades),
            weight=sum(policy.weight(g.grade) for g in grades) / len(grades),
        ))
    return samples, records


@functools.cache
def _window_statement() -> Any:
    """``window_samples``' query, built once: it runs in every threshold check. Plain
    columns, not ORM entities: building a Sample, AuditThread and Grade per row cost more
    than the query."""
    return (
        select_columns(col(Sample.id), col(Sample.position), col(Sample.message_ts),
                       col(AuditThread.iso_week), col(AuditThread.sample_count),
                       col(AuditThread.channel), col(TrainerOutput.id), col(Grade.reviewer),
                       col(Grade.grade), col(Grade.category), col(Grade.explanation),
                       revealed().label("revealed"))
        .select_from(Sample)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .outerjoin(Grade, col(Grade.sample_id) == Sample.id)
        .where(col(AuditThread.trainer) == bindparam("trainer"),
               col(AuditThread.task_type) == bindparam("task_type"),
               col(AuditThread.iso_week).in_(bindparam("weeks", expanding=True)),
               col(TrainerOutput.gold_grade).is_(None))
        .order_by(col(Sample.id), col(Grade.created_at)))


def trainer_standing(session: Session, workspace: Workspace, *, trainer: str, task_type: str,
                     now: datetime, previous: str | None = None
                     ) -> tuple[Standing, list[GradedRecord]]:
    """The standing over the window ending with the week of ``now``, and its graded samples.
    The weeks before the window are read too: the confidence test covers a full window
    ending at the newest fully graded week (``scoring.decision_weeks``). ``previous``: the
    state the last check stored (watch's hysteresis)."""
    policy = workspace.task_type(task_type).policy
    weeks = decision_span(workspace, now, policy)
    samples, records = window_samples(session, workspace, trainer=trainer,
                                      task_type=task_type, weeks=weeks)
    in_window = set(weeks[-policy.window_weeks:])
    return (decide(samples, policy, weeks=weeks, previous=previous),
            [r for r in records if r.week in in_window])


def decision_span(workspace: Workspace, now: datetime, policy: Policy) -> list[str]:
    """The ISO weeks the decision for the week of ``now`` reads, oldest first: the window
    and the weeks before it that its confidence test may cover."""
    return window_weeks(workspace, now, decision_weeks(policy))


def decide(samples: Iterable[GradedSample], policy: Policy, *, weeks: Sequence[str],
           previous: str | None) -> Standing:
    """The one escalation rule (``scoring.standing``) on ``decision_span`` weeks of samples
    read from the grades (``window_samples``); ``decide_tallies`` is the same for many
    trainers' tallies at once, so the check, the weekly plan and the status rows decide
    alike."""
    window = list(weeks[-policy.window_weeks:])
    return standing(samples, policy, weeks=window, before=list(weeks[:-policy.window_weeks]),
                    previous=previous)


def decide_tallies(tallies: Mapping[Pair, Tally], policy: Policy, *,
                   weeks: Sequence[str]) -> dict[Pair, Standing]:
    """``decide`` for each pair's tally (one task type's: one policy, ``decision_span``
    weeks), in one batch of ``scoring.standings``, without watch's hysteresis (previous
    None): a pair with no tally is insufficient, as with no samples."""
    window = list(weeks[-policy.window_weeks:])
    return standings({pair: as_kinds(tally) for pair, tally in tallies.items()}, policy,
                     weeks=window, before=list(weeks[:-policy.window_weeks]))


def week_standings(session: Session, workspace: Workspace, *,
                   iso_week: str) -> dict[tuple[str, str], Standing]:
    """Each trainer audited in ``iso_week``: the standing over that week alone, by
    (trainer, task type) in that order. The samples count as in the window (no calibration
    items, no open disputes, a settled one with its settled grade)."""
    pairs = session.exec(select(AuditThread.trainer, AuditThread.task_type)
                         .where(AuditThread.iso_week == iso_week).distinct()).all()
    result = {}
    for trainer, task_type in sorted(pairs):
        samples, _ = window_samples(session, workspace, trainer=trainer, task_type=task_type,
                                    weeks=[iso_week])
        result[(trainer, task_type)] = standing(samples, workspace.task_type(task_type).policy,
                                                weeks=[iso_week])
    return result


def worst(records: list[GradedRecord], limit: int = 3) -> list[GradedRecord]:
    """The lowest-scored samples (newest first among equals), non-pass only."""
    flawed = [r for r in records if any(g.grade != scale_in_force().best for g in r.grades)]
    return sorted(flawed, key=lambda r: (r.weight, -r.sample_id))[:limit]


def tally_standings(session: Session, workspace: Workspace, *, pairs: list[Pair],
                    now: datetime) -> dict[Pair, Standing]:
    """Each (trainer, task type)'s standing over its window, from the tallies: one query
    for all of ``pairs``, the same decision (``decide``) as the escalation check."""
    weeks = {key: decision_span(workspace, now, workspace.task_type(key).policy)
             for key in {key for _, key in pairs}}
    every = sorted({w for ws in weeks.values() for w in ws})
    tallies = window_tallies(session, pairs=pairs, weeks=every)
    by_key: dict[str, dict[Pair, Tally]] = defaultdict(dict)
    for pair in pairs:
        by_key[pair[1]][pair] = tallies.get(pair, {})
    found: dict[Pair, Standing] = {}
    for key, of_key in by_key.items():
        found |= decide_tallies(of_key, workspace.task_type(key).policy, weeks=weeks[key])
    return {pair: found[pair] for pair in pairs}


@dataclass
class WeekSums:
    """One week's samples as the score sees them: audited, graded, and the sum of the
    graded samples' scores (``bot.services.scoring.sample_score``)."""

    audited: int = 0
    graded: int = 0
    total: float = 0.0

    @property
    def score(self) -> float | None:
        return self.total / self.graded if self.graded else None


def week_sums(tally: Tally, policy: Policy, weeks: Sequence[str],
              scores: dict[str, float] | None = None) -> dict[str, WeekSums]:
    """``weeks`` → their sums, from one trainer's (or a task type's) tally. ``scores``: the
    score of each kind seen so far under ``policy``, filled as kinds come (a caller summing
    every trainer of a task type passes one, so each kind is scored once)."""
    known = {} if scores is None else scores
    sums = {w: WeekSums() for w in weeks}
    for (week, kind), n in tally.items():
        if week not in sums:
            continue
        sums[week].audited += n
        if kind and kind != DISPUTED:  # an open disagreement is not graded yet
            score = known.get(kind)
            if score is None:
                score = known[kind] = sample_score(kind.split(SEP), policy)
            sums[week].graded += n
            sums[week].total += n * score
    return sums


def all_standings(session: Session, workspace: Workspace, *,
                  now: datetime) -> dict[Pair, Standing]:
    """Every configured trainer's standing in each of their task types over the window
    ending with the week of ``now``: from the tallies, one query per task type, the same
    decision (``decide``) as the escalation check."""
    result: dict[Pair, Standing] = {}
    for task_type in workspace.task_types:
        weeks = decision_span(workspace, now, task_type.policy)
        tallies = window_tallies(session, task_type=task_type.key, weeks=weeks)
        # Audit sizes follow the standing without watch's hysteresis, as in
        # ``plan_weekly_audit`` and ``policy_sim`` (the parity test holds them to it).
        result |= decide_tallies({(trainer.user, task_type.key):
                                  tallies.get((trainer.user, task_type.key), {})
                                  for trainer in workspace.trainers_of(task_type.key)},
                                 task_type.policy, weeks=weeks)
    return result


def task_type_summary(session: Session, *, task_type: TaskType,
                      weeks: list[str]) -> WindowSummary:
    """The team of ``task_type`` over ``weeks`` (``task_type_summaries`` of one)."""
    return task_type_summaries(session, task_types=[task_type],
                               weeks={task_type.key: weeks})[task_type.key]


def task_type_summaries(session: Session, *, task_types: Sequence[TaskType],
                        weeks: Mapping[str, Sequence[str]]) -> dict[str, WindowSummary]:
    """Each team of ``task_types`` over its ``weeks`` (by key), from the tallies: each
    trainer weighs the same (a trainer on tightened sampling grades three times the
    samples, not three times the say), the interval counts the differences between
    trainers (``scoring.between_trainers``); with one trainer, theirs. Two queries whatever
    the number of trainers and task types, each returning a few rows per task type and
    week: the tallies summed, and the per-trainer scores aggregated by the store."""
    tallies = task_type_tallies(session, weeks=weeks)
    teams = team_scores_of(session, task_types=task_types, weeks=weeks,
                           kinds={kind for t in tallies.values() for _, kind in t})
    found = {}
    for task_type in task_types:
        policy, window = task_type.policy, list(weeks[task_type.key])
        sums = week_sums(tallies.get(task_type.key, {}), policy, window)
        graded = sum(w.graded for w in sums.values())
        total = sum(w.total for w in sums.values())
        team = teams.get(task_type.key, TeamScores(0, 0.0, 0.0, {}))
        score = lower = upper = None
        if team.trainers >= 2:
            score, lower, upper = between_trainers(team.trainers, team.total, team.squares,
                                                   policy.escalation_confidence)
        elif graded:
            score = total / graded
            lower, upper = bounds(total, graded, policy.escalation_confidence)
        found[task_type.key] = WindowSummary(
            score=score, lower=lower, upper=upper,
            weekly=tuple(team.weekly.get(w, sums[w].score) for w in window),
            audited=sum(w.audited for w in sums.values()), graded=graded,
            trainers=team.trainers)
    return found


@dataclass(frozen=True)
class TeamScores:
    trainers: int  # with a graded sample in the window
    total: float  # the sum of their window scores
    squares: float  # ... and of their squares
    weekly: dict[str, float]  # week → the mean of that week's trainers' scores


def team_scores(session: Session, *, task_type: TaskType, weeks: Sequence[str],
                kinds: Iterable[str]) -> TeamScores:
    """``team_scores_of`` one task type."""
    return team_scores_of(session, task_types=[task_type], weeks={task_type.key: weeks},
                          kinds=kinds).get(task_type.key, TeamScores(0, 0.0, 0.0, {}))


def trainer_week_scores(*, task_types: Sequence[TaskType], weeks: Mapping[str, Sequence[str]],
                        kinds: Iterable[str]) -> Any:
    """A CTE ``per_week`` (task_type, trainer, iso_week, total, n): each trainer's graded
    samples of each week of its task type's ``weeks`` and the sum of their scores, from the
    tallies. A sample kind's score is a CASE over ``kinds`` (the kinds the weeks hold) and
    the task types' policies (``scoring.sample_score``, the one rule). None: nothing graded."""
    table = TrainerWeekTally
    graded_kinds = sorted({k for k in kinds if kind_grades(k)})
    if not graded_kinds or not task_types:
        return None
    kind, key = col(table.kind), col(table.task_type)
    branches = []
    for k in graded_kinds:  # one branch per kind and score: task types mostly agree
        by_score: dict[float, list[str]] = defaultdict(list)
        for t in task_types:
            by_score[sample_score(kind_grades(k), t.policy)].append(t.key)
        branches += [(and_(kind == k, key.in_(keys)), score) for score, keys in by_score.items()]
    score_of = case(*branches, else_=0.0)
    spans: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for t in task_types:
        spans[tuple(weeks[t.key])].append(t.key)
    window = or_(*(and_(key.in_(keys), col(table.iso_week).in_(span))
                   for span, keys in spans.items()))
    return (select_columns(key.label("task_type"), col(table.trainer).label("trainer"),
                           col(table.iso_week).label("iso_week"),
                           func.sum(col(table.samples) * score_of).label("total"),
                           func.sum(col(table.samples)).label("n"))
            .where(window, kind.in_(graded_kinds), col(table.samples) > 0)
            .group_by(key, col(table.trainer), col(table.iso_week))
            .cte("per_week"))


def team_scores_of(session: Session, *, task_types: Sequence[TaskType],
                   weeks: Mapping[str, Sequence[str]],
                   kinds: Iterable[str]) -> dict[str, TeamScores]:
    """Per task type, the sums over its trainers of their window scores (and squares), and
    per week the mean of that week's trainers' scores: the store computes each trainer's
    score from the tallies and aggregates them, so the rows read are a few per task type
    and week, whatever the team's size. A sample kind's score is a CASE over ``kinds`` (the
    kinds the window holds) and the task types' policies."""
    per_week = trainer_week_scores(task_types=task_types, weeks=weeks, kinds=kinds)
    if per_week is None:
        return {}
    ratio = cast(per_week.c.total, Float) / per_week.c.n
    by_trainer = (select_columns(per_week.c.task_type,
                                 (func.sum(per_week.c.total) * 1.0
                                  / func.sum(per_week.c.n)).label("score"))
                  .group_by(per_week.c.task_type, per_week.c.trainer).subquery())
    weekly = select_columns(per_week.c.task_type, per_week.c.iso_week, func.count(),
                            func.sum(ratio), literal(0.0))
    weekly = weekly.group_by(per_week.c.task_type, per_week.c.iso_week)
    overall = select_columns(by_trainer.c.task_type, literal(None, String), func.count(),
                             func.sum(by_trainer.c.score),
                             func.sum(by_trainer.c.score * by_trainer.c.score))
    overall = overall.group_by(by_trainer.c.task_type)
    rows = session.execute(union_all(weekly, overall)).all()
    parts: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0, 0.0, {}])
    for task_type, week, n, total, squares in rows:
        if week is None:
            parts[task_type][:3] = [int(n), float(total), float(squares)]
        else:
            parts[task_type][3][week] = float(total) / int(n)
    return {k: TeamScores(*p) for k, p in parts.items()}
