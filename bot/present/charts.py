"""A trainer's chart as a PNG: the score per ISO week against the threshold, the scorecard's
consistency and clarity per week beside it, and the grade mix.

    png = trainer_chart(report)            # bytes starting with b"\\x89PNG"
    series = chart_series(report.tasks[0])  # what the score panel draws, per week

Pure (a report in, bytes out) and thread-safe: it draws on its own ``Figure`` with the Agg
canvas, never through pyplot's global state, so listeners can draw at the same time.
matplotlib (and numpy under it) is imported by the first chart drawn, not with this module:
``auditbot serve`` starts without it and holds it only once someone asks for a chart.
"""

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.common.grades import scale_in_force
from bot.services.trainer_report import TaskReport, TrainerReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes

BELOW = "#ffcdd2"
SCORE = "#1565c0"
CONSISTENCY = "#6a1b9a"
CLARITY = "#00838f"


@dataclass(frozen=True)
class ChartSeries:
    """The score panel's lines, one value (or None: nothing to show) per week, oldest first.

    ``precision`` is the weighted score of each of the report's history weeks; consistency
    and clarity are the scorecard's weekly trend (``bot.services.scorecard``), which covers
    the policy's window: the history's weeks before it have None."""

    weeks: tuple[str, ...]
    precision: tuple[float | None, ...]
    consistency: tuple[float | None, ...]
    clarity: tuple[float | None, ...]


def chart_series(task: TaskReport) -> ChartSeries:
    weeks = tuple(w.week for w in task.history)
    card = task.scorecard
    consistency: dict[str, float | None] = {}
    clarity: dict[str, float | None] = {}
    if card is not None:
        consistency = dict(zip(card.weeks, card.consistency.weekly, strict=True))
        clarity = dict(zip(card.weeks, card.clarity.weekly, strict=True))
    return ChartSeries(weeks=weeks, precision=tuple(w.score for w in task.history),
                       consistency=tuple(consistency.get(w) for w in weeks),
                       clarity=tuple(clarity.get(w) for w in weeks))


def trainer_chart(report: TrainerReport, *, title: str | None = None) -> bytes:
    """One pair of panels per task type: score (with its interval) and grade counts."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tasks = report.tasks or ()
    rows = max(1, len(tasks))
    figure = Figure(figsize=(9, 4.8 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(nrows=2 * rows, ncols=1, height_ratios=[3, 2] * rows)
    figure.suptitle(title or f"Audit results · {report.trainer}", fontsize=13)
    for i, task in enumerate(tasks):
        score_axes = figure.add_subplot(grid[2 * i, 0])
        mix_axes = figure.add_subplot(grid[2 * i + 1, 0], sharex=score_axes)
        _scores(score_axes, task)
        _mix(mix_axes, task)
    if not tasks:
        figure.add_subplot(grid[0, 0]).text(0.5, 0.5, "No task types", ha="center")
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _scores(axes: "Axes", task: TaskReport) -> None:
    weeks = [w.week[-3:] for w in task.history]
    x = list(range(len(weeks)))
    axes.axhspan(0, task.threshold, color=BELOW, alpha=0.45, label="below the threshold")
    axes.axhline(task.threshold, color="#b71c1c", linestyle="--", linewidth=1,
                 label=f"threshold {task.threshold:.2f}")
    # A week has its bounds exactly when it has a score (``WeekScore``).
    shown = [(i, w.score, w.lower, w.upper) for i, w in zip(x, task.history, strict=True)
             if w.score is not None and w.lower is not None and w.upper is not None]
    if shown:
        xs = [i for i, *_ in shown]
        axes.fill_between(xs, [lower for _, _, lower, _ in shown],
                          [upper for _, _, _, upper in shown],
                          color=SCORE, alpha=0.15, linewidth=0,
                          label=f"{2 * task.current.confidence - 1:.0%} interval")
        axes.plot(xs, [score for _, score, _, _ in shown], color=SCORE, marker="o",
                  linewidth=2, label="score (precision)")
    else:
        axes.text(0.5, 0.5, "no graded samples yet", transform=axes.transAxes, ha="center",
                  color="#555555")
    series = chart_series(task)
    for values, colour, label in ((series.consistency, CONSISTENCY, "consistency"),
                                  (series.clarity, CLARITY, "clarity")):
        points = [(i, v) for i, v in zip(x, values, strict=True) if v is not None]
        if points:
            axes.plot([i for i, _ in points], [v for _, v in points], color=colour,
                      marker="s", markersize=4, linestyle="--", linewidth=1.4, label=label)
    axes.set_ylim(0, 1.02)
    axes.set_xticks(x, weeks)
    axes.set_ylabel("score · share")
    axes.set_title(f"{task.name}: precision, consistency and clarity per week", loc="left",
                   fontsize=11)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="lower left", fontsize=8, ncols=4)


def _mix(axes: "Axes", task: TaskReport) -> None:
    x = list(range(len(task.history)))
    bottom = [0.0] * len(x)
    scale = scale_in_force()
    for level in scale:
        heights = [float(w.counts.get(level.key, 0)) for w in task.history]
        axes.bar(x, heights, bottom=bottom, color=level.colour, label=level.key, width=0.7)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_ylim(0, max([*bottom, 1.0]) * 1.45)  # room for the legend above the bars
    axes.set_ylabel("grades")
    axes.set_title("grade mix", loc="left", fontsize=10)
    axes.legend(loc="upper left", fontsize=8, ncols=len(scale))
    axes.grid(axis="y", alpha=0.3)
