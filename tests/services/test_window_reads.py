"""The reads many people make, on a real store: trainers' rows in risk order for whom they
are for, and disputes and pending bounded by the window when asked with ``now``."""

from datetime import timedelta

from sqlmodel import Session

from bot.services.disputes import count_open_disputes, list_disputes
from bot.services.pending import pending_for
from bot.services.trainer_rows import trainer_rows
from bot.store.models import TrainerState
from bot.workspace import parse_workspace
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace, grade
from tests.support.factories import DOCTOR, LAWYER, LEAD, MANAGER, NURSE, TRAINER1, workspace_data

WORKSPACE = double_review_workspace()
LONG_AGO = NOW - timedelta(weeks=10)  # outside the default 4-week window


def _crowd():
    data = workspace_data()
    data["trainers"] = [{"user": f"U0T{i:05d}", "task_types": ["clinical"], "lead": LEAD}
                        for i in range(6)]
    return parse_workspace(data)


def _state(session: Session, trainer: str, state: str, score: float | None) -> None:
    session.add(TrainerState(trainer=trainer, task_type="clinical", state=state, score=score,
                             since=NOW, updated_at=NOW))


def test_rows_come_riskiest_first_then_by_score_a_page_at_a_time(session: Session):
    crowd = _crowd()
    _state(session, "U0T00000", "ok", 0.95)
    _state(session, "U0T00001", "watch", 0.80)
    _state(session, "U0T00002", "escalate", 0.60)  # confidently below, not escalated
    _state(session, "U0T00003", "watch", 0.70)
    _state(session, "U0T00004", "ok", 0.90)
    session.commit()  # U0T00005: never checked, too few grades
    page = trainer_rows(session, crowd, viewer=MANAGER, now=NOW, size=4)
    assert [(r.trainer, r.state) for r in page.rows] == [
        ("U0T00003", "watch"), ("U0T00001", "watch"), ("U0T00002", "below"),
        ("U0T00005", "insufficient")]
    assert (page.number, page.pages, page.total, page.first) == (0, 2, 6, 0)
    last = trainer_rows(session, crowd, viewer=LEAD, now=NOW, page=5, size=4)  # clamped
    assert [r.trainer for r in last.rows] == ["U0T00004", "U0T00000"] and last.first == 4
    assert trainer_rows(session, crowd, viewer=NURSE, now=NOW).total == 0
    assert trainer_rows(session, crowd, viewer="U0T00001", now=NOW).total == 0


def test_a_row_shows_the_window_from_the_tallies(session: Session):
    samples = audited(session, WORKSPACE)
    grade(session, WORKSPACE, samples[0], NURSE, "pass")
    grade(session, WORKSPACE, samples[0], DOCTOR, "minor")
    grade(session, WORKSPACE, samples[1], NURSE, "major")  # blind: no number moves
    [row] = [r for r in trainer_rows(session, WORKSPACE, viewer=MANAGER, now=NOW).rows
             if r.trainer == TRAINER1]
    assert (row.graded, row.score, row.weekly[-1]) == (1, 0.75, 0.75)
    assert row.lower is not None and row.upper is not None and row.lower < 0.75 < row.upper


def test_disputes_and_pending_asked_with_now_leave_out_what_is_older_than_the_window(
        session: Session):
    old = audited(session, WORKSPACE, now=LONG_AGO, count=2)
    new = audited(session, WORKSPACE, count=2)
    for sample, at in ((old[0], LONG_AGO), (new[0], NOW)):
        grade(session, WORKSPACE, sample, NURSE, "pass", now=at)
        grade(session, WORKSPACE, sample, DOCTOR, "major", now=at)
    everything = list_disputes(session, WORKSPACE, user=MANAGER)
    assert {v.sample_id for v in everything} == {old[0].id, new[0].id}
    windowed = list_disputes(session, WORKSPACE, user=MANAGER, now=NOW)
    assert [v.sample_id for v in windowed] == [new[0].id]
    assert count_open_disputes(session, WORKSPACE, user=MANAGER, now=NOW) == 1
    assert list_disputes(session, WORKSPACE, user=LAWYER, now=NOW) == []

    assert {s.sample_id for s in pending_for(session, WORKSPACE, user=NURSE).samples} == {
        old[1].id, new[1].id}
    waiting = pending_for(session, WORKSPACE, user=NURSE, now=NOW)
    assert [s.sample_id for s in waiting.samples] == [new[1].id] and waiting.total == 1


def test_pending_counts_everything_and_returns_the_page_asked(session: Session):
    samples = audited(session, WORKSPACE, count=5)
    grade(session, WORKSPACE, samples[0], DOCTOR, "pass")  # a second review for NURSE
    first = pending_for(session, WORKSPACE, user=NURSE, limit=2, now=NOW)
    rest = pending_for(session, WORKSPACE, user=NURSE, limit=2, offset=2, now=NOW)
    assert first.total == rest.total == 5
    ids = [s.sample_id for s in first.samples + rest.samples]
    assert len(ids) == 4 and len(set(ids)) == 4
    assert [s.second_review for s in first.samples + rest.samples].count(True) <= 1
    assert pending_for(session, WORKSPACE, user=DOCTOR, now=NOW).total == 4
