"""Per-trainer tallies of a week's grades: what the demo and the run summary show.

A sample counts once: the mean weight of its reviewers' latest grades.
"""

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.models import AuditThread, Grade, Sample
from bot.workspace import Workspace


@dataclass(frozen=True)
class TrainerTally:
    trainer: str
    task_type: str
    samples: int
    graded: int
    counts: dict[str, int]
    score: float | None
    threshold: float

    @property
    def below_threshold(self) -> bool:
        return self.score is not None and self.score < self.threshold


def week_tallies(session: Session, workspace: Workspace, *, iso_week: str) -> list[TrainerTally]:
    rows = session.exec(
        select(AuditThread, Sample, Grade)
        .join(Sample, col(Sample.thread_id) == AuditThread.id)
        .outerjoin(Grade, col(Grade.sample_id) == Sample.id)
        .where(AuditThread.iso_week == iso_week)
    ).all()
    samples: dict[tuple[str, str], set[int]] = defaultdict(set)
    grades: dict[tuple[str, str], dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for thread, sample, grade in rows:
        key = (thread.trainer, thread.task_type)
        samples[key].add(sample.id or 0)
        if grade is not None:
            grades[key][sample.id or 0].append(grade.grade)
    tallies = []
    for (trainer, task_key), sample_ids in sorted(samples.items()):
        policy = workspace.task_type(task_key).policy
        per_sample = grades[(trainer, task_key)]
        counts = {g: 0 for g in ("pass", "minor", "major")}
        scores = []
        for given in per_sample.values():
            for g in given:
                counts[g] += 1
            scores.append(sum(policy.weight(g) for g in given) / len(given))
        tallies.append(TrainerTally(
            trainer=trainer, task_type=task_key, samples=len(sample_ids), graded=len(scores),
            counts=counts, score=sum(scores) / len(scores) if scores else None,
            threshold=policy.pass_threshold,
        ))
    return tallies
