"""Disputes on a real database: what is disputed, what counts, who settles, the two slots."""

import json

import pytest
from sqlmodel import Session, select

from bot.common.errors import InvalidGrade, NotAManager
from bot.services.disputes import (
    AlreadySettled,
    NotDisputed,
    list_disputes,
    sample_dispute,
    settle,
)
from bot.services.grading import ConflictOfInterest
from bot.services.standings import trainer_standing
from bot.store.models import Grade, OutboxItem
from bot.store.models.consistency import DisputeSettlement
from tests.conftest import NOW
from tests.support.consistency_setup import WHY, audited, double_review_workspace, grade
from tests.support.factories import DOCTOR, LAWYER, LEAD, MANAGER, NURSE, TRAINER1, TRAINER2

WORKSPACE = double_review_workspace()
NOTE = "The dose is wrong for CKD stage 3: a major error, as the doctor said."


def _standing(session: Session, workspace=WORKSPACE):
    current, records = trainer_standing(session, workspace, trainer=TRAINER1,
                                        task_type="clinical", now=NOW)
    return current, {r.sample_id: r for r in records}


def _settle(session: Session, sample_id: int, *, manager: str = MANAGER, value: str = "major",
            note: str = NOTE, workspace=WORKSPACE):
    view = settle(session, workspace, sample_id=sample_id, manager=manager, grade=value,
                  note=note, now=NOW)
    session.commit()
    return view


def test_reviewers_who_agree_give_the_sample_its_grade(session: Session):
    sample = audited(session, WORKSPACE)[0]
    grade(session, WORKSPACE, sample, NURSE, "minor")
    grade(session, WORKSPACE, sample, DOCTOR, "minor")
    assert sample_dispute(session, sample.id) is None
    _, records = _standing(session)
    assert records[sample.id].weight == 0.5


def test_half_a_step_apart_is_no_dispute_and_counts_as_the_mean(session: Session):
    sample = audited(session, WORKSPACE)[0]
    grade(session, WORKSPACE, sample, NURSE, "pass")
    grade(session, WORKSPACE, sample, DOCTOR, "minor")
    assert sample_dispute(session, sample.id) is None
    assert list_disputes(session, WORKSPACE, user=MANAGER) == []
    _, records = _standing(session)
    assert records[sample.id].weight == 0.75


def test_pass_against_major_is_disputed_and_left_out_of_the_score(session: Session):
    samples = audited(session, WORKSPACE)
    for other in samples[1:]:
        grade(session, WORKSPACE, other, NURSE, "pass")
        grade(session, WORKSPACE, other, DOCTOR, "pass")
    grade(session, WORKSPACE, samples[0], NURSE, "pass")
    grade(session, WORKSPACE, samples[0], DOCTOR, "major")
    [view] = list_disputes(session, WORKSPACE, user=MANAGER)
    assert view.sample_id == samples[0].id and view.status == "open"
    assert [(r.reviewer, r.grade) for r in view.reviews] == [(NURSE, "pass"), (DOCTOR, "major")]
    assert view.reviews[1].explanation == WHY
    current, records = _standing(session)
    assert samples[0].id not in records
    assert current.graded == 4 and current.score == 1.0


def test_a_settled_dispute_counts_once_with_the_settled_grade(session: Session):
    samples = audited(session, WORKSPACE)
    grade(session, WORKSPACE, samples[0], NURSE, "pass")
    grade(session, WORKSPACE, samples[0], DOCTOR, "major")
    view = _settle(session, samples[0].id, value="minor")
    assert view.settlement.grade == "minor" and view.settlement.manager == MANAGER
    current, records = _standing(session)
    assert current.graded == 1 and records[samples[0].id].weight == 0.5
    assert [(g.reviewer, g.explanation) for g in records[samples[0].id].grades] == [
        (MANAGER, NOTE)]
    assert list_disputes(session, WORKSPACE, user=MANAGER) == []
    [settled] = list_disputes(session, WORKSPACE, user=MANAGER, include_settled=True)
    assert settled.status == "settled"
    # Final: the reviewers changing their minds later does not reopen or change it.
    grade(session, WORKSPACE, samples[0], NURSE, "minor")
    _, records = _standing(session)
    assert records[samples[0].id].weight == 0.5
    stored = session.exec(select(DisputeSettlement)).one()
    assert json.loads(stored.reviews_json) == {NURSE: "pass", DOCTOR: "major"}


def test_settling_owes_an_update_of_the_sample_message(session: Session):
    sample = audited(session, WORKSPACE)[0]
    grade(session, WORKSPACE, sample, NURSE, "pass")
    grade(session, WORKSPACE, sample, DOCTOR, "major")
    for item in session.exec(select(OutboxItem)).all():  # everything so far delivered
        item.status = "sent"
        session.add(item)
    session.commit()
    _settle(session, sample.id)
    owed = session.exec(select(OutboxItem).where(OutboxItem.status == "pending")).all()
    assert [(o.kind, o.ref_id) for o in owed] == [("sample_update", sample.id)]


def test_a_reviewer_who_changes_their_grade_ends_the_dispute(session: Session):
    sample = audited(session, WORKSPACE)[0]
    grade(session, WORKSPACE, sample, NURSE, "pass")
    grade(session, WORKSPACE, sample, DOCTOR, "major")
    assert sample_dispute(session, sample.id) is not None
    grade(session, WORKSPACE, sample, NURSE, "minor")
    assert sample_dispute(session, sample.id) is None
    with pytest.raises(NotDisputed):
        _settle(session, sample.id)


def test_only_a_manager_settles_and_only_once(session: Session):
    sample = audited(session, WORKSPACE)[0]
    grade(session, WORKSPACE, sample, NURSE, "pass")
    grade(session, WORKSPACE, sample, DOCTOR, "major")
    with pytest.raises(NotAManager):
        _settle(session, sample.id, manager=DOCTOR)
    with pytest.raises(InvalidGrade, match="at least 20 characters"):
        _settle(session, sample.id, note="agree w/ doc")
    with pytest.raises(InvalidGrade, match="grade"):
        _settle(session, sample.id, value="catastrophic")
    _settle(session, sample.id)
    with pytest.raises(AlreadySettled, match=MANAGER):
        _settle(session, sample.id, value="pass")
    assert _settle(session, sample.id).settlement.grade == "major"  # a replay: no error
    assert len(session.exec(select(DisputeSettlement)).all()) == 1


def test_a_manager_who_leads_the_trainer_does_not_settle(session: Session):
    trainers = [{"user": TRAINER1, "task_types": ["clinical"], "lead": MANAGER}]
    workspace = double_review_workspace(trainers=trainers)
    sample = audited(session, workspace)[0]
    grade(session, workspace, sample, NURSE, "pass")
    grade(session, workspace, sample, DOCTOR, "major")
    with pytest.raises(ConflictOfInterest, match="You lead"):
        _settle(session, sample.id, workspace=workspace)


def test_reviewers_see_the_disputes_of_their_task_types_managers_all(session: Session):
    clinical = audited(session, WORKSPACE)[0]
    legal = audited(session, WORKSPACE, trainer=TRAINER2, task_type="legal")[0]
    grade(session, WORKSPACE, clinical, NURSE, "pass")
    grade(session, WORKSPACE, clinical, DOCTOR, "major")
    grade(session, WORKSPACE, legal, LAWYER, "pass")
    grade(session, WORKSPACE, legal, MANAGER, "major", category="Misstated law")
    assert {v.task_type for v in list_disputes(session, WORKSPACE, user=MANAGER)} == {
        "clinical", "legal"}
    assert [v.task_type for v in list_disputes(session, WORKSPACE, user=LAWYER)] == ["legal"]
    assert list_disputes(session, WORKSPACE, user=LEAD) == []


def test_the_first_reviewer_cannot_fill_the_second_slot(session: Session):
    sample = audited(session, WORKSPACE)[0]
    grade(session, WORKSPACE, sample, NURSE, "pass")
    grade(session, WORKSPACE, sample, NURSE, "major")  # changes their own grade
    assert [(g.reviewer, g.grade) for g in session.exec(select(Grade)).all()] == [
        (NURSE, "major")]


def test_a_third_reviewer_is_refused_once_both_reviews_are_in(session: Session):
    sample = audited(session, WORKSPACE)[0]
    grade(session, WORKSPACE, sample, NURSE, "pass")
    grade(session, WORKSPACE, sample, DOCTOR, "pass")
    with pytest.raises(ConflictOfInterest, match="already has its two reviews"):
        grade(session, WORKSPACE, sample, MANAGER, "major")
    grade(session, WORKSPACE, sample, DOCTOR, "minor")  # but each may change their own
    assert len(session.exec(select(Grade)).all()) == 2


def test_a_reviewer_never_grades_a_trainer_they_lead(session: Session):
    trainers = [{"user": TRAINER1, "task_types": ["clinical"], "lead": DOCTOR}]
    workspace = double_review_workspace(trainers=trainers)
    sample = audited(session, workspace)[0]
    with pytest.raises(ConflictOfInterest, match="You lead"):
        grade(session, workspace, sample, DOCTOR, "pass")
    session.rollback()
    assert session.exec(select(Grade)).all() == []
