"""Recording reviewers' grades: who may grade, what a grade needs, latest grade wins.

Usage (the caller commits)::

    check_may_grade(workspace, session, sample_id=7, user="U0NURSE1")   # before opening a modal
    outcome = record_grade(session, workspace, sample_id=7, reviewer="U0NURSE1",
                           grade="minor", category="Factual error",
                           explanation="States the wrong dose for ...", now=now)

A grade is one row per reviewer and sample (unique), so a retried or doubled submission
updates that row to the same content and changes nothing; every real change is appended
to ``grade_event``. A double review has two slots (``Grade.slot``, unique per sample): a
new reviewer takes a free one, so of two people grading the second review at the same
moment one gets it and the other is refused like any third reviewer.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, insert, update
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from bot.common.errors import AuditbotError, InvalidGrade, NotAReviewer, NotFound, OwnOutput
from bot.common.grades import Scale
from bot.common.text import visible_length
from bot.services.outbox import OutboxKind, enqueue_update
from bot.services.reviewer_tallies import reviewed
from bot.services.tallies import SampleState, StoredGrade, lock_sample, move, sample_state
from bot.services.work_counts import graded_now
from bot.store.db import insert_new_key
from bot.store.models import AuditThread, Grade, GradeEvent, Sample, TrainerOutput
from bot.workspace import TaskType, Workspace

MIN_EXPLANATION = 20
DOUBLE_REVIEW_SLOTS = (1, 2)


class ConflictOfInterest(AuditbotError):
    """A lead grading a trainer they lead, or a third reviewer on a double review."""


@dataclass(frozen=True)
class SampleRecord:
    """A sample with what it takes to show it or grade it."""

    sample: Sample
    thread: AuditThread
    output: TrainerOutput
    graders: tuple[str, ...] = ()  # who has a current grade on it, first grader first

    # What the checks of who may judge it read (``Judged``).
    @property
    def task_type(self) -> str:
        return self.thread.task_type

    @property
    def trainer(self) -> str:
        return self.thread.trainer

    @property
    def output_trainer(self) -> str:
        return self.output.trainer

    @property
    def double_review(self) -> bool:
        return self.sample.needs_double_review


class Judged(Protocol):
    """A sample as the checks of who may judge it read it: a ``SampleRecord`` (shown) or a
    ``SampleState`` (being graded)."""

    @property
    def task_type(self) -> str: ...
    @property
    def trainer(self) -> str: ...  # whose trainer-week it is in
    @property
    def output_trainer(self) -> str: ...
    @property
    def double_review(self) -> bool: ...
    @property
    def graders(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class GradeOutcome:
    sample_id: int
    changed: bool
    trainer: str
    task_type: str
    thread_id: int | None = None  # the sample's audit thread (its trainer-week)
    # Whether the grade can owe notes: the grader's (a calibration reveal, a double review
    # waiting), a dispute's or a consistency alert's. A single-review, non-calibration
    # sample graded by one reviewer owes none, and its follow-up skips their reads.
    may_owe_notes: bool = True


def load_sample(session: Session, sample_id: int) -> SampleRecord:
    row = session.exec(
        select(Sample, AuditThread, TrainerOutput)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .where(Sample.id == sample_id)
    ).first()
    if row is None:
        raise NotFound("That sample is no longer in the audit.")
    graders = session.exec(select(Grade.reviewer).where(Grade.sample_id == sample_id)
                           .order_by(col(Grade.created_at), col(Grade.id))).all()
    return SampleRecord(*row, graders=tuple(graders))


def task_type_of(workspace: Workspace, key: str) -> TaskType:
    """The sample's task type, or the refusal to read when the config no longer has it
    (renamed or removed since the audit was posted)."""
    try:
        return workspace.task_type(key)
    except KeyError:
        raise NotFound(
            f"This sample's task type `{key}` is no longer in auditbot's config, so it "
            "cannot be graded any more. If it was renamed, ask a manager: the new name "
            "starts with the next weekly audit.") from None


def check_may_grade(workspace: Workspace, record: Judged, *, user: str) -> None:
    """Raise the refusal a user would read, or return when ``user`` may grade this sample."""
    check_may_judge(workspace, record, user=user)
    # A double review has two slots, for two different reviewers. The first reviewer's
    # next click changes their own grade; a third person is refused once both are in.
    if (record.double_review and len(record.graders) >= 2
            and user not in record.graders):
        raise _both_reviews_in()


def check_may_judge(workspace: Workspace, record: Judged, *, user: str) -> None:
    """Who may judge a sample at all (grade it, rate its reasoning): a reviewer of its task
    type or a manager, never its trainer nor the trainer's lead. Raises the refusal."""
    task_type = task_type_of(workspace, record.task_type)
    if not workspace.may_grade(user, task_type.key):
        raise NotAReviewer(
            f"Only {task_type.name} reviewers and managers can grade these samples. "
            "Ask a manager to add you to the task type's reviewers if you should."
        )
    if record.output_trainer == user:
        raise OwnOutput("This is your own output: someone else has to grade it.")
    trainer = workspace.trainer(record.trainer)
    if trainer is not None and trainer.lead == user:
        raise ConflictOfInterest(
            f"You lead <@{trainer.user}>: reviewers never grade a trainer they lead, so "
            "someone else has to grade this sample.")


def _both_reviews_in() -> ConflictOfInterest:
    return ConflictOfInterest(
        "This sample already has its two reviews. If they disagree, a manager settles "
        "it (`/audit disputes`).")


def grade_problems(grade: str, scale: Scale, *, category: str | None, explanation: str | None,
                   categories: tuple[str, ...]) -> dict[str, str]:
    """What is wrong with a grade's details, keyed by field (empty when it can be recorded).
    ``scale``: the workspace's (``Workspace.scale``)."""
    problems: dict[str, str] = {}
    if grade not in scale:
        return {"grade": f"Unknown grade {grade!r}."}
    if not scale.needs_explanation(grade):
        return problems
    if not category:
        problems["category"] = "Choose the error category."
    elif category not in categories:
        problems["category"] = f"{category!r} is not one of this task type's categories."
    seen = visible_length(explanation)
    if seen < MIN_EXPLANATION:
        problems["explanation"] = (
            f"Explain the error in at least {MIN_EXPLANATION} characters "
            f"(you wrote {seen}): the trainer has to be able to act on it."
        )
    return problems


def record_grade(session: Session, workspace: Workspace, *, sample_id: int, reviewer: str,
                 grade: str, category: str | None, explanation: str | None,
                 now: datetime) -> GradeOutcome:
    """Record the grade and, in the same transaction, move the sample in its trainer-week
    tally (``bot.services.tallies``) from what it counted as to what it counts as now, and
    count what it fixes in agreement and calibration (``bot.services.reviewer_tallies``).

    It runs while SQLite's write lock is held, on every click: one read of the sample
    (``sample_state``), then built-once Core statements, about eight in all."""
    lock_sample(session, sample_id)  # one grade of a sample at a time: its tally moves once
    state = sample_state(session, sample_id)
    if state is None:
        raise NotFound("That sample is no longer in the audit.")
    check_may_grade(workspace, state, user=reviewer)
    task_type = task_type_of(workspace, state.task_type)
    scale = workspace.scale
    if grade in scale and not scale.needs_explanation(grade):
        category = explanation = None
    else:
        explanation = (explanation or "").strip()
    problems = grade_problems(grade, scale, category=category, explanation=explanation,
                              categories=task_type.error_categories)
    if problems:
        raise InvalidGrade(" ".join(problems.values()))
    stored = _upsert(session, state, reviewer=reviewer, grade=grade, category=category,
                     explanation=explanation, now=now)
    if stored is not None:
        connection = session.connection()
        connection.execute(_ADD_EVENT, {
            "sample_id": sample_id, "reviewer": reviewer, "grade": grade,
            "category": category, "explanation": explanation, "recorded_at": now})
        enqueue_update(session, kind=OutboxKind.SAMPLE_UPDATE, ref_id=sample_id,
                       channel=state.channel, now=now)
        # The sample is locked and this is its only change: what it counts as now follows
        # from what was read and this grade, by the same rule (``SampleState.contribution``).
        after = state.graded(reviewer, stored)
        move(session, state.contribution(), after.contribution())
        reviewed(session, sample_id=sample_id, reviewer=reviewer, task_type=state.task_type,
                 iso_week=state.iso_week, double_review=state.double_review, gold=state.gold)
        graded_now(session, thread_id=state.thread_id, double_review=state.double_review,
                   before=len(state.grades), after=len(after.grades))
    return GradeOutcome(sample_id=sample_id, changed=stored is not None,
                        trainer=state.trainer, task_type=task_type.key,
                        thread_id=state.thread_id,
                        may_owe_notes=(state.double_review or state.gold is not None
                                       or bool(set(state.graders) - {reviewer})))


_GRADE = Grade.__table__.c  # type: ignore[attr-defined]
# Built once: they run in every grade's transaction, where building them cost more than
# running them.
_ADD_EVENT = insert(GradeEvent.__table__)  # type: ignore[attr-defined]
_CHANGE_GRADE = update(Grade.__table__).where(  # type: ignore[attr-defined]
    _GRADE.id == bindparam("grade_id")).values(
    grade=bindparam("grade"), category=bindparam("category"),
    explanation=bindparam("explanation"), updated_at=bindparam("updated_at"))
_CURRENT_GRADE = select_columns(
    _GRADE.id, _GRADE.reviewer, _GRADE.grade, _GRADE.category, _GRADE.explanation,
).where(_GRADE.sample_id == bindparam("sample_id"), _GRADE.reviewer == bindparam("reviewer"))
_SLOTS = select_columns(_GRADE.slot).where(_GRADE.sample_id == bindparam("sample_id"))


def _upsert(session: Session, state: SampleState, *, reviewer: str, grade: str,
            category: str | None, explanation: str | None,
            now: datetime) -> StoredGrade | None:
    """Make the reviewer's current grade this one; the grade as stored if anything changed,
    ``None`` if it was this already."""
    connection = session.connection()
    current = state.grade_of(reviewer)
    # Each failed insert means someone else's row is now there to see: the same click
    # delivered twice (their own row), or another reviewer taking slot 1, then slot 2.
    for attempt in range(len(DOUBLE_REVIEW_SLOTS) + 2):
        if attempt:
            # Locked on PostgreSQL, so two replicas handling the same resubmitted click
            # cannot both see the old grade and both append a history event.
            row = connection.execute(_CURRENT_GRADE.with_for_update(), {
                "sample_id": state.sample_id, "reviewer": reviewer}).first()
            current = None if row is None else StoredGrade(*row)
        if current is not None:
            if (current.grade, current.category, current.explanation) == (
                grade, category, explanation
            ):
                return None
            connection.execute(_CHANGE_GRADE, {
                "grade_id": current.id, "grade": grade, "category": category,
                "explanation": explanation, "updated_at": now})
            return replace(current, grade=grade, category=category, explanation=explanation)
        slot = _free_slot(session, sample_id=state.sample_id) if state.double_review else None
        inserted = insert_new_key(session, Grade, dict(
            sample_id=state.sample_id, reviewer=reviewer, grade=grade, category=category,
            explanation=explanation, created_at=now, updated_at=now, slot=slot))
        if inserted is not None:
            return StoredGrade(inserted, reviewer, grade, category, explanation)
        # A concurrent grade took the row or the slot first: look again.
    raise RuntimeError("grade upsert did not settle")  # pragma: no cover


def _free_slot(session: Session, *, sample_id: int) -> int:
    """The first double-review slot nobody holds; refused when both are taken (someone
    else became the second reviewer since this reviewer's click was checked)."""
    taken = set(session.connection().execute(_SLOTS, {"sample_id": sample_id}).scalars())
    free = [slot for slot in DOUBLE_REVIEW_SLOTS if slot not in taken]
    if not free:
        raise _both_reviews_in()
    return free[0]


def sample_grades(session: Session, sample_id: int) -> list[Grade]:
    return list(
        session.exec(
            select(Grade).where(Grade.sample_id == sample_id).order_by(col(Grade.created_at))
        ).all()
    )
