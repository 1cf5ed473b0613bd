"""Trainer disputes: a trainer pushes back on a non-pass grade, a second reviewer decides blind.

Usage (the caller commits)::

    item = check_may_dispute(session, workspace, sample_id=7, user="U0TRAINER1", now=now)
    opened = open_trainer_dispute(session, workspace, sample_id=7, trainer="U0TRAINER1",
                                  reasoning="The dose is right for ...", now=now)
    opened.second_reviewer      # who decides (None: no eligible reviewer, managers see it)
    decided = decide_trainer_dispute(session, workspace, sample_id=7, reviewer="U0MDOCTOR",
                                     outcome="overturned", grade="pass",
                                     reason="The dose is within the label ...", now=now)

Not to be confused with ``bot.services.disputes``: there two reviewers of a double review
disagree and a manager settles. Here the *trainer* disputes the grade they were given
(once per sample, within ``dispute_within`` of the feedback that showed it). The sample
goes to a different reviewer of the task type (never one who graded it, never the trainer's
lead; the least loaded, then config order), who sees the output and the trainer's reasoning
but not the first grade, its category, explanation or reviewer, and upholds or overturns
it with a written reason. While the dispute is open the sample counts nowhere and its week
is not fully graded; an overturned grade replaces the first one. Both moves of the tallies
happen in the same transaction (``bot.services.tallies``).
"""

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.common.errors import AuditbotError, InvalidGrade, NotFound
from bot.common.grades import scale_in_force
from bot.common.text import visible_length
from bot.services.blind import blind_samples
from bot.services.disputes import is_disagreement
from bot.services.grading import MIN_EXPLANATION
from bot.services.outbox import OutboxKind, enqueue_update
from bot.services.people import NotAllowed
from bot.services.reviews import Review, samples_with_reviews
from bot.services.tallies import contribution, lock_sample, move
from bot.store.models import AuditThread, Grade, Sample, TrainerOutput
from bot.store.models.consistency import DisputeSettlement
from bot.store.models.feedback import TrainerDispute, TrainerFeedback
from bot.workspace import Workspace
from bot.workspace.timing import format_duration

OPEN, UPHELD, OVERTURNED = "open", "upheld", "overturned"
OUTCOMES = (UPHELD, OVERTURNED)
MIN_REASONING = MIN_EXPLANATION  # 20 visible characters, as a reviewer's explanation


class DisputeRefused(AuditbotError):
    """A dispute click or form refused: a second dispute, too late, a Pass, not theirs."""


@dataclass(frozen=True)
class CountedSample:
    """A sample as its trainer is told about it: the grades it counts with (``None``: not
    final yet: ungraded, a double review still blind, an open disagreement or dispute)."""

    sample_id: int
    thread_id: int
    trainer: str
    task_type: str
    week: str
    position: int
    count: int
    channel: str
    message_ts: str | None
    output_id: str
    counted: tuple[Review, ...] | None
    dispute: TrainerDispute | None

    @property
    def non_pass(self) -> bool:
        best = scale_in_force().best
        return self.counted is not None and any(r.grade != best for r in self.counted)


def trainer_disputes_of(session: Session, sample_ids: Iterable[int]) -> list[TrainerDispute]:
    ids = sorted(set(sample_ids))
    if not ids:
        return []
    return list(session.exec(select(TrainerDispute)
                             .where(col(TrainerDispute.sample_id).in_(ids))).all())


def counted_samples(session: Session, *, thread_id: int | None = None,
                    sample_id: int | None = None) -> list[CountedSample]:
    """The audit thread's samples (or one sample) as the trainer is told about them, in
    position order; calibration items are left out (they test reviewers, not trainers)."""
    where = [col(Sample.thread_id) == thread_id] if thread_id is not None else \
        [col(Sample.id) == sample_id]
    rows = session.exec(
        select(Sample, AuditThread)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .where(*where, col(TrainerOutput.gold_grade).is_(None))
        .order_by(col(Sample.position))).all()
    ids = [s.id or 0 for s, _ in rows]
    reviewed = samples_with_reviews(session, col(Sample.id).in_(ids)) if ids else {}
    blind = blind_samples(session, ids)
    settled = {r.sample_id: r for r in session.exec(
        select(DisputeSettlement).where(col(DisputeSettlement.sample_id).in_(ids))).all()} \
        if ids else {}
    pushed = {d.sample_id: d for d in trainer_disputes_of(session, ids)}
    result = []
    for sample, thread in rows:
        sid = sample.id or 0
        reviews = reviewed[sid].reviews if sid in reviewed else ()
        dispute = pushed.get(sid)
        counted: tuple[Review, ...] | None
        if dispute is not None and dispute.status == OPEN:
            counted = None
        elif dispute is not None and dispute.status == OVERTURNED and dispute.grade:
            counted = (Review(dispute.second_reviewer or "", dispute.grade, None,
                              dispute.reason),)
        elif not reviews or sid in blind:
            counted = None
        elif sid in settled:
            s = settled[sid]
            counted = (Review(s.settled_by, s.grade, None, s.note),)
        elif is_disagreement(r.grade for r in reviews):
            counted = None
        else:
            counted = reviews
        result.append(CountedSample(
            sample_id=sid, thread_id=thread.id or 0, trainer=thread.trainer,
            task_type=thread.task_type, week=thread.iso_week, position=sample.position,
            count=thread.sample_count, channel=thread.channel, message_ts=sample.message_ts,
            output_id=sample.output_id, counted=counted, dispute=dispute))
    return result


def feedback_given_at(session: Session, item: CountedSample) -> datetime | None:
    """When the trainer was first shown this sample's grade (its own DM or the week's)."""
    return session.exec(
        select(func.min(TrainerFeedback.given_at))
        .where(col(TrainerFeedback.key).in_([f"item:{item.sample_id}",
                                             f"week:{item.thread_id}"]))).one()


def check_may_dispute(session: Session, workspace: Workspace, *, sample_id: int, user: str,
                      now: datetime) -> CountedSample:
    """The sample, or the refusal the clicker reads: not the trainer, a second dispute, a
    Pass, too late (or never shown to them)."""
    found = counted_samples(session, sample_id=sample_id)
    if not found:
        raise NotFound("That sample is no longer in the audit.")
    item = found[0]
    if item.trainer != user:
        raise NotAllowed("Only the trainer whose output this is can dispute its grade.")
    if item.dispute is not None:
        state = {OPEN: "it is waiting for a second reviewer",
                 UPHELD: "the second reviewer upheld the grade",
                 OVERTURNED: "the second reviewer overturned the grade"}[item.dispute.status]
        raise DisputeRefused(f"You already disputed this grade ({state}): a sample can be "
                             "disputed once.")
    if item.counted is not None and not item.non_pass:
        raise DisputeRefused("This sample was graded Pass: there is nothing to dispute.")
    if item.counted is None:
        raise DisputeRefused("This sample's grade is not final yet: you can dispute it once "
                             "its review is complete.")
    given = feedback_given_at(session, item)
    within = workspace.task_type(item.task_type).policy.dispute_within
    if given is None:
        raise DisputeRefused("This grade has not been sent to you as feedback yet.")
    if now > given + within:
        closed = (given + within).astimezone(workspace.tz)
        raise DisputeRefused(f"Too late: grades can be disputed within "
                             f"{format_duration(within)} of the feedback, and this one closed on "
                             f"{closed:%a %d %b %H:%M}.")
    return item


def reasoning_problem(reasoning: str | None) -> str | None:
    seen = visible_length(reasoning)
    if seen < MIN_REASONING:
        return (f"Explain why the grade is wrong in at least {MIN_REASONING} characters "
                f"(you wrote {seen}): a second reviewer decides from it.")
    return None


@dataclass(frozen=True)
class OpenedDispute:
    dispute: TrainerDispute
    item: CountedSample
    created: bool  # False: the same dispute submitted again (a retry)


def open_trainer_dispute(session: Session, workspace: Workspace, *, sample_id: int,
                         trainer: str, reasoning: str, now: datetime) -> OpenedDispute:
    """Store the trainer's dispute, assign the second reviewer and take the sample out of
    the score until they decide. The same dispute submitted again changes nothing."""
    lock_sample(session, sample_id)
    existing = trainer_disputes_of(session, [sample_id])
    if existing and existing[0].trainer == trainer and \
            existing[0].reasoning == reasoning.strip():
        item = counted_samples(session, sample_id=sample_id)[0]
        return OpenedDispute(existing[0], item, created=False)
    item = check_may_dispute(session, workspace, sample_id=sample_id, user=trainer, now=now)
    problem = reasoning_problem(reasoning)
    if problem:
        raise InvalidGrade(problem)
    assert item.counted is not None
    graders = set(session.exec(select(Grade.reviewer).where(Grade.sample_id == sample_id)).all())
    graders |= {r.reviewer for r in item.counted}
    second = pick_second_reviewer(session, workspace, task_type=item.task_type,
                                  trainer=trainer, exclude=graders)
    row = TrainerDispute(
        sample_id=sample_id, trainer=trainer, task_type=item.task_type, iso_week=item.week,
        reasoning=reasoning.strip(),
        first_json=json.dumps([{"reviewer": r.reviewer, "grade": r.grade}
                               for r in item.counted]),
        second_reviewer=second, status=OPEN, opened_at=now)
    before = contribution(session, sample_id)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            move(session, before, contribution(session, sample_id))
    except IntegrityError:
        raise DisputeRefused("You already disputed this grade: a sample can be disputed "
                             "once.") from None
    enqueue_update(session, kind=OutboxKind.SAMPLE_UPDATE, ref_id=sample_id,
                   channel=item.channel, now=now)
    session.flush()
    return OpenedDispute(row, item, created=True)


def pick_second_reviewer(session: Session, workspace: Workspace, *, task_type: str,
                         trainer: str, exclude: set[str]) -> str | None:
    """A reviewer of the task type who did not grade the sample and does not lead (or
    be) the trainer: the one with the fewest open disputes to decide, then config order."""
    found = workspace.trainer(trainer)
    lead = found.lead if found else None
    eligible = [r for r in workspace.task_type(task_type).reviewers
                if r not in exclude and r != lead and r != trainer]
    if not eligible:
        return None
    load = Counter(dict(session.exec(
        select(TrainerDispute.second_reviewer, func.count())
        .where(TrainerDispute.status == OPEN, col(TrainerDispute.second_reviewer).in_(eligible))
        .group_by(col(TrainerDispute.second_reviewer))).all()))
    return min(eligible, key=lambda r: (load[r], eligible.index(r)))


def decision_problems(outcome: str, grade: str | None, reason: str | None,
                      disputed: Sequence[str] = ()) -> dict[str, str]:
    """What is wrong with a decision, by field: ``grade`` and ``reason``."""
    problems: dict[str, str] = {}
    if outcome == OVERTURNED:
        scale = scale_in_force()
        if grade is None or grade not in scale:
            problems["grade"] = "Choose the corrected grade."
        elif disputed and all(g == grade for g in disputed):
            problems["grade"] = (f"{scale.label_of(grade)} is the grade under dispute: choose "
                                 "Uphold if you agree with it.")
    seen = visible_length(reason)
    if seen < MIN_REASONING:
        problems["reason"] = (f"Give your reason in at least {MIN_REASONING} characters "
                              f"(you wrote {seen}): the trainer and the first reviewer "
                              "will read it.")
    return problems


def load_trainer_dispute(session: Session, sample_id: int) -> TrainerDispute:
    found = trainer_disputes_of(session, [sample_id])
    if not found:
        raise NotFound("That dispute is no longer in the audit.")
    return found[0]


def first_grades(dispute: TrainerDispute) -> list[Review]:
    return [Review(g["reviewer"], g["grade"], None, None)
            for g in json.loads(dispute.first_json)]


def check_may_decide(workspace: Workspace, dispute: TrainerDispute, *, user: str) -> None:
    """The assigned second reviewer decides; a dispute nobody was eligible for, a manager
    who neither graded it nor leads (nor is) the trainer."""
    if dispute.status != OPEN:
        raise DisputeRefused(f"This dispute is decided already: {dispute.status}.")
    if dispute.second_reviewer is None:
        found = workspace.trainer(dispute.trainer)
        if not workspace.is_manager(user):
            raise NotAllowed("No reviewer was eligible for this dispute: a manager decides it.")
        if user == dispute.trainer or (found is not None and found.lead == user) or \
                user in {r.reviewer for r in first_grades(dispute)}:
            raise NotAllowed("You graded, lead or wrote this output: another manager has to "
                             "decide this dispute.")
        return
    if dispute.second_reviewer != user:
        raise NotAllowed("This dispute was assigned to another reviewer: only they decide it.")


def decide_trainer_dispute(session: Session, workspace: Workspace, *, sample_id: int,
                           reviewer: str, outcome: str, grade: str | None, reason: str,
                           now: datetime) -> tuple[TrainerDispute, bool]:
    """Uphold or overturn; returns the dispute and whether this call decided it (False: the
    same decision submitted again)."""
    lock_sample(session, sample_id)
    dispute = load_trainer_dispute(session, sample_id)
    if outcome not in OUTCOMES:
        raise InvalidGrade("Uphold or overturn the grade.")
    corrected = grade if outcome == OVERTURNED else None
    if dispute.status != OPEN and dispute.second_reviewer == reviewer and \
            (dispute.status, dispute.grade, dispute.reason) == (outcome, corrected,
                                                                 reason.strip()):
        return dispute, False
    check_may_decide(workspace, dispute, user=reviewer)
    problems = decision_problems(outcome, grade, reason,
                                 [g.grade for g in first_grades(dispute)])
    if problems:
        raise InvalidGrade(" ".join(problems.values()))
    before = contribution(session, sample_id)
    dispute.status, dispute.grade, dispute.reason = outcome, corrected, reason.strip()
    dispute.second_reviewer = reviewer  # a manager deciding one nobody was eligible for
    dispute.decided_at = now
    session.add(dispute)
    session.flush()
    move(session, before, contribution(session, sample_id))
    thread_channel = session.exec(select(AuditThread.channel)
                                  .join(Sample, col(Sample.thread_id) == AuditThread.id)
                                  .where(Sample.id == sample_id)).one()
    enqueue_update(session, kind=OutboxKind.SAMPLE_UPDATE, ref_id=sample_id,
                   channel=thread_channel, now=now)
    session.flush()
    return dispute, True


# --- for managers ------------------------------------------------------------------------------

def open_trainer_disputes(session: Session, *, task_types: Sequence[str]) -> list[TrainerDispute]:
    """Open trainer disputes of these task types, oldest first (an open one is never old
    history: it waits for a decision, so the list is short)."""
    if not task_types:
        return []
    return list(session.exec(
        select(TrainerDispute)
        .where(TrainerDispute.status == OPEN, col(TrainerDispute.task_type).in_(task_types))
        .order_by(col(TrainerDispute.opened_at), col(TrainerDispute.id))).all())


@dataclass(frozen=True)
class OverturnRate:
    reviewer: str
    decided: int  # disputes of their grades decided in the window
    overturned: int

    @property
    def rate(self) -> float | None:
        return self.overturned / self.decided if self.decided else None


def overturn_rates(session: Session, *, task_type: str,
                   weeks: Sequence[str]) -> dict[str, OverturnRate]:
    """Per first reviewer: how many of their disputed grades of the window's weeks were
    decided, and how many overturned."""
    return overturn_rates_of(session, weeks={task_type: weeks}).get(task_type, {})


def overturn_rates_of(session: Session, *,
                      weeks: Mapping[str, Sequence[str]]) -> dict[str, dict[str, OverturnRate]]:
    """``overturn_rates`` of each task type of ``weeks`` over its weeks, in one query."""
    if not weeks:
        return {}
    every = sorted({w for ws in weeks.values() for w in ws})
    rows = session.exec(
        select(TrainerDispute.task_type, TrainerDispute.iso_week, TrainerDispute.first_json,
               TrainerDispute.status)
        .where(col(TrainerDispute.task_type).in_(sorted(weeks)),
               col(TrainerDispute.iso_week).in_(every), TrainerDispute.status != OPEN)).all()
    decided: dict[str, Counter[str]] = defaultdict(Counter)
    overturned: dict[str, Counter[str]] = defaultdict(Counter)
    for key, week, first, status in rows:
        if week not in weeks[key]:
            continue
        for reviewer in {g["reviewer"] for g in json.loads(first)}:
            decided[key][reviewer] += 1
            overturned[key][reviewer] += status == OVERTURNED
    return {key: {r: OverturnRate(r, decided[key][r], overturned[key][r]) for r in by}
            for key, by in decided.items()}
