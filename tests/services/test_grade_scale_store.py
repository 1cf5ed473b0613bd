"""The store rejects a grade that is not on the scale: the domain write refuses it, and the
foreign keys of migration 0026 to ``grade_level`` refuse it underneath (SQLite and
PostgreSQL), whichever scale the workspace defines (``bot.services.grade_levels``)."""

from dataclasses import replace

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.common.errors import InvalidGrade
from bot.common.grades import DEFAULT_SCALE, Level, Scale, scale_in_force
from bot.services.grade_levels import sync_grade_levels
from bot.services.grading import record_grade
from bot.store.models import Grade, GradeLevel
from bot.wiring.context import use_grade_scale
from bot.workspace import WorkspaceError
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace
from tests.support.factories import NURSE

WORKSPACE = double_review_workspace()


def test_record_grade_refuses_a_grade_off_the_scale(session: Session):
    sample = audited(session, WORKSPACE, count=1)[0]
    with pytest.raises(InvalidGrade, match="Unknown grade 'catastrophic'"):
        record_grade(session, WORKSPACE, sample_id=sample.id or 0, reviewer=NURSE,
                     grade="catastrophic", category="Other",
                     explanation="A long enough explanation of what went wrong.", now=NOW)
    assert session.exec(select(Grade)).all() == []


INSERTS = {
    "grade": "INSERT INTO grade (sample_id, reviewer, grade, created_at, updated_at) "
             "VALUES (:sample, 'U0NURSE01', :grade, :at, :at)",
    "grade_event": "INSERT INTO grade_event (sample_id, reviewer, grade, recorded_at) "
                   "VALUES (:sample, 'U0NURSE01', :grade, :at)",
    "dispute_settlement": "INSERT INTO dispute_settlement (sample_id, task_type, trainer, "
                          "settled_by, grade, note, reviews_json, settled_at) VALUES "
                          "(:sample, 'clinical', 'U0T', 'U0M', :grade, 'n', '{}', :at)",
    "trainer_dispute": "INSERT INTO trainer_dispute (sample_id, trainer, task_type, iso_week, "
                       "reasoning, first_json, status, grade, opened_at) VALUES "
                       "(:sample, 'U0T', 'clinical', '2026-W48', 'r', '[]', 'open', :grade, :at)",
}


@pytest.mark.parametrize("table", sorted(INSERTS))
def test_the_store_refuses_a_grade_off_the_scale(engine: Engine, table: str):
    with Session(engine, expire_on_commit=False) as session:
        sample = audited(session, WORKSPACE, count=1)[0]
    params = {"sample": sample.id, "at": NOW}
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(INSERTS[table]), {**params, "grade": "catastrophic"})
    with engine.begin() as connection:  # a key of the scale is stored
        connection.execute(text(INSERTS[table]), {**params, "grade": "minor"})


def test_a_gold_grade_off_the_scale_is_refused_and_none_is_allowed(engine: Engine):
    with Session(engine, expire_on_commit=False) as session:
        sample = audited(session, WORKSPACE, count=1)[0]
    update = text("UPDATE trainer_output SET gold_grade = :gold WHERE id = :id")
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(update, {"gold": "catastrophic", "id": sample.output_id})
    with engine.begin() as connection:
        connection.execute(update, {"gold": None, "id": sample.output_id})
        connection.execute(update, {"gold": "major", "id": sample.output_id})


def _level(key: str, *, best: bool = False) -> Level:
    return Level(key, key.title(), key.title(), None, 1.0 if best else 0.0, "#000000",
                 needs_explanation=not best, severe=False)


FOUR = Scale((*DEFAULT_SCALE.levels, _level("critical")))
TWO = Scale((_level("ok", best=True), _level("major")))


def _levels(session: Session) -> set[str]:
    return set(session.exec(select(GradeLevel.key)).all())


def test_the_store_starts_with_the_default_scale_and_takes_a_workspace_s(engine: Engine):
    with Session(engine) as session:
        assert _levels(session) == {"pass", "minor", "major"}  # as migrated
        assert sync_grade_levels(session, FOUR) == ()
        assert sync_grade_levels(session, FOUR) == ()  # again: nothing to do
        session.commit()
        assert _levels(session) == {"pass", "minor", "major", "critical"}
        sample = audited(session, WORKSPACE, count=1)[0]
    params = {"sample": sample.id, "at": NOW}
    with engine.begin() as connection:
        connection.execute(text(INSERTS["grade_event"]), {**params, "grade": "critical"})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(INSERTS["grade_event"]), {**params, "grade": "catastrophic"})


def test_a_level_dropped_from_the_scale_leaves_the_store_unless_grades_use_it(
        engine: Engine):
    with Session(engine, expire_on_commit=False) as session:
        sample = audited(session, WORKSPACE, count=1)[0]
    with engine.begin() as connection:  # history: a stored Minor issue
        connection.execute(text(INSERTS["grade"]), {"sample": sample.id, "at": NOW,
                                                    "grade": "minor"})
    with Session(engine) as session:
        assert sync_grade_levels(session, TWO) == ("minor",)  # kept, and reported
        session.commit()
        assert _levels(session) == {"ok", "major", "minor"}  # "pass" went: nothing used it
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(INSERTS["grade_event"]), {"sample": sample.id, "at": NOW,
                                                          "grade": "pass"})


def test_a_bot_does_not_start_on_a_scale_that_drops_a_level_grades_use(engine: Engine):
    with Session(engine, expire_on_commit=False) as session:
        sample = audited(session, WORKSPACE, count=1)[0]
    with engine.begin() as connection:
        connection.execute(text(INSERTS["grade"]), {"sample": sample.id, "at": NOW,
                                                    "grade": "minor"})
    workspace = replace(WORKSPACE, grade_scale=TWO)
    with pytest.raises(WorkspaceError, match="grade_scale: drops 'minor', which stored "
                                             "grades use"):
        use_grade_scale(engine, workspace)
    assert scale_in_force() is DEFAULT_SCALE  # not put in force
    with Session(engine) as session:
        assert _levels(session) == {"pass", "minor", "major"}  # and the store unchanged
    use_grade_scale(engine, replace(WORKSPACE, grade_scale=FOUR))  # adding a level is fine
    assert scale_in_force() is FOUR
