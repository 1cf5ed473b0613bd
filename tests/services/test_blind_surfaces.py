"""Double review stays blind wherever grades reach people: the CSV export, the escalation
notice's worst samples and `/audit status @trainer`. A lone first grade counts in no score,
count or interval (nor the escalation rule) until the second review is in."""

import csv
import io
from datetime import timedelta

from sqlmodel import Session

from bot.services.escalation import check_trainer
from bot.services.export import AWAITING, export_grades
from bot.services.home import recent_graded
from bot.services.standings import trainer_standing
from bot.services.status import team_status
from bot.services.trainer_report import trainer_report
from bot.slack.cards import escalation_card
from bot.slack.escalation_blocks import escalation_notice
from bot.store.models import Escalation
from tests.conftest import NOW
from tests.support.consistency_setup import WHY, audited, double_review_workspace, grade
from tests.support.factories import DOCTOR, MANAGER, NURSE, TRAINER1

DOUBLE = double_review_workspace()
SECOND = "Misses that the patient already takes an NSAID for their back pain daily."


def _export(session: Session) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(
        export_grades(session, DOUBLE, weeks=1, now=NOW).csv)))


def test_the_export_marks_a_lone_first_grade_without_showing_it(session: Session):
    first, both = audited(session, DOUBLE, count=2)
    grade(session, DOUBLE, first, NURSE, "major")
    grade(session, DOUBLE, both, NURSE, "minor")
    grade(session, DOUBLE, both, DOCTOR, "pass")
    export = export_grades(session, DOUBLE, weeks=1, now=NOW)
    rows = list(csv.DictReader(io.StringIO(export.csv)))
    assert (export.rows, export.awaiting) == (2, 1)
    waiting = [r for r in rows if r["double_review"] == AWAITING]
    assert [r["sample"] for r in waiting] == ["1 of 2"]
    assert {k: waiting[0][k] for k in ("reviewer", "grade", "category", "explanation",
                                       "graded_at")} == dict.fromkeys(
        ("reviewer", "grade", "category", "explanation", "graded_at"), "")
    assert "major" not in export.csv  # the lone grade, nowhere
    assert [(r["reviewer"], r["grade"]) for r in rows if r["sample"] == "2 of 2"] == [
        (NURSE, "minor"), (DOCTOR, "pass")]

    grade(session, DOUBLE, first, DOCTOR, "major", category="Factual error")
    rows = _export(session)
    assert [(r["reviewer"], r["grade"], r["double_review"]) for r in rows[:2]] == [
        (NURSE, "major", "yes"), (DOCTOR, "major", "yes")]
    assert rows[0]["explanation"] == WHY


def test_a_changed_lone_grade_stays_hidden_in_the_export(session: Session):
    [sample] = audited(session, DOUBLE, count=1)
    grade(session, DOUBLE, sample, NURSE, "pass")
    grade(session, DOUBLE, sample, NURSE, "major")  # the first reviewer changes their mind
    [row] = _export(session)
    assert (row["grade"], row["double_review"]) == ("", AWAITING)


def _escalated(session: Session) -> Escalation:
    outcome = check_trainer(session, DOUBLE, trainer=TRAINER1, task_type="clinical", now=NOW)
    session.commit()
    escalation = session.get(Escalation, outcome.opened)
    assert escalation is not None
    return escalation


def _notice_text(session: Session, escalation: Escalation) -> str:
    card = escalation_card(session, DOUBLE, escalation, now=NOW, permalink=lambda c, t: None)
    return str(escalation_notice(card)[1])


def test_lone_first_grades_neither_escalate_nor_show_in_the_notice(session: Session):
    samples = audited(session, DOUBLE, count=5)
    for sample in samples:  # five lone Majors: nothing counts until the second grades
        grade(session, DOUBLE, sample, NURSE, "major")
    outcome = check_trainer(session, DOUBLE, trainer=TRAINER1, task_type="clinical", now=NOW)
    assert outcome.opened is None
    current, records = trainer_standing(session, DOUBLE, trainer=TRAINER1,
                                        task_type="clinical", now=NOW)
    assert (current.state, current.graded, records) == ("insufficient", 0, [])

    *revealed, blind = samples
    for sample in revealed:  # four Majors, both reviews in: a severe drop escalates at once
        grade(session, DOUBLE, sample, DOCTOR, "major", category="Factual error")
    escalation = _escalated(session)
    shown = _notice_text(session, escalation)
    assert "4 graded samples" in shown and "Worst samples" in shown and DOCTOR in shown
    assert f"Sample {blind.position + 1} of 5" not in shown


def test_a_lone_first_grade_counts_nowhere_until_the_second_is_in(session: Session):
    first, second = audited(session, DOUBLE, count=2)
    grade(session, DOUBLE, first, NURSE, "major", category="Factual error")
    grade(session, DOUBLE, second, NURSE, "minor", category="Factual error")
    grade(session, DOUBLE, second, DOCTOR, "minor", category="Factual error")
    current, _ = trainer_standing(session, DOUBLE, trainer=TRAINER1, task_type="clinical",
                                  now=NOW)
    assert (current.graded, current.score, current.settled) == (1, 0.5, False)
    assert current.counts["major"] == 0
    [task] = trainer_report(session, DOUBLE, trainer=TRAINER1, viewer=MANAGER,
                            now=NOW).tasks
    assert [r.sample_id for r in task.worst] == [second.id]
    assert (task.current.graded, task.history[-1].graded) == (1, 1)
    [clinical] = [t for t in team_status(session, DOUBLE, now=NOW, viewer=None).task_types
                  if t.key == "clinical"]
    assert (clinical.graded_week, clinical.graded_window, clinical.score) == (1, 1, 0.5)

    grade(session, DOUBLE, first, DOCTOR, "major", category="Factual error")
    [task] = trainer_report(session, DOUBLE, trainer=TRAINER1, viewer=MANAGER,
                            now=NOW).tasks
    assert (task.current.graded, task.current.score, task.current.settled) == (2, 0.25, True)
    assert [r.sample_id for r in task.worst] == [first.id, second.id]
    assert task.categories == (("Factual error", 4),)


def test_newer_lone_first_grades_do_not_crowd_the_home_s_recent_samples(session: Session):
    revealed, *blind = audited(session, DOUBLE, count=3)
    earlier = NOW - timedelta(hours=2)
    grade(session, DOUBLE, revealed, NURSE, "minor", now=earlier)
    grade(session, DOUBLE, revealed, DOCTOR, "pass", now=earlier)
    for sample in blind:  # graded since, once each: still blind
        grade(session, DOUBLE, sample, NURSE, "major")
    [recent] = recent_graded(session, DOUBLE, trainer=TRAINER1, limit=1)
    # (The trainer's own Home names no reviewer: show_reviewer_to_trainer is off.)
    assert (recent.position, [g[:2] for g in recent.grades]) == (
        revealed.position, [("", "minor"), ("", "pass")])
