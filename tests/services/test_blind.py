"""The blind double-review rule on a real database: the SQL condition and the id filter
agree, and a double review is revealed once its second review is in."""

from sqlmodel import Session, col, select

from bot.services.blind import blind_samples, revealed
from bot.store.models import Grade, Sample
from tests.support.consistency_setup import audited, double_review_workspace, grade
from tests.support.factories import DOCTOR, NURSE, make_workspace

DOUBLE = double_review_workspace()


def _revealed(session: Session, ids: list[int]) -> set[int]:
    rows = session.exec(select(Sample.id).where(col(Sample.id).in_(ids), revealed())).all()
    return {sid for sid in rows if sid is not None}


def test_a_double_review_stays_blind_until_its_second_review_is_in(session: Session):
    first, second, ungraded = audited(session, DOUBLE, count=3)
    grade(session, DOUBLE, first, NURSE, "major")
    grade(session, DOUBLE, second, NURSE, "minor")
    grade(session, DOUBLE, second, DOCTOR, "minor")
    ids = [first.id or 0, second.id or 0, ungraded.id or 0]
    assert blind_samples(session, ids) == {first.id, ungraded.id}
    assert _revealed(session, ids) == {second.id}
    assert blind_samples(session, []) == set()


def test_a_single_review_sample_is_never_blind(session: Session):
    workspace = make_workspace()
    sample, ungraded = audited(session, workspace, count=2)
    grade(session, workspace, sample, NURSE, "major")
    ids = [sample.id or 0, ungraded.id or 0]
    assert blind_samples(session, ids) == set()
    assert _revealed(session, ids) == set(ids)


def test_revealed_works_in_a_query_that_joins_grades_itself(session: Session):
    first, second = audited(session, DOUBLE, count=2)
    grade(session, DOUBLE, first, NURSE, "major")
    grade(session, DOUBLE, second, NURSE, "minor")
    grade(session, DOUBLE, second, DOCTOR, "minor")
    rows = session.exec(select(Grade.sample_id, Grade.reviewer)
                        .join(Sample, col(Sample.id) == Grade.sample_id)
                        .where(revealed()).order_by(col(Grade.id))).all()
    assert rows == [(second.id, NURSE), (second.id, DOCTOR)]
