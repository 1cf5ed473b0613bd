"""Saving a settled disagreement as a precedent: the ruling in one sentence and why.

Usage (the caller commits)::

    check_may_save(session, sample_id=7, user="U0MANAGER1")        # before opening the form
    saved = save_precedent(session, workspace, sample_id=7, author="U0MANAGER1",
                           category="Unsafe advice",
                           ruling="NSAIDs for a patient with stated CKD are a Major error.",
                           rationale="Even one dose risks acute kidney injury; ...", now=now)
    saved = precedent_for(session, 7)                              # the saved one, or None

Who may save: whoever settled the sample (``ruling_of``); one precedent per sample (unique),
edited in place by its author (saving again replaces the text). ``ruling_of`` is the one
place that knows what settles a sample: a manager's settlement of a double-review dispute
(``bot.services.disputes``), or the decision (upheld or overturned) of the reviewer who
decided the trainer's dispute of the grade (``bot.services.trainer_disputes``). A trainer's
dispute comes after any settlement (it disputes the grade that counts), so its decision is
the ruling once there is one. ``ruled_view`` is the sample as its settler's offer and the
form show it, whichever kind of ruling it was.

An adjudicated disagreement between trainers (``bot.services.disagreements``: trainers'
labels on a shared item, not a sample) is saved the same way by the reviewer who
adjudicated it::

    check_may_save_disagreement(session, disagreement_id=3, user="U0DOCTOR1")
    saved = save_disagreement_precedent(session, workspace, disagreement_id=3,
                                        author="U0DOCTOR1", category=..., ruling=...,
                                        rationale=..., now=now)
    saved = disagreement_precedent_for(session, 3)
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.common.errors import AuditbotError
from bot.common.text import visible_length
from bot.services.disputes import DisputeView, Settlement, sample_dispute, settlements
from bot.services.grading import MIN_EXPLANATION, load_sample, task_type_of
from bot.services.precedents import SavedPrecedent, as_saved
from bot.services.reviews import Review
from bot.services.tallies import lock_sample
from bot.store.models import Grade
from bot.store.models.feedback import TrainerDispute
from bot.store.models.precedents import Precedent as SavedRow
from bot.store.models.trainer import Disagreement
from bot.workspace import Workspace

MIN_RULING = 15  # visible characters of the one-sentence ruling
MAX_RULING = 300
MAX_RATIONALE = 3000


class InvalidPrecedent(AuditbotError):
    pass


class NotSettled(AuditbotError):
    pass


class NotTheSettler(AuditbotError):
    pass


@dataclass(frozen=True)
class Ruling:
    """How a sample was settled, and by whom."""

    kind: str  # "dispute": a manager settled two reviewers' disagreement;
    # "trainer_dispute": a reviewer upheld or overturned the grade its trainer disputed
    by: str
    grade: str
    note: str
    at: datetime


def ruling_of(session: Session, sample_id: int) -> Ruling | None:
    """The ruling that settled this sample, or ``None`` when nothing settled it."""
    from bot.services.trainer_disputes import OVERTURNED, UPHELD, first_grades

    decided = session.exec(select(TrainerDispute).where(
        TrainerDispute.sample_id == sample_id,
        col(TrainerDispute.status).in_((UPHELD, OVERTURNED)))).first()
    if decided is not None and decided.second_reviewer and decided.decided_at is not None:
        disputed = first_grades(decided)
        grade = decided.grade if decided.status == OVERTURNED else (
            disputed[0].grade if disputed else None)
        return Ruling(kind="trainer_dispute", by=decided.second_reviewer, grade=grade or "",
                      note=decided.reason or "", at=decided.decided_at)
    settled = settlements(session, [sample_id]).get(sample_id)
    if settled is not None:
        return Ruling(kind="dispute", by=settled.manager, grade=settled.grade,
                      note=settled.note, at=settled.settled_at)
    return None


def ruled_view(session: Session, sample_id: int) -> DisputeView | None:
    """The settled sample with its reviews and its ruling (as a ``Settlement``: who ruled,
    the grade that counts, why), for the offer and the form; ``None`` when not settled."""
    ruling = ruling_of(session, sample_id)
    if ruling is None:
        return None
    if ruling.kind == "dispute":
        return sample_dispute(session, sample_id)
    record = load_sample(session, sample_id)
    grades = session.exec(select(Grade).where(Grade.sample_id == sample_id)
                          .order_by(col(Grade.created_at), col(Grade.id))).all()
    return DisputeView(
        sample_id=sample_id, task_type=record.thread.task_type, trainer=record.thread.trainer,
        week=record.thread.iso_week, position=record.sample.position,
        count=record.thread.sample_count, output_id=record.output.id,
        channel=record.thread.channel, message_ts=record.sample.message_ts,
        reviews=tuple(Review(g.reviewer, g.grade, g.category, g.explanation) for g in grades),
        settlement=Settlement(manager=ruling.by, grade=ruling.grade, note=ruling.note,
                              settled_at=ruling.at))


def check_may_save(session: Session, *, sample_id: int, user: str) -> Ruling:
    """The sample's ruling when ``user`` may save it as a precedent; refuses otherwise."""
    ruling = ruling_of(session, sample_id)
    if ruling is None:
        raise NotSettled("Only a settled disagreement can be saved as a precedent, and "
                         "this sample has not been settled.")
    if ruling.by != user:
        raise NotTheSettler(f"<@{ruling.by}> settled this sample: only they can save it as "
                            "a precedent or edit it.")
    return ruling


def precedent_problems(*, category: str | None, ruling: str | None, rationale: str | None,
                       categories: tuple[str, ...]) -> dict[str, str]:
    """What is wrong with a precedent's fields, by field (empty when it can be saved)."""
    problems: dict[str, str] = {}
    if category not in categories:
        problems["category"] = "Choose one of the task type's error categories."
    seen = visible_length(ruling)
    if seen < MIN_RULING:
        problems["ruling"] = (f"State the ruling in at least {MIN_RULING} characters "
                              f"(you wrote {seen}).")
    elif len(ruling or "") > MAX_RULING:
        problems["ruling"] = f"One sentence: at most {MAX_RULING} characters."
    seen = visible_length(rationale)
    if seen < MIN_EXPLANATION:
        problems["rationale"] = (f"Explain the ruling in at least {MIN_EXPLANATION} "
                                 f"characters (you wrote {seen}): reviewers will read it.")
    elif len(rationale or "") > MAX_RATIONALE:
        problems["rationale"] = f"At most {MAX_RATIONALE} characters."
    return problems


def check_may_save_disagreement(session: Session, *, disagreement_id: int,
                                user: str) -> Disagreement:
    """The adjudicated disagreement when ``user`` adjudicated it; refuses otherwise."""
    from bot.services.disagreements import load_disagreement

    row = load_disagreement(session, disagreement_id)  # NotFound when it is not there
    if row.ruled_at is None or row.ruled_by is None:
        raise NotSettled("Only an adjudicated disagreement can be saved as a precedent, and "
                         "nobody has adjudicated this one yet.")
    if row.ruled_by != user:
        raise NotTheSettler(f"<@{row.ruled_by}> adjudicated this disagreement: only they can "
                            "save it as a precedent or edit it.")
    return row


@dataclass(frozen=True)
class Adjudicated:
    """An adjudicated disagreement between trainers, as its adjudicator's offer and the
    precedent form show it."""

    disagreement_id: int
    task_type: str
    item: str
    week: str
    labels: tuple[tuple[str, str], ...]  # (trainer, label) in the order shown
    ruled_by: str
    ruling_label: str
    ruling_reason: str


def adjudicated_view(row: Disagreement) -> Adjudicated | None:
    """The disagreement as the offer and the form show it; ``None`` until adjudicated."""
    from bot.services.disagreements import labels_of

    if row.ruled_by is None or row.ruling_label is None or row.id is None:
        return None
    return Adjudicated(disagreement_id=row.id, task_type=row.task_type, item=row.item,
                       week=row.iso_week,
                       labels=tuple((g.trainer, g.label) for g in labels_of(row)),
                       ruled_by=row.ruled_by, ruling_label=row.ruling_label,
                       ruling_reason=row.ruling_reason or "")


def disagreement_precedent_for(session: Session,
                               disagreement_id: int) -> SavedPrecedent | None:
    row = session.exec(select(SavedRow).where(
        SavedRow.disagreement_id == disagreement_id)).first()
    return as_saved(row) if row is not None else None


def save_disagreement_precedent(session: Session, workspace: Workspace, *,
                                disagreement_id: int, author: str, category: str, ruling: str,
                                rationale: str, now: datetime) -> SavedPrecedent:
    """Save (or, by its author, edit) the precedent of an adjudicated disagreement between
    trainers; the same refusals as ``save_precedent`` (not adjudicated, not its
    adjudicator, fields ``precedent_problems`` rejects)."""
    row = check_may_save_disagreement(session, disagreement_id=disagreement_id, user=author)
    task_type = task_type_of(workspace, row.task_type)
    return _store(session, task_type=task_type.key, categories=task_type.error_categories,
                  subject=col(SavedRow.disagreement_id) == disagreement_id,
                  keys={"disagreement_id": disagreement_id}, author=author,
                  category=category, ruling=ruling, rationale=rationale, now=now)


def precedent_for(session: Session, sample_id: int) -> SavedPrecedent | None:
    row = session.exec(select(SavedRow).where(SavedRow.sample_id == sample_id)).first()
    return as_saved(row) if row is not None else None


def save_precedent(session: Session, workspace: Workspace, *, sample_id: int, author: str,
                   category: str, ruling: str, rationale: str,
                   now: datetime) -> SavedPrecedent:
    """Save (or, by its author, edit) the sample's precedent; returns it as stored.

    Refuses (typed errors) a sample nobody settled, anyone but its settler, and fields that
    ``precedent_problems`` rejects (the task type's categories as configured now)."""
    lock_sample(session, sample_id)
    record = load_sample(session, sample_id)  # NotFound for a sample that is not there
    check_may_save(session, sample_id=sample_id, user=author)
    task_type = task_type_of(workspace, record.thread.task_type)
    return _store(session, task_type=task_type.key, categories=task_type.error_categories,
                  subject=col(SavedRow.sample_id) == sample_id, keys={"sample_id": sample_id},
                  author=author, category=category, ruling=ruling, rationale=rationale,
                  now=now)


def _store(session: Session, *, task_type: str, categories: tuple[str, ...], subject: Any,
           keys: dict[str, Any], author: str, category: str, ruling: str, rationale: str,
           now: datetime) -> SavedPrecedent:
    """Insert the precedent of ``subject`` (its sample or disagreement, unique), or edit the
    one there: a doubled submission that lost the race to insert edits the winner's."""
    problems = precedent_problems(category=category, ruling=ruling, rationale=rationale,
                                  categories=categories)
    if problems:
        raise InvalidPrecedent(" ".join(problems.values()))
    fields: dict[str, Any] = {"category": category, "ruling": ruling.strip(),
                              "rationale": rationale.strip(), "author": author,
                              "updated_at": now}
    row = session.exec(select(SavedRow).where(subject)).first()
    if row is None:
        try:
            with session.begin_nested():
                row = SavedRow(task_type=task_type, created_at=now, **keys, **fields)
                session.add(row)
                session.flush()
        except IntegrityError:  # a doubled submission saved it first: edit that one
            row = session.exec(select(SavedRow).where(subject)).one()
    if row.id is not None and (row.category, row.ruling, row.rationale) != (
            fields["category"], fields["ruling"], fields["rationale"]):
        for key, value in fields.items():
            setattr(row, key, value)
        session.add(row)
    session.flush()
    return as_saved(row)
