"""Migration 0014 indexes the explanations and settlement notes already stored: a search
right after the upgrade finds them, and later writes are kept in the index as they happen."""

from sqlalchemy import Engine, text
from sqlmodel import Session

from bot.db import current_revisions, downgrade, head_revisions, upgrade
from bot.services.precedents import find_precedents
from tests.conftest import NOW
from tests.consistency_setup import audited, double_review_workspace
from tests.factories import DOCTOR, MANAGER, NURSE, TRAINER1

GRADE = text("INSERT INTO grade (sample_id, reviewer, grade, category, explanation, "
             "created_at, updated_at, slot) VALUES (:sample, :reviewer, :grade, :category, "
             ":why, :at, :at, :slot)")
SETTLEMENT = text("INSERT INTO dispute_settlement (sample_id, task_type, trainer, settled_by, "
                  "grade, note, reviews_json, settled_at) VALUES (:sample, 'clinical', "
                  ":trainer, :manager, 'major', :note, '{}', :at)")


def test_rows_stored_before_the_upgrade_are_found_after_it(engine: Engine):
    workspace = double_review_workspace()
    with Session(engine, expire_on_commit=False) as session:
        first, second = audited(session, workspace, count=2)
    downgrade(engine, "0011")
    with engine.begin() as connection:
        for sample, why in ((first, "Recommends ibuprofen despite stated CKD."),
                            (second, "Suggests aspirin for a child with a fever.")):
            connection.execute(GRADE, {"sample": sample.id, "reviewer": NURSE, "grade": "major",
                                       "category": "Unsafe advice", "why": why, "at": NOW,
                                       "slot": 1})
            connection.execute(GRADE, {"sample": sample.id, "reviewer": DOCTOR, "grade": "pass",
                                       "category": None, "why": None, "at": NOW, "slot": 2})
        connection.execute(SETTLEMENT, {"sample": first.id, "trainer": TRAINER1,
                                        "manager": MANAGER, "at": NOW,
                                        "note": "Kidney damage risk outweighs the pain relief."})
    upgrade(engine)
    assert current_revisions(engine) == head_revisions()
    with Session(engine) as session:
        def found(*words: str) -> list[int]:
            return [p.sample_id for p in find_precedents(session, workspace, viewer=MANAGER,
                                                         words=words).precedents]

        assert found("ibuprofen") == [first.id]
        assert found("aspirin", "fever") == [second.id]
        assert found("kidney", "relief") == [first.id]
        assert found("unsafe") and set(found("unsafe")) == {first.id, second.id}
