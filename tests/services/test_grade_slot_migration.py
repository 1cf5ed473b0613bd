"""Migration 0007 gives the grades already stored their double-review slots."""

from sqlalchemy import Engine, text
from sqlmodel import Session

from bot.store.db import current_revisions, downgrade, head_revisions, upgrade
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace
from tests.support.factories import DOCTOR, MANAGER, NURSE

INSERT = text("INSERT INTO grade (sample_id, reviewer, grade, created_at, updated_at) "
              "VALUES (:sample, :reviewer, 'pass', :at, :at)")


def _slots(engine: Engine, sample_id: int) -> list[tuple[str, int | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT reviewer, slot FROM grade WHERE sample_id = :s ORDER BY id"),
            {"s": sample_id})
        return [(reviewer, slot) for reviewer, slot in rows]


def test_existing_grades_get_their_slots_in_the_order_they_came_in(engine: Engine):
    with Session(engine, expire_on_commit=False) as session:
        double, *_ = audited(session, double_review_workspace(), count=1)
        single, *_ = audited(session, double_review_workspace(double_review_fraction=0.0),
                             count=1, now=NOW.replace(year=2025))
    downgrade(engine, "0006")  # back to the 0005 and 0006 branches
    assert current_revisions(engine) == {"0005", "0006"}
    with engine.begin() as connection:
        # A race before the constraint left three reviews on the double review.
        for reviewer in (DOCTOR, NURSE, MANAGER):
            connection.execute(INSERT, {"sample": double.id, "reviewer": reviewer, "at": NOW})
        connection.execute(INSERT, {"sample": single.id, "reviewer": NURSE, "at": NOW})

    upgrade(engine)
    assert current_revisions(engine) == head_revisions()
    assert _slots(engine, double.id or 0) == [(DOCTOR, 1), (NURSE, 2), (MANAGER, None)]
    assert _slots(engine, single.id or 0) == [(NURSE, None)]
