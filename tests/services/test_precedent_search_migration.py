"""Migration 0014 indexes the explanations and settlement notes already stored: a search
right after the upgrade finds them, and later writes are kept in the index as they happen."""

import json

from sqlalchemy import Engine, text
from sqlmodel import Session

from bot.services.precedent_save import save_disagreement_precedent, save_precedent
from bot.services.precedents import find_precedents
from bot.store.db import current_revisions, downgrade, head_revisions, upgrade
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace
from tests.support.factories import DOCTOR, MANAGER, NURSE, TRAINER1

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


PRECEDENT = text("INSERT INTO precedent (sample_id, task_type, category, ruling, rationale, "
                 "author, created_at, updated_at) VALUES (:sample, 'clinical', "
                 "'Unsafe advice', :ruling, :why, :author, :at, :at)")
DISAGREEMENT = text("INSERT INTO disagreement (task_type, item, iso_week, channel, labels_json, "
                    "disagreement, created_at, ruled_by, ruling_label, ruling_reason, "
                    "ruled_at, ruled_week) VALUES ('clinical', 'i7', '2026-W49', 'C0CLINICAL', "
                    ":labels, 1.0, :at, :by, 'B', 'B: the stated dose is within range.', :at, "
                    "'2026-W49')")


def test_0021_keeps_the_precedents_searchable_and_indexes_later_writes(engine: Engine):
    """0021 recreates the ``precedent`` table on SQLite (a batch migration), which drops the
    FTS5 triggers of 0014: a precedent stored before it is still found after it, and a
    precedent of a disagreement saved, or a sample's edited, after it is indexed."""
    workspace = double_review_workspace()
    with Session(engine, expire_on_commit=False) as session:
        [first] = audited(session, workspace, count=1)
    downgrade(engine, "0019_loop")
    with engine.begin() as connection:
        connection.execute(GRADE, {"sample": first.id, "reviewer": NURSE, "grade": "major",
                                   "category": "Unsafe advice", "at": NOW, "slot": 1,
                                   "why": "Recommends ibuprofen despite stated CKD."})
        connection.execute(GRADE, {"sample": first.id, "reviewer": DOCTOR, "grade": "pass",
                                   "category": None, "why": None, "at": NOW, "slot": 2})
        connection.execute(SETTLEMENT, {"sample": first.id, "trainer": TRAINER1,
                                        "manager": MANAGER, "at": NOW,
                                        "note": "Kidney damage risk outweighs the relief."})
        connection.execute(PRECEDENT, {"sample": first.id, "author": MANAGER, "at": NOW,
                                       "ruling": "NSAIDs with stated nephropathy are Major.",
                                       "why": "One dose risks acute injury to the kidneys."})
        connection.execute(DISAGREEMENT, {"at": NOW, "by": DOCTOR, "labels": json.dumps([
            {"trainer": TRAINER1, "label": "A", "reasoning": None, "output_id": "o1"},
            {"trainer": NURSE, "label": "B", "reasoning": None, "output_id": "o2"}])})
        disagreement_id = connection.execute(text("SELECT id FROM disagreement")).scalar_one()
    upgrade(engine)
    assert current_revisions(engine) == head_revisions()

    def found(*words: str) -> list[int | str]:
        with Session(engine) as session:
            hits = find_precedents(session, workspace, viewer=MANAGER, words=words)
            return [*(p.sample_id for p in hits.precedents),
                    *(f"d{d.disagreement_id}" for d in hits.disagreements)]

    assert found("nephropathy") == [first.id]  # stored before the upgrade
    with Session(engine) as session:
        save_disagreement_precedent(
            session, workspace, disagreement_id=disagreement_id, author=DOCTOR,
            category="Clinical reasoning", ruling="A stated dose within range is a Pass.",
            rationale="Posology inside the label's range needs no warning at all.", now=NOW)
        save_precedent(session, workspace, sample_id=first.id or 0, author=MANAGER,
                       category="Unsafe advice", ruling="NSAIDs with stated CKD are Major.",
                       rationale="Even one dose risks acute injury to the kidneys.", now=NOW)
        session.commit()
    assert found("posology") == [f"d{disagreement_id}"]  # inserted after: the insert trigger
    assert found("nephropathy") == []  # edited after: the update trigger
    assert found("ckd", "major") == [first.id]
    # Down and up again: the disagreement's precedent goes, the sample's stays searchable.
    downgrade(engine, "0019_loop")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM precedent")).scalar_one() == 1
    upgrade(engine)
    assert found("ckd", "major") == [first.id]
    assert found("posology") == []
