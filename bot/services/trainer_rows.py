"""One row per trainer and task type that a manager or lead oversees, riskiest first, paged.

Usage::

    page = trainer_rows(session, workspace, viewer="U0MANAGER1", now=now, page=0)
    page.total, page.pages, page.number
    for row in page.rows:
        row.trainer, row.task_name, row.state, row.score, row.lower, row.upper, row.weekly

Managers see every trainer, a lead the trainers they lead, anyone else no rows (a trainer
never sees a peer's row; ``bot.services.visibility`` has the last word). The order comes
from what the escalation check stored (``trainer_state``) and the open escalations:
escalated, watch, below the threshold (confidently, not escalated: e.g. resolved by hand),
too few grades, ok; then by score, lowest first. The numbers shown on a row come from the
trainer-week tallies (``bot.services.standings.tally_standings``) through the scorecard
(``bot.services.scorecard.scorecards``: precision, consistency, clarity, each with its watch
mark), read for the page's rows only: a page costs the two ordering queries, one tally read
and three grouped reads per task type shown, whatever the team's size.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.services.scorecard import Scorecard, scorecards
from bot.services.visibility import may_see_trainer
from bot.store.models import Escalation, TrainerState
from bot.workspace import Workspace

ROWS_PAGE = 20
RISK = ("escalated", "watch", "below", "insufficient", "ok")
STORED = {"watch": "watch", "escalate": "below", "insufficient": "insufficient", "ok": "ok"}


@dataclass(frozen=True)
class TrainerRow:
    trainer: str
    task_type: str
    task_name: str
    state: str  # one of RISK
    score: float | None
    lower: float | None
    upper: float | None
    confidence: float  # of each one-sided bound
    threshold: float
    weekly: tuple[float | None, ...]  # the window's weeks, oldest first
    graded: int
    scorecard: Scorecard | None = None  # precision, consistency, clarity with watch marks


@dataclass(frozen=True)
class TrainerRows:
    rows: tuple[TrainerRow, ...]
    number: int  # 0-based page, clamped to what exists
    pages: int
    total: int  # rows in all pages
    first: int = 0  # the 0-based place of the page's first row among all


def overseen(workspace: Workspace, *, viewer: str) -> list[tuple[str, str]]:
    """(trainer, task type) pairs ``viewer`` gets a row for, in config order."""
    if workspace.is_manager(viewer):
        trainers = list(workspace.trainers)
    else:
        trainers = [t for t in workspace.trainers if t.lead == viewer and t.user != viewer]
    seen = [t for t in trainers if may_see_trainer(workspace, viewer=viewer, trainer=t.user)]
    return [(t.user, key) for t in seen for key in t.task_types]


def trainer_rows(session: Session, workspace: Workspace, *, viewer: str, now: datetime,
                 page: int = 0, size: int = ROWS_PAGE) -> TrainerRows:
    pairs = overseen(workspace, viewer=viewer)
    if not pairs:
        return TrainerRows(rows=(), number=0, pages=1, total=0)
    risk = _risks(session, pairs)
    ordered = sorted(pairs, key=lambda p: (RISK.index(risk[p][0]),
                                           risk[p][1] if risk[p][1] is not None else 2.0,
                                           p[1], p[0]))
    pages = max(1, -(-len(ordered) // size))
    number = min(max(0, page), pages - 1)
    shown = ordered[number * size:(number + 1) * size]
    cards = scorecards(session, workspace, pairs=shown, now=now)
    rows = []
    for trainer, key in shown:
        card = cards[(trainer, key)]
        p = card.precision  # the standing's score, bounds and weeks (tally_standings)
        rows.append(TrainerRow(
            trainer=trainer, task_type=key, task_name=card.task_name,
            state=risk[(trainer, key)][0], score=p.value, lower=p.lower, upper=p.upper,
            confidence=card.confidence, threshold=workspace.task_type(key).policy.pass_threshold,
            weekly=p.weekly, graded=p.n, scorecard=card))
    return TrainerRows(rows=tuple(rows), number=number, pages=pages, total=len(ordered),
                       first=number * size)


def _risks(session: Session,
           pairs: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, float | None]]:
    """Each pair's state for the order, and the score the last check stored."""
    keys = sorted({key for _, key in pairs})
    wanted = set(pairs)
    stored = session.exec(select(TrainerState.trainer, TrainerState.task_type,
                                 TrainerState.state, TrainerState.score)
                          .where(col(TrainerState.task_type).in_(keys))).all()
    escalated = set(session.exec(select(Escalation.trainer, Escalation.task_type)
                                 .where(Escalation.status == "open")).all())
    risk: dict[tuple[str, str], tuple[str, float | None]] = dict.fromkeys(
        pairs, ("insufficient", None))
    for trainer, key, state, score in stored:
        if (trainer, key) in wanted:
            risk[(trainer, key)] = (STORED.get(state, "insufficient"), score)
    for pair in escalated & wanted:
        risk[pair] = ("escalated", risk[pair][1])
    return risk
