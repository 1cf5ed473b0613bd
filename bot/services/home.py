"""What someone's App Home shows, by who they are (plain data; ``home_blocks`` draws it).

Usage::

    home = home_data(session, workspace, user="U0NURSE01", now=now, pages={"queue": 1})

A person may be several things at once, and sees a part for each: a reviewer their queue
and grading stats, a lead their trainers (one row per trainer and task type, riskiest
first), a manager every task type, every trainer's row and the open escalations, a trainer
their own recent graded samples, score and scorecard (precision, consistency, clarity:
only their own, as ``bot.services.visibility`` says). Someone auditbot does not
know gets a paragraph on what it does and whom to ask. Long lists come a page at a time
(``pages``: part → page number), so the Home stays within Slack's 100 blocks however large
the team.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from bot.common.grades import scale_in_force
from bot.services.blind import revealed
from bot.services.disputes import count_open_disputes
from bot.services.escalation_view import EscalationOverview, escalation_overview
from bot.services.pending import PendingList, pending_for
from bot.services.people import Roles, roles_of
from bot.services.reviews import samples_with_reviews
from bot.services.scorecard import Scorecard, scorecards
from bot.services.scoring import Standing, standing
from bot.services.standings import window_samples, window_weeks
from bot.services.status import TeamStatus, team_status
from bot.services.trainer_disputes import open_trainer_disputes
from bot.services.trainer_rows import TrainerRows, trainer_rows
from bot.services.visibility import reviewers_shown
from bot.store.models import AuditThread, Grade, Sample, TrainerOutput
from bot.workspace import Workspace

QUEUE_PAGE = 8
TRAINERS_PAGE = 20
TASK_TYPES_PAGE = 8
RECENT_SHOWN = 6


@dataclass(frozen=True)
class Page:
    number: int  # 0-based, clamped to what exists
    pages: int
    total: int


@dataclass(frozen=True)
class ReviewerStats:
    graded_week: int
    graded_window: int
    non_pass_window: int
    window_weeks: int


@dataclass(frozen=True)
class TrainerLine:
    trainer: str
    task_type: str
    task_name: str
    standing: Standing


@dataclass(frozen=True)
class RecentSample:
    task_name: str
    week: str
    position: int
    count: int
    channel: str
    message_ts: str | None
    grades: tuple[tuple[str, str, str | None, str | None], ...]  # reviewer, grade, cat, why


@dataclass(frozen=True)
class HomeData:
    user: str
    roles: Roles
    managers: tuple[str, ...]
    queue: PendingList | None = None
    queue_page: Page | None = None
    stats: ReviewerStats | None = None
    trainers: TrainerRows | None = None  # a lead's trainers, riskiest first (one page)
    team: TeamStatus | None = None
    team_page: Page | None = None
    rows: TrainerRows | None = None  # a manager's: every trainer, riskiest first (one page)
    escalations: EscalationOverview | None = None
    disputes: int = 0  # open double-review disputes a manager may settle
    trainer_disputes: tuple[tuple[str, str, datetime, str | None], ...] = ()
    # ^ open trainer disputes: (trainer, task type name, opened at, second reviewer)
    own: tuple[TrainerLine, ...] = ()
    recent: tuple[RecentSample, ...] = ()
    scorecards: tuple[Scorecard, ...] = ()  # a trainer's own, one per task type


def page_of(total: int, size: int, wanted: int) -> Page:
    pages = max(1, -(-total // size))
    return Page(number=min(max(0, wanted), pages - 1), pages=pages, total=total)


def home_data(session: Session, workspace: Workspace, *, user: str, now: datetime,
              pages: dict[str, int] | None = None) -> HomeData:
    pages = pages or {}
    roles = roles_of(workspace, user)
    parts: dict = {}
    if roles.reviews:
        wanted = max(0, pages.get("queue", 0))
        queue = pending_for(session, workspace, user=user, limit=QUEUE_PAGE,
                            offset=wanted * QUEUE_PAGE, now=now)
        page = page_of(queue.total, QUEUE_PAGE, wanted)
        if page.number != wanted:  # past the last page (the queue shrank): show the last
            queue = pending_for(session, workspace, user=user, limit=QUEUE_PAGE,
                                offset=page.number * QUEUE_PAGE, now=now)
        parts.update(queue=queue, queue_page=page,
                     stats=reviewer_stats(session, workspace, user=user, now=now))
    if roles.leads and not roles.manager:  # a manager's rows hold every trainer already
        parts.update(trainers=trainer_rows(session, workspace, viewer=user, now=now,
                                           page=pages.get("trainers", 0), size=TRAINERS_PAGE))
    if roles.manager:
        page = page_of(len(workspace.task_types), TASK_TYPES_PAGE, pages.get("team", 0))
        start = page.number * TASK_TYPES_PAGE
        chosen = workspace.task_types[start:start + TASK_TYPES_PAGE]
        parts.update(team=team_status(session, workspace, now=now, viewer=user,
                                         task_types=chosen),
                     team_page=page,
                     rows=trainer_rows(session, workspace, viewer=user, now=now,
                                       page=pages.get("rows", 0), size=TRAINERS_PAGE),
                     escalations=escalation_overview(session, workspace, viewer=user),
                     disputes=count_open_disputes(session, workspace, user=user, now=now),
                     trainer_disputes=tuple(
                         (d.trainer, _name(workspace, d.task_type), d.opened_at,
                          d.second_reviewer)
                         for d in open_trainer_disputes(
                             session, task_types=[t.key for t in workspace.task_types])))
    if roles.trainer is not None:
        own = [(user, key) for key in roles.trainer.task_types]
        cards = scorecards(session, workspace, pairs=own, now=now)
        parts.update(own=tuple(_lines(session, workspace, own, now=now)),
                     recent=recent_graded(session, workspace, trainer=user),
                     scorecards=tuple(cards[pair] for pair in own))
    return HomeData(user=user, roles=roles, managers=workspace.managers, **parts)


def _lines(session: Session, workspace: Workspace, pairs: list[tuple[str, str]], *,
           now: datetime) -> list[TrainerLine]:
    lines = []
    for trainer, key in pairs:
        task_type = workspace.task_type(key)
        weeks = window_weeks(workspace, now, task_type.policy.window_weeks)
        samples, _ = window_samples(session, workspace, trainer=trainer, task_type=key,
                                    weeks=weeks)
        lines.append(TrainerLine(trainer=trainer, task_type=key, task_name=task_type.name,
                                 standing=standing(samples, task_type.policy, weeks=weeks)))
    return lines


def reviewer_stats(session: Session, workspace: Workspace, *, user: str,
                   now: datetime) -> ReviewerStats:
    window = workspace.policy.window_weeks
    local = now.astimezone(workspace.tz)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0,
                                                                microsecond=0)
    since = monday - timedelta(weeks=window - 1)
    rows = session.exec(select(Grade.grade, Grade.created_at)
                        .where(Grade.reviewer == user, Grade.created_at >= since)).all()
    return ReviewerStats(
        graded_week=sum(1 for _, at in rows if at >= monday),
        graded_window=len(rows),
        non_pass_window=sum(1 for grade, _ in rows if grade != scale_in_force().best),
        window_weeks=window,
    )


def recent_graded(session: Session, workspace: Workspace, *, trainer: str,
                  limit: int = RECENT_SHOWN) -> tuple[RecentSample, ...]:
    """The trainer's most recently graded samples (not calibration items, and not a double
    review still waiting for its second grade: that one stays blind), for their own Home:
    without reviewers' names unless ``show_reviewer_to_trainer``."""
    newest = func.max(Grade.updated_at).label("newest")
    latest = session.exec(
        select(Sample.id, newest)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .join(Grade, col(Grade.sample_id) == Sample.id)
        .where(AuditThread.trainer == trainer, col(TrainerOutput.gold_grade).is_(None),
               revealed())
        .group_by(col(Sample.id))
        .order_by(newest.desc()).limit(limit)
    ).all()
    ids = [sid for sid, _ in latest if sid is not None]
    if not ids:
        return ()
    reviewed = samples_with_reviews(session, col(Sample.id).in_(ids))
    recent = []
    for sid in ids:
        s = reviewed[sid]
        recent.append(RecentSample(
            task_name=_name(workspace, s.thread.task_type), week=s.thread.iso_week,
            position=s.sample.position, count=s.thread.sample_count, channel=s.thread.channel,
            message_ts=s.sample.message_ts,
            grades=tuple((r.reviewer if reviewers_shown(
                workspace, viewer=trainer, trainer=trainer, task_type=s.thread.task_type)
                else "", r.grade, r.category, r.explanation) for r in s.reviews)))
    return tuple(recent)


def _name(workspace: Workspace, key: str) -> str:
    try:
        return workspace.task_type(key).name
    except KeyError:
        return key
