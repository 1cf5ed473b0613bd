"""Grades on a real database: who may grade, what a grade needs, latest wins, history kept."""

import pytest
from sqlmodel import Session, select

from bot.common.errors import InvalidGrade, NotAReviewer, OwnOutput
from bot.common.grades import DEFAULT_SCALE
from bot.services.audit import plan_weekly_audit
from bot.services.grading import grade_problems, record_grade
from bot.services.ingest import ingest, records_from_json_array, roster_from_workspace
from bot.store.models import Grade, GradeEvent, OutboxItem, Sample
from tests.conftest import NOW
from tests.support.factories import (
    DOCTOR,
    LAWYER,
    MANAGER,
    NURSE,
    OUTSIDER,
    make_workspace,
    week_of_records,
)

WORKSPACE = make_workspace()
EXPLANATION = "Recommends ibuprofen although the patient has stated CKD stage 3."


@pytest.fixture
def samples(session: Session) -> list[Sample]:
    trainers, task_types = roster_from_workspace(WORKSPACE)
    records = week_of_records(NOW, count=3) + week_of_records(NOW, trainer=NURSE, count=2)
    ingest(session, records_from_json_array(records), known_trainers=trainers,
           known_task_types=task_types, now=NOW)
    plan_weekly_audit(session, WORKSPACE, now=NOW)
    session.commit()
    return list(session.exec(select(Sample).order_by(Sample.id)).all())


def _grade(session: Session, sample: Sample, reviewer: str, grade: str = "pass", **kw):
    return record_grade(session, WORKSPACE, sample_id=sample.id, reviewer=reviewer,
                        grade=grade, category=kw.get("category"),
                        explanation=kw.get("explanation"), now=NOW)


def test_pass_records_one_grade_and_owes_a_message_update(session, samples):
    outcome = _grade(session, samples[0], NURSE)
    session.commit()
    assert outcome.changed
    assert session.exec(select(Grade)).one().grade == "pass"
    updates = session.exec(select(OutboxItem).where(OutboxItem.kind == "sample_update")).all()
    assert len(updates) == 1


def test_the_same_grade_twice_changes_nothing(session, samples):
    _grade(session, samples[0], NURSE)
    again = _grade(session, samples[0], NURSE)
    session.commit()
    assert not again.changed
    assert len(session.exec(select(Grade)).all()) == 1
    assert len(session.exec(select(GradeEvent)).all()) == 1


def test_a_changed_grade_replaces_the_current_one_and_keeps_history(session, samples):
    _grade(session, samples[0], NURSE)
    _grade(session, samples[0], NURSE, "major", category="Unsafe advice",
           explanation=EXPLANATION)
    session.commit()
    current = session.exec(select(Grade)).one()
    assert (current.grade, current.category) == ("major", "Unsafe advice")
    history = session.exec(select(GradeEvent).order_by(GradeEvent.id)).all()
    assert [h.grade for h in history] == ["pass", "major"]


def test_two_reviewers_each_have_their_own_grade(session, samples):
    _grade(session, samples[0], NURSE)
    _grade(session, samples[0], DOCTOR, "minor", category="Other", explanation=EXPLANATION)
    session.commit()
    assert {g.reviewer for g in session.exec(select(Grade)).all()} == {NURSE, DOCTOR}


def test_managers_may_grade_any_task_type(session, samples):
    assert _grade(session, samples[0], MANAGER).changed


@pytest.mark.parametrize("user", [OUTSIDER, LAWYER])
def test_someone_not_reviewing_this_task_type_is_refused(session, samples, user):
    with pytest.raises(NotAReviewer, match="Clinical NLP reviewers"):
        _grade(session, samples[0], user)
    assert session.exec(select(Grade)).all() == []


def test_nobody_grades_their_own_output(session, samples):
    own = next(s for s in samples if s.output_id.startswith(f"out-{NURSE}-"))
    with pytest.raises(OwnOutput):
        _grade(session, own, NURSE)


def test_a_non_pass_grade_needs_a_category_and_a_real_explanation(session, samples):
    with pytest.raises(InvalidGrade, match="at least 20 characters"):
        _grade(session, samples[0], NURSE, "minor", category="Other", explanation="bad")
    with pytest.raises(InvalidGrade, match=r"not one of this task type.s categories"):
        _grade(session, samples[0], NURSE, "minor", category="Typo", explanation=EXPLANATION)


def test_grade_problems_name_each_field():
    problems = grade_problems("major", DEFAULT_SCALE, category=None, explanation="  short  ",
                              categories=("Other",))
    assert set(problems) == {"category", "explanation"}
    assert "you wrote 5" in problems["explanation"]
    assert grade_problems("pass", DEFAULT_SCALE, category=None, explanation=None,
                          categories=()) == {}
