"""Trainers whose weighted score is significantly below the rest of their task type.

Usage::

    spread = task_spread(session, workspace, task_type=workspace.task_type("clinical"), now=now)
    spread.trainers, spread.outliers        # per trainer: graded, score, p-value, flagged
    store_outliers(session, workspace, now=now)   # the scheduled check: what status shows
    below_rest(session, task_types=["clinical"])  # {task type: (trainer, ...)} as stored

The test
--------
Each counted sample has a score in [0, 1] (its grades' mean weight, as in the trainer's
score). Under "this trainer is as good as the rest", the trainer's ``n`` samples are a random
draw, without replacement, of ``n`` of the task type's ``N`` window samples. The p-value is
the exact chance that such a draw loses at least as much score as the trainer's did: a
permutation test, the weighted-score form of Fisher's exact test (with weights 1 and 0 it
*is* the one-sided Fisher test of the pass rate). Its distribution is computed once per task
type for every draw size at once (``deficit_tails``): the score lost per sample is a whole
number of grid steps (quarters with the default weights; a finer grid, at most 1/100, for
other weights), so the sum is a polynomial product over the sample values.

Many trainers are tested at each look, so each flag must survive the Benjamini–Hochberg
correction at ``OUTLIER_FDR`` (10%). When every trainer is equally good, any flag at all is
false, and BH then bounds the chance of one per look by the FDR level: with 50 equal trainers
a false flag in at most about 10% of weekly looks (measured in
``tests/unit/test_outliers.py``), where an uncorrected 5% test per trainer flags someone in
most looks.

The samples come from the trainer-week tallies (``bot.services.tallies``): one query per task
type, the same samples as the escalation test (no calibration items, no open disputes, blind
double reviews not yet). The scheduled escalation check stores who is flagged
(``TrainerOutlier``), so `/audit status`, the Home and the digest read a few rows.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, select

from bot.common.grades import scale_in_force
from bot.services.audit import audit_week
from bot.services.standings import window_weeks
from bot.services.tallies import kind_grades, window_tallies
from bot.store.models.consistency import TrainerOutlier
from bot.workspace import Policy, TaskType, Workspace

OUTLIER_FDR = 0.10
GRIDS = (1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100)  # steps per unit of score, finest last


@dataclass(frozen=True)
class TrainerQuality:
    trainer: str
    graded: int
    passed: int  # samples every counted grade of which is Pass
    score: float | None
    p_value: float | None  # of "score below the rest"; None when nothing to compare
    outlier: bool  # survives the Benjamini–Hochberg correction

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.graded if self.graded else None


@dataclass(frozen=True)
class TaskSpread:
    task_type: str
    task_name: str
    weeks: tuple[str, ...]
    trainers: tuple[TrainerQuality, ...]
    fdr: float

    @property
    def scores(self) -> list[float]:
        return [t.score for t in self.trainers if t.score is not None]

    @property
    def score_min(self) -> float | None:
        return min(self.scores, default=None)

    @property
    def score_max(self) -> float | None:
        return max(self.scores, default=None)

    @property
    def score_stdev(self) -> float | None:
        """The sample standard deviation of trainer scores (None below two trainers)."""
        scores = self.scores
        if len(scores) < 2:
            return None
        mean = math.fsum(scores) / len(scores)
        return math.sqrt(math.fsum((s - mean) ** 2 for s in scores) / (len(scores) - 1))

    @property
    def outliers(self) -> tuple[TrainerQuality, ...]:
        return tuple(t for t in self.trainers if t.outlier)


# --- the statistics (plain values) -----------------------------------------------------------

def grid_for(scores: Sequence[float]) -> int:
    """Steps per unit of score: the coarsest grid on which every score lies (within float
    noise), else the finest, to which scores are then rounded (to the nearest 1/100)."""
    for steps in GRIDS:
        if all(abs(s * steps - round(s * steps)) < 1e-9 for s in scores):
            return steps
    return GRIDS[-1]


def deficit_tails(lost: Mapping[int, int], *, draws: int) -> list[list[float]]:
    """For a population holding ``lost[d]`` samples that each lost ``d`` grid steps of
    score: ``tails[n][d]`` is the chance that ``n`` samples drawn without replacement lose
    at least ``d`` steps in all (``n`` from 0 to ``draws``; ``d`` past a row's end: 0)."""
    import numpy as np  # lazy: the light start keeps numpy out of processes that never test

    total = sum(lost.values())
    draws = min(draws, total)
    width = draws * max(lost) + 1
    log_factorial = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, total + 1)))))

    def log_comb(n: int | np.ndarray, k: int | np.ndarray) -> np.ndarray:
        return np.asarray(log_factorial[n] - log_factorial[k] - log_factorial[n - k])

    # Row m: the chances of each loss when m samples are drawn from the types taken so far.
    # Adding a type of ``count`` samples, k of a draw of m come from it with the
    # hypergeometric chance C(count, k) C(seen, m - k) / C(seen + count, m): every weight
    # is a probability, so nothing overflows however many samples there are.
    ways = np.zeros((draws + 1, width))
    ways[0, 0] = 1.0
    seen = 0
    for step, count in lost.items():
        grown = np.zeros_like(ways)
        sizes = np.arange(draws + 1)
        for k in range(min(count, draws) + 1):
            m = sizes[k:]
            rest = m - k
            possible = (rest <= seen) & (m <= seen + count)
            chance = np.zeros(len(m))
            ok = m[possible]
            chance[possible] = np.exp(log_comb(count, k) + log_comb(seen, ok - k)
                                      - log_comb(seen + count, ok))
            shift = k * step
            grown[k:, shift:] += chance[:, None] * ways[:draws + 1 - k, :width - shift]
        ways = grown
        seen += count
    tails = np.cumsum(ways[:, ::-1], axis=1)[:, ::-1]
    return [[float(p) for p in row] for row in tails]


def below_rest_p_values(trainers: Mapping[str, Sequence[float]]) -> dict[str, float | None]:
    """Each trainer's exact permutation p-value that their samples' mean score is below
    the rest's (``trainers``: each one's sample scores, in [0, 1]). None when there is
    nothing to compare: no samples, or nobody else with any."""
    steps = grid_for(sorted({s for scores in trainers.values() for s in scores}))
    lost = {trainer: [round((1 - s) * steps) for s in scores]
            for trainer, scores in trainers.items()}
    population = Counter(d for losses in lost.values() for d in losses)
    total = sum(population.values())
    sizes = [len(d) for d in lost.values() if d and len(d) < total]
    if not sizes:
        return dict.fromkeys(trainers)
    tails = deficit_tails(population, draws=max(sizes))
    found: dict[str, float | None] = {}
    for trainer, losses in lost.items():
        if not losses or len(losses) >= total:
            found[trainer] = None
            continue
        row, sum_lost = tails[len(losses)], sum(losses)
        found[trainer] = min(1.0, row[sum_lost]) if sum_lost < len(row) else 0.0
    return found


def benjamini_hochberg(p_values: Mapping[str, float | None], *, fdr: float) -> set[str]:
    """Who is flagged at false-discovery rate ``fdr`` (None: not tested)."""
    tested = sorted((p, key) for key, p in p_values.items() if p is not None)
    cut = 0
    for rank, (p, _) in enumerate(tested, start=1):
        if p <= fdr * rank / len(tested):
            cut = rank
    return {key for _, key in tested[:cut]}


# --- from the store -----------------------------------------------------------------------------

def task_spread(session: Session, workspace: Workspace, *, task_type: TaskType,
                now: datetime, fdr: float = OUTLIER_FDR) -> TaskSpread:
    """Every configured trainer of ``task_type``: graded, score, p-value and flag."""
    weeks = window_weeks(workspace, now, task_type.policy.window_weeks)
    tallies = window_tallies(session, weeks=weeks, task_type=task_type.key)
    scores: dict[str, list[float]] = {}
    passed: dict[str, int] = defaultdict(int)
    for trainer in workspace.trainers_of(task_type.key):
        scores[trainer.user] = []
        for (_, kind), n in sorted(tallies.get((trainer.user, task_type.key), {}).items()):
            grades = kind_grades(kind)
            if not grades:
                continue
            scores[trainer.user] += [_sample_score(task_type.policy, grades)] * n
            passed[trainer.user] += n if all(g == scale_in_force().best for g in grades) else 0
    p_values = below_rest_p_values(scores)
    flagged = benjamini_hochberg(p_values, fdr=fdr)
    return TaskSpread(
        task_type=task_type.key, task_name=task_type.name, weeks=tuple(weeks), fdr=fdr,
        trainers=tuple(TrainerQuality(
            trainer=user, graded=len(s), passed=passed[user],
            score=math.fsum(s) / len(s) if s else None, p_value=p_values[user],
            outlier=user in flagged) for user, s in scores.items()))


def spreads(session: Session, workspace: Workspace, *, now: datetime) -> list[TaskSpread]:
    return [task_spread(session, workspace, task_type=t, now=now) for t in workspace.task_types]


def store_outliers(session: Session, workspace: Workspace, *, now: datetime) -> int:
    """Replace the stored flags with this look's (the caller commits); how many are flagged.
    Rows of a trainer still flagged keep their first ``since``."""
    week = audit_week(workspace, now)
    stored = {(r.task_type, r.trainer): r for r in session.exec(select(TrainerOutlier))}
    flagged = 0
    for spread in spreads(session, workspace, now=now):
        for t in spread.trainers:
            row = stored.pop((spread.task_type, t.trainer), None)
            if not t.outlier:
                if row is not None:
                    session.delete(row)
                continue
            flagged += 1
            if row is None:
                row = TrainerOutlier(task_type=spread.task_type, trainer=t.trainer, since=now,
                                     iso_week=week, score=0.0, graded=0, p_value=1.0)
            row.iso_week, row.score, row.graded = week, t.score or 0.0, t.graded
            row.p_value = t.p_value if t.p_value is not None else 1.0
            session.add(row)
    if stored:  # task types or trainers no longer in the config
        session.execute(delete(TrainerOutlier).where(
            col(TrainerOutlier.id).in_([r.id for r in stored.values()])))
    return flagged


def below_rest(session: Session, *, task_types: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Who the last check flagged, per task type, lowest score first."""
    rows = session.exec(select(TrainerOutlier.task_type, TrainerOutlier.trainer)
                        .where(col(TrainerOutlier.task_type).in_(task_types))
                        .order_by(col(TrainerOutlier.score), col(TrainerOutlier.trainer))).all()
    found: dict[str, list[str]] = defaultdict(list)
    for key, trainer in rows:
        found[key].append(trainer)
    return {key: tuple(trainers) for key, trainers in found.items()}


def _sample_score(policy: Policy, grades: Sequence[str]) -> float:
    return math.fsum(policy.weight(g) for g in grades) / len(grades)
