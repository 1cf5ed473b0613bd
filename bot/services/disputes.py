"""Disputes: samples whose reviewers disagree by a whole step or more, until a manager settles.

Usage (the caller commits)::

    open_ = list_disputes(session, workspace, user="U0MANAGER1")    # plain DisputeView data
    view = settle(session, workspace, sample_id=7, manager="U0MANAGER1", grade="major",
                  note="The dose is wrong for a patient with CKD.", now=now)

What counts as a dispute
------------------------
Grades sit on an ordinal scale, pass = 0, minor = 1, major = 2 (``bot.services.agreement``).
A *whole step* (``Scale.whole_step``) is two ranks: here one end of the scale against the
other, Pass against Major error. Pass against Minor issue, or Minor against Major, is half a step:
the reviewers partly agree (both saw the output as usable, or both saw a flaw), and the
sample counts with the mean weight of their grades like any sample. So a sample is
**disputed** when the current grades of its reviewers are a whole step (2) or more ranks
apart, and no manager has settled it yet. (It is independent of ``grade_weights``: a policy
weighting minor close to pass does not turn Pass vs Major into agreement.)

Disputed is derived from the grades, never stored, so it always matches them: a reviewer who
changes their grade after seeing the other's can end a dispute or start one. A disputed
sample is not graded yet in the trainer's score (``bot.services.standings``): its week is
not fully graded, so the escalation test waits. A manager's settlement is stored (one per
sample, unique) and is final: the sample then counts once, with the settled grade. A
dispute nobody settles within ``[policy] disagreement_deadline`` of its last grade lapses
(``lapse_overdue``, run by the escalation check; one ``DisagreementLapse`` row per sample):
from then on the mean of both grades counts, and it leaves the list (a manager may still
settle it from its notice).
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from bot.common.errors import AuditbotError, InvalidGrade, NotAManager, OwnOutput
from bot.common.grades import scale_in_force
from bot.common.text import visible_length
from bot.services.grading import MIN_EXPLANATION, ConflictOfInterest
from bot.services.outbox import OutboxKind, enqueue_update
from bot.services.reviews import Review, samples_with_reviews
from bot.services.tallies import contribution, holds_dispute, lock_sample, move
from bot.store.models import AuditThread, Grade, Sample
from bot.store.models.consistency import DisagreementLapse, DisputeSettlement
from bot.workspace import Workspace


class AlreadySettled(AuditbotError):
    pass


class NotDisputed(AuditbotError):
    pass


@dataclass(frozen=True)
class Settlement:
    manager: str
    grade: str
    note: str
    settled_at: datetime


@dataclass(frozen=True)
class DisputeView:
    """A disputed (or settled) sample with both reviews, for lists, modals and messages."""

    sample_id: int
    task_type: str
    trainer: str
    week: str
    position: int  # 0-based
    count: int
    output_id: str
    channel: str
    message_ts: str | None
    reviews: tuple[Review, ...]
    settlement: Settlement | None = None

    @property
    def status(self) -> str:
        return "settled" if self.settlement else "open"


def is_disagreement(grades: Iterable[str]) -> bool:
    """True when some two of these grades are a whole step or more apart (on the scale in
    force: ``Scale.whole_step``)."""
    scale = scale_in_force()
    rank = scale.rank
    ranks = [rank[g] for g in grades]
    return len(ranks) >= 2 and max(ranks) - min(ranks) >= scale.whole_step


def settlements(session: Session, sample_ids: Iterable[int]) -> dict[int, Settlement]:
    ids = list(sample_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(DisputeSettlement).where(col(DisputeSettlement.sample_id).in_(ids))).all()
    return {r.sample_id: Settlement(r.settled_by, r.grade, r.note, r.settled_at) for r in rows}


def dispute_outcomes(session: Session,
                     grades: Mapping[int, Sequence[str]]) -> dict[int, Settlement | None]:
    """For scoring: which of these samples (id → its reviewers' current grades) are affected.

    A settled sample maps to its ``Settlement`` (count it with that grade); an open dispute
    maps to ``None`` (not graded yet, unless it lapsed: ``lapsed_disagreements``); every
    other sample is absent (count it as graded).
    """
    settled = settlements(session, [sid for sid, given in grades.items() if len(given) >= 2])
    outcome: dict[int, Settlement | None] = dict(settled)
    outcome.update({sid: None for sid, given in grades.items()
                    if sid not in settled and is_disagreement(given)})
    return outcome


def lapsed_disagreements(session: Session, sample_ids: Iterable[int]) -> set[int]:
    """Those of ``sample_ids`` whose disagreement outlived its deadline (both grades count)."""
    ids = list(sample_ids)
    if not ids:
        return set()
    return set(session.exec(select(DisagreementLapse.sample_id)
                            .where(col(DisagreementLapse.sample_id).in_(ids))).all())


def lapse_overdue(session: Session, workspace: Workspace, *, now: datetime) -> list[int]:
    """Lapse the window's open disputes whose last grade is older than their task type's
    ``disagreement_deadline``: each then counts with both grades, moved in its tally in
    this transaction. Returns the samples lapsed (none twice: one row per sample)."""
    views = list_disputes(session, workspace, now=now)
    if not views:
        return []
    last = dict(session.exec(select(Grade.sample_id, func.max(Grade.updated_at))
                             .where(col(Grade.sample_id).in_([v.sample_id for v in views]))
                             .group_by(col(Grade.sample_id))).all())
    lapsed = []
    for view in views:
        try:
            deadline = workspace.task_type(view.task_type).policy.disagreement_deadline
        except KeyError:
            continue
        since = last.get(view.sample_id)
        if since is None or now < since + deadline:
            continue
        lock_sample(session, view.sample_id)
        before = contribution(session, view.sample_id)
        try:
            with session.begin_nested():
                session.add(DisagreementLapse(sample_id=view.sample_id, lapsed_at=now))
                session.flush()
                move(session, before, contribution(session, view.sample_id))
        except IntegrityError:
            continue  # another replica lapsed it first
        enqueue_update(session, kind=OutboxKind.SAMPLE_UPDATE, ref_id=view.sample_id,
                       channel=view.channel, now=now)
        lapsed.append(view.sample_id)
    session.flush()
    return lapsed


def visible_task_types(workspace: Workspace, user: str) -> tuple[str, ...]:
    """Managers see every task type's disputes, reviewers those of the types they review."""
    if workspace.is_manager(user):
        return tuple(t.key for t in workspace.task_types)
    return tuple(t.key for t in workspace.reviewer_task_types(user))


def list_disputes(session: Session, workspace: Workspace, *, user: str | None = None,
                  task_types: Iterable[str] | None = None, include_settled: bool = False,
                  now: datetime | None = None) -> list[DisputeView]:
    """Open disputes (and settled ones if asked), oldest first, of the task types ``user``
    may see (or of ``task_types``; all when both are ``None``). With ``now``, only the
    window's (each task type's ``window_weeks`` ending with the week of ``now``): the
    query then reads the window's samples and their grades, never the whole history."""
    where = _listed(session, workspace, user=user, task_types=task_types,
                    include_settled=include_settled, now=now)
    if where is None:
        return []
    views = _views(session, *where)
    return [v for v in views if include_settled or v.settlement is None]


@dataclass(frozen=True)
class DisputePage:
    """The oldest open disputes a list shows, and how many there are in all."""

    views: tuple[DisputeView, ...]
    total: int


def open_disputes(session: Session, workspace: Workspace, *, user: str, now: datetime,
                  limit: int) -> DisputePage:
    """The first ``limit`` of ``list_disputes(user=user, now=now)`` and their number: the
    page is chosen in SQL, so only its samples and their grades are loaded."""
    where = _listed(session, workspace, user=user, task_types=None, include_settled=False,
                    now=now)
    if where is None:
        return DisputePage(views=(), total=0)
    first = (select(col(Sample.id)).join(AuditThread, col(AuditThread.id) == Sample.thread_id)
             .where(*where).order_by(col(AuditThread.iso_week), col(Sample.id)).limit(limit))
    views = _views(session, col(Sample.id).in_(first))
    return DisputePage(views=tuple(v for v in views if v.settlement is None),
                       total=_count(session, where))


def count_open_disputes(session: Session, workspace: Workspace, *, user: str,
                        now: datetime) -> int:
    """How many open disputes ``list_disputes(user=user, now=now)`` lists, counted in SQL."""
    where = _listed(session, workspace, user=user, task_types=None, include_settled=False,
                    now=now)
    return 0 if where is None else _count(session, where)


def _count(session: Session, where: list[ColumnElement[bool]]) -> int:
    return session.exec(select(func.count(col(Sample.id)))
                        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
                        .where(*where)).one()


def _listed(session: Session, workspace: Workspace, *, user: str | None,
            task_types: Iterable[str] | None, include_settled: bool,
            now: datetime | None) -> list[ColumnElement[bool]] | None:
    """The conditions on a sample (joined to its thread) for the lists above; None: none."""
    keys = (tuple(task_types) if task_types is not None
            else visible_task_types(workspace, user) if user is not None
            else tuple(t.key for t in workspace.task_types))
    if not keys:
        return None
    graded = aliased(Grade)
    reviews = (select(func.count()).where(col(graded.sample_id) == Sample.id)
               .correlate(Sample).scalar_subquery())
    where = [col(AuditThread.task_type).in_(keys), reviews >= 2]
    if not include_settled:
        where += [_disagreeing(), ~exists().where(
            col(DisputeSettlement.sample_id) == Sample.id), ~exists().where(
            col(DisagreementLapse.sample_id) == Sample.id)]
    if now is not None:
        from bot.services.standings import window_weeks  # standings imports this module

        weeks = sorted({w for key in keys for w in window_weeks(
            workspace, now, workspace.task_type(key).policy.window_weeks)})
        where.append(col(AuditThread.iso_week).in_(weeks))
        if not include_settled:  # only the trainer-weeks the tallies say hold one
            where.append(holds_dispute(task_types=keys, weeks=weeks))
    return where


def _disagreeing() -> ColumnElement[bool]:
    """``is_disagreement`` in SQL: the sample has two grades a whole step or more apart
    (``_views`` applies the rule itself too)."""
    def has(grade: str) -> ColumnElement[bool]:
        given = aliased(Grade)
        return exists().where(col(given.sample_id) == Sample.id, col(given.grade) == grade)

    scale = scale_in_force()
    rank = scale.rank
    return or_(*(and_(has(low), has(high)) for low in rank for high in rank
                 if rank[high] - rank[low] >= scale.whole_step))


def sample_dispute(session: Session, sample_id: int, *,
                   reviewers: int | None = None) -> DisputeView | None:
    """The sample's dispute, open or settled; ``None`` when it is not (or no longer) one.
    ``reviewers``: how many reviewers graded it, when the caller has read that already: a
    dispute is between two reviews, so with fewer there is nothing to read."""
    if reviewers is not None and reviewers < 2:
        return None
    views = _views(session, col(Sample.id) == sample_id)
    return views[0] if views else None


def load_dispute(session: Session, sample_id: int) -> DisputeView:
    """``sample_dispute``, or the refusal a manager reads when there is nothing to settle."""
    view = sample_dispute(session, sample_id)
    if view is None:
        raise NotDisputed("That sample is not disputed any more: its reviewers no longer "
                          "disagree by a whole step.")
    return view


def check_may_settle(workspace: Workspace, view: DisputeView, *, user: str) -> None:
    if not workspace.is_manager(user):
        raise NotAManager("Only managers can settle disputes between reviewers.")
    if view.trainer == user:
        raise OwnOutput("This is your own output: another manager has to settle it.")
    trainer = workspace.trainer(view.trainer)
    if trainer is not None and trainer.lead == user:
        raise ConflictOfInterest(
            f"You lead <@{view.trainer}>: another manager has to settle this dispute.")


def settle_problems(grade: str | None, note: str | None) -> dict[str, str]:
    """What is wrong with a settlement's grade and note, by field (empty when it is fine)."""
    problems: dict[str, str] = {}
    if grade is None or grade not in scale_in_force():
        problems["grade"] = "Choose the sample's grade."
    seen = visible_length(note)
    if seen < MIN_EXPLANATION:
        problems["note"] = (f"Explain the decision in at least {MIN_EXPLANATION} characters "
                            f"(you wrote {seen}): both reviewers will read it.")
    return problems


def settle(session: Session, workspace: Workspace, *, sample_id: int, manager: str, grade: str,
           note: str, now: datetime) -> DisputeView:
    """Settle a dispute with the sample's grade and a note; returns it, settled.

    Refuses (typed errors) a non-manager, a sample not disputed, one already settled
    otherwise, and a grade or note that ``settle_problems`` rejects. The same settlement
    submitted again (a retry, a double click) changes nothing and is no error. The sample
    message is updated.
    """
    lock_sample(session, sample_id)  # grades and settlements of a sample take turns
    view = load_dispute(session, sample_id)
    check_may_settle(workspace, view, user=manager)
    problems = settle_problems(grade, note)
    if problems:
        raise InvalidGrade(" ".join(problems.values()))
    if view.settlement is not None:
        if _same(view.settlement, manager=manager, grade=grade, note=note):
            return view  # a resubmitted or replayed form: already done, nothing changes
        raise _already(view.settlement)
    row = DisputeSettlement(
        sample_id=sample_id, task_type=view.task_type, trainer=view.trainer,
        settled_by=manager, grade=grade, note=note.strip(), settled_at=now,
        reviews_json=json.dumps({r.reviewer: r.grade for r in view.reviews}))
    before = contribution(session, sample_id)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            move(session, before, contribution(session, sample_id))
    except IntegrityError:
        # Another manager (or a replayed submission) settled it between our read and insert.
        existing = settlements(session, [sample_id])[sample_id]
        if _same(existing, manager=manager, grade=grade, note=note):
            return replace(view, settlement=existing)
        raise _already(existing) from None
    enqueue_update(session, kind=OutboxKind.SAMPLE_UPDATE, ref_id=sample_id,
                   channel=view.channel, now=now)
    session.flush()
    return replace(view, settlement=Settlement(manager, grade, row.note, now))


def _same(settlement: Settlement, *, manager: str, grade: str, note: str) -> bool:
    return (settlement.manager, settlement.grade, settlement.note) == (manager, grade,
                                                                       note.strip())


def _already(settlement: Settlement) -> AlreadySettled:
    return AlreadySettled(f"<@{settlement.manager}> already settled this dispute as "
                          f"{_label(settlement.grade)}.")


def _views(session: Session, *where: ColumnElement[bool]) -> list[DisputeView]:
    found = samples_with_reviews(session, *where)
    settled = settlements(session, found)
    views = []
    for sample_id, s in found.items():
        if sample_id not in settled and not is_disagreement(r.grade for r in s.reviews):
            continue
        views.append(DisputeView(
            sample_id=sample_id, task_type=s.thread.task_type, trainer=s.thread.trainer,
            week=s.thread.iso_week, position=s.sample.position, count=s.thread.sample_count,
            output_id=s.sample.output_id, channel=s.thread.channel,
            message_ts=s.sample.message_ts, reviews=s.reviews,
            settlement=settled.get(sample_id)))
    return views


def _label(grade: str) -> str:
    scale = scale_in_force()
    return scale.label_of(grade) if grade in scale else grade
