"""The window's grades as CSV: `/audit export` (to a manager's DM) and `auditbot export`.

Usage::

    export = export_grades(session, workspace, weeks=4, now=now)
    Path("grades.csv").write_text(export.csv)      # export.filename, export.rows

One row per reviewer's current grade of a sample audited in the last ``weeks`` ISO weeks
(this week included), oldest week first; ungraded samples are not rows. ``calibration``
marks planted items with a known answer (they never count towards a trainer's score).

Double review is blind (``bot.services.blind``): a sample still waiting for its second
review is one row whose ``double_review`` says ``awaiting second review``, with no reviewer,
grade, category, explanation or time. ``rows`` counts the grades exported, ``awaiting``
those samples. Cells a spreadsheet would run as a formula are neutralized
(``bot.common.csv_safe``).

Each row also carries its trainer's scorecard in that task type as of ``now``
(``bot.services.scorecard``, over the task type's window): for precision, consistency and
clarity the value, the interval's bounds, ``n`` and the weekly trend (oldest first, ``–``
for a week without data), then the task type's alpha between trainers and the dimensions on
watch. A task type no longer configured has empty scorecard cells.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.common.csv_safe import csv_text
from bot.services.blind import blind_samples
from bot.services.scorecard import DIMENSIONS, Dimension, Scorecard, scorecards
from bot.services.standings import window_weeks
from bot.store.models import AuditThread, Grade, Sample, TrainerOutput
from bot.workspace import Workspace
from bot.workspace.policy import MAX_WINDOW_WEEKS

GRADE_COLUMNS = ("iso_week", "task_type", "trainer", "sample", "output_id", "reviewer",
                 "grade", "category", "explanation", "graded_at", "double_review",
                 "calibration")
SCORECARD_COLUMNS = (*(f"{d}{part}" for d in DIMENSIONS
                       for part in ("", "_lower", "_upper", "_n", "_trend")),
                     "trainers_alpha", "scorecard_watch")
COLUMNS = GRADE_COLUMNS + SCORECARD_COLUMNS
MAX_WEEKS = MAX_WINDOW_WEEKS
AWAITING = "awaiting second review"


@dataclass(frozen=True)
class GradesExport:
    filename: str
    csv: str
    rows: int  # grades exported
    weeks: tuple[str, ...]
    awaiting: int = 0  # double reviews waiting for their second grade (shown, not graded)


def export_grades(session: Session, workspace: Workspace, *, weeks: int | None = None,
                  now: datetime) -> GradesExport:
    """The grades of the last ``weeks`` ISO weeks as CSV; ``weeks`` absent: the longest
    scoring window of any task type (what `/audit export` sends)."""
    if weeks is None:
        weeks = max(t.policy.window_weeks for t in workspace.task_types)
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be between 1 and {MAX_WEEKS} (got {weeks})")
    window = window_weeks(workspace, now, weeks)
    # SQLAlchemy's select(): SQLModel's is typed for at most four columns.
    rows = session.execute(
        select(AuditThread, Sample, col(TrainerOutput.id), col(TrainerOutput.gold_grade), Grade)
        .join(Sample, col(Sample.thread_id) == AuditThread.id)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .join(Grade, col(Grade.sample_id) == Sample.id)
        .where(col(AuditThread.iso_week).in_(window))
        .order_by(col(AuditThread.iso_week), col(AuditThread.task_type),
                  col(AuditThread.trainer), col(Sample.position), col(Grade.created_at))
    ).all()
    blind = blind_samples(session, {sample.id or 0 for _, sample, _, _, _ in rows})
    configured = {t.key for t in workspace.task_types}
    cards = scorecards(session, workspace, now=now, pairs=sorted(
        {(thread.trainer, thread.task_type) for thread, *_ in rows
         if thread.task_type in configured}))
    lines: list[list[str]] = []
    for thread, sample, output_id, gold, grade in rows:
        where = [thread.iso_week, thread.task_type, thread.trainer,
                 f"{sample.position + 1} of {thread.sample_count}", output_id]
        card = scorecard_cells(cards.get((thread.trainer, thread.task_type)))
        if sample.id in blind:  # a lone first grade: that it exists, nothing of it
            lines.append([*where, "", "", "", "", "", AWAITING, "yes" if gold else "no",
                          *card])
            continue
        lines.append([
            *where, grade.reviewer, grade.grade, grade.category or "",
            grade.explanation or "", grade.updated_at.isoformat(timespec="seconds"),
            "yes" if sample.needs_double_review else "no", "yes" if gold else "no", *card,
        ])
    return GradesExport(filename=f"auditbot-grades-{window[0]}-to-{window[-1]}.csv",
                        csv=csv_text(COLUMNS, lines), rows=len(rows) - len(blind),
                        weeks=tuple(window),
                        awaiting=len(blind))


def scorecard_cells(card: Scorecard | None) -> list[str]:
    """The ``SCORECARD_COLUMNS`` of one trainer and task type (empty without a card)."""
    if card is None:
        return [""] * len(SCORECARD_COLUMNS)
    cells: list[str] = []
    for d in card.dimensions:
        cells += [_number(d.value), _number(d.lower), _number(d.upper), str(d.n),
                  _trend(d)]
    return [*cells, _number(card.team_alpha), " ".join(card.watch)]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _trend(d: Dimension) -> str:
    return " ".join("–" if v is None else f"{v:.2f}" for v in d.weekly)
