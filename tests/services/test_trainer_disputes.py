"""Trainer disputes and feedback in the store: tallies, exactly-once, who decides."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from bot.common.clock import iso_week
from bot.common.errors import AuditbotError
from bot.services.feedback import fully_graded, owe_due_feedback, owe_thread_feedback
from bot.services.standings import trainer_standing, window_samples
from bot.services.tallies import as_samples, recount, sample_kind, trainer_override, window_tallies
from bot.services.trainer_disputes import (
    check_may_dispute,
    decide_trainer_dispute,
    open_trainer_dispute,
    overturn_rates,
    pick_second_reviewer,
)
from bot.store.models.feedback import TrainerDispute, TrainerFeedback
from bot.store.models.tally import TrainerWeekTally
from bot.workspace import parse_workspace
from tests.conftest import NOW
from tests.support.consistency_setup import audited, grade
from tests.support.factories import DOCTOR, MANAGER, NURSE, TRAINER1, workspace_data

SINGLE = parse_workspace(workspace_data())
WEEK = iso_week(NOW.astimezone(SINGLE.tz))
REASONING = "The patient said CKD stage 1, not 3: ibuprofen at this dose is acceptable."
VERDICT = "Re-read the prompt: it says stage 1, so the advice is safe. The grade was wrong."


def _counted(session: Session) -> Counter[tuple[str, ...]]:
    samples, _ = window_samples(session, SINGLE, trainer=TRAINER1, task_type="clinical",
                                weeks=[WEEK])
    return Counter(tuple(sorted(s.grades)) for s in samples)


def _tallied(session: Session) -> Counter[tuple[str, ...]]:
    tally = window_tallies(session, pairs=[(TRAINER1, "clinical")], weeks=[WEEK])
    return Counter(tuple(sorted(s.grades))
                   for s in as_samples(tally.get((TRAINER1, "clinical"), {})))


def _recounted(engine: Engine, session: Session) -> Counter[tuple[str, ...]]:
    session.exec(delete(TrainerWeekTally))
    session.commit()
    with engine.begin() as connection:
        recount(connection)
    return _tallied(session)


def _graded_week(session: Session) -> list[int]:
    samples = audited(session, SINGLE, count=3)
    grade(session, SINGLE, samples[0], NURSE, "major")
    grade(session, SINGLE, samples[1], NURSE, "pass")
    grade(session, SINGLE, samples[2], NURSE, "pass")
    assert owe_thread_feedback(session, SINGLE, thread_id=samples[0].thread_id, now=NOW) == 1
    session.commit()
    return [s.id or 0 for s in samples]


def test_an_open_dispute_is_ungraded_and_an_overturn_counts_the_new_grade(engine: Engine,
                                                                          session: Session):
    ids = _graded_week(session)
    assert _tallied(session) == _counted(session) == Counter({("major",): 1, ("pass",): 2})
    opened = open_trainer_dispute(session, SINGLE, sample_id=ids[0], trainer=TRAINER1,
                                  reasoning=REASONING, now=NOW)
    session.commit()
    assert opened.dispute.second_reviewer == DOCTOR and opened.created
    waiting = Counter({(): 1, ("pass",): 2})
    assert _tallied(session) == _counted(session) == waiting
    assert not fully_graded(session, trainer=TRAINER1, task_type="clinical", iso_week=WEEK)
    current, _ = trainer_standing(session, SINGLE, trainer=TRAINER1, task_type="clinical",
                                  now=NOW)
    assert (current.graded, current.score, current.settled) == (2, 1.0, False)
    assert _recounted(engine, session) == waiting

    with pytest.raises(AuditbotError, match="assigned to another reviewer"):
        decide_trainer_dispute(session, SINGLE, sample_id=ids[0], reviewer=NURSE,
                               outcome="overturned", grade="pass", reason=VERDICT, now=NOW)
    session.rollback()
    _, changed = decide_trainer_dispute(session, SINGLE, sample_id=ids[0], reviewer=DOCTOR,
                                        outcome="overturned", grade="pass", reason=VERDICT,
                                        now=NOW)
    session.commit()
    # The same decision again (a retried form) changes nothing; another is refused.
    assert changed and not decide_trainer_dispute(
        session, SINGLE, sample_id=ids[0], reviewer=DOCTOR, outcome="overturned",
        grade="pass", reason=VERDICT, now=NOW)[1]
    with pytest.raises(AuditbotError, match="decided already"):
        decide_trainer_dispute(session, SINGLE, sample_id=ids[0], reviewer=DOCTOR,
                               outcome="upheld", grade=None, reason=VERDICT, now=NOW)
    session.rollback()
    done = Counter({("pass",): 3})
    assert _tallied(session) == _counted(session) == done
    assert fully_graded(session, trainer=TRAINER1, task_type="clinical", iso_week=WEEK)
    assert _recounted(engine, session) == done
    rates = overturn_rates(session, task_type="clinical", weeks=[WEEK])
    assert (rates[NURSE].decided, rates[NURSE].overturned, rates[NURSE].rate) == (1, 1, 1.0)


def test_a_dispute_once_per_sample_and_the_same_one_resubmitted_is_no_error(session: Session):
    ids = _graded_week(session)
    first = open_trainer_dispute(session, SINGLE, sample_id=ids[0], trainer=TRAINER1,
                                 reasoning=REASONING, now=NOW)
    session.commit()
    again = open_trainer_dispute(session, SINGLE, sample_id=ids[0], trainer=TRAINER1,
                                 reasoning=REASONING, now=NOW)
    assert not again.created and again.dispute.id == first.dispute.id
    with pytest.raises(AuditbotError, match="already disputed"):
        open_trainer_dispute(session, SINGLE, sample_id=ids[0], trainer=TRAINER1,
                             reasoning=REASONING + " And more.", now=NOW)
    session.rollback()
    assert len(session.exec(select(TrainerDispute)).all()) == 1


def test_refusals(session: Session):
    ids = _graded_week(session)
    with pytest.raises(AuditbotError, match="Only the trainer"):
        check_may_dispute(session, SINGLE, sample_id=ids[0], user=NURSE, now=NOW)
    with pytest.raises(AuditbotError, match="graded Pass"):
        check_may_dispute(session, SINGLE, sample_id=ids[1], user=TRAINER1, now=NOW)
    later = NOW + timedelta(days=7, seconds=1)
    with pytest.raises(AuditbotError, match="Too late"):
        check_may_dispute(session, SINGLE, sample_id=ids[0], user=TRAINER1, now=later)
    assert check_may_dispute(session, SINGLE, sample_id=ids[0], user=TRAINER1,
                             now=NOW + timedelta(days=7)).sample_id == ids[0]
    with pytest.raises(AuditbotError, match="at least 20"):
        open_trainer_dispute(session, SINGLE, sample_id=ids[0], trainer=TRAINER1,
                             reasoning="  wrong   grade \u200b\u200b\u200b\u200b ", now=NOW)


def test_the_weekly_feedback_is_owed_once_whatever_asks_again(engine: Engine,
                                                              session: Session):
    ids = _graded_week(session)
    thread_id = session.exec(select(TrainerFeedback.thread_id)).one()
    session.commit()
    with Session(engine) as other:  # another replica, or the catch-up after a retry
        assert owe_thread_feedback(other, SINGLE, thread_id=thread_id, now=NOW) == 0
        other.commit()
    assert owe_thread_feedback(session, SINGLE, thread_id=thread_id, now=NOW) == 0
    assert [f.key for f in session.exec(select(TrainerFeedback)).all()] == [
        f"week:{thread_id}"]
    assert ids


def test_the_second_reviewer_is_the_least_loaded_eligible_one(session: Session):
    ws = parse_workspace({**workspace_data(), "task_types": [
        {"key": "clinical", "name": "Clinical NLP", "channel": "C0CLINICAL",
         "reviewers": [NURSE, DOCTOR, MANAGER], "error_categories": ["Other"]}],
        "trainers": [{"user": TRAINER1, "task_types": ["clinical"], "lead": MANAGER}]})
    # Never who graded it, never the lead; of the rest, config order on a tie.
    assert pick_second_reviewer(session, ws, task_type="clinical", trainer=TRAINER1,
                                exclude={NURSE}) == DOCTOR
    assert pick_second_reviewer(session, ws, task_type="clinical", trainer=TRAINER1,
                                exclude={NURSE, DOCTOR}) is None
    assert pick_second_reviewer(session, ws, task_type="clinical", trainer=TRAINER1,
                                exclude=set()) == NURSE


def test_what_a_trainer_dispute_makes_a_sample_count_as():
    assert trainer_override("open", None) == ""
    assert trainer_override("overturned", "pass") == "pass"
    assert trainer_override("upheld", None) is None
    assert sample_kind(["major"], double_review=False, calibration=False, settled=None,
                       overridden=trainer_override("overturned", "minor")) == "minor"
    assert sample_kind(["pass", "major"], double_review=True, calibration=False,
                       settled="major", overridden=trainer_override("open", None)) == ""


def test_the_catch_up_owes_the_weeks_a_lost_follow_up_left_out(session: Session):
    samples = audited(session, SINGLE, count=2)
    grade(session, SINGLE, samples[0], NURSE, "major")  # straight to the store: no follow-up
    assert owe_due_feedback(session, SINGLE, now=NOW) == 0  # one sample still ungraded
    grade(session, SINGLE, samples[1], NURSE, "pass")
    assert owe_due_feedback(session, SINGLE, now=NOW) == 1
    assert owe_due_feedback(session, SINGLE, now=NOW) == 0
    session.commit()
    assert [f.key for f in session.exec(select(TrainerFeedback)).all()] == [
        f"week:{samples[0].thread_id}"]
