"""The counts the reads take instead of the grades, kept by the grading transaction: the
reviewer-week tallies (agreement, calibration) and each audit thread's graded count agree
with counting every grade again from scratch (what migration 0022 does), after grades,
changes of grade and calibration items; and the reads that use them send the same number of
queries whatever the number of trainers and task types."""

from typing import Any

from sqlalchemy import Engine, event, text
from sqlmodel import Session, col, select

from bot.services import reviewer_tallies, tallies
from bot.services.calibration import calibration_by_task_type
from bot.services.consistency import agreement_by_task_type
from bot.services.disputes import open_disputes
from bot.services.reviewer_quality import reviewer_quality
from bot.services.status import team_status
from bot.services.trainer_rows import trainer_rows
from bot.store.models import AuditThread
from bot.store.models.tally import ReviewerWeekTally
from bot.workspace import parse_workspace
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace, grade, weeks_back
from tests.support.factories import DOCTOR, MANAGER, NURSE, workspace_data

WORKSPACE = double_review_workspace()


def _kept(session: Session) -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    rows = session.exec(select(ReviewerWeekTally.task_type, ReviewerWeekTally.iso_week,
                               ReviewerWeekTally.reviewer, ReviewerWeekTally.kind,
                               ReviewerWeekTally.samples)
                        .where(col(ReviewerWeekTally.samples) > 0)).all()
    threads = session.exec(select(AuditThread.id, AuditThread.graded_samples)
                           .order_by(col(AuditThread.id))).all()
    return sorted(tuple(r) for r in rows), [(i or 0, n) for i, n in threads]


def _recounted(session: Session) -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    connection = session.connection()
    connection.execute(text("DELETE FROM reviewer_week_tally"))
    connection.execute(text("UPDATE audit_thread SET graded_samples = 0"))
    connection.execute(text("DELETE FROM trainer_week_tally"))
    reviewer_tallies.recount(connection)
    tallies.recount(connection)  # sets the threads' graded counts too
    return _kept(session)


def test_the_kept_counts_are_what_counting_every_grade_again_gives(session: Session):
    gold = ["major", "pass", None, "minor", None]
    older = audited(session, WORKSPACE, now=weeks_back(1), gold=gold)
    current = audited(session, WORKSPACE, gold=gold)
    for n, sample in enumerate(older + current):
        grade(session, WORKSPACE, sample, NURSE, ("pass", "minor", "major")[n % 3])
        if n % 4 != 3:  # some double reviews keep waiting for their second grade
            grade(session, WORKSPACE, sample, DOCTOR, ("major", "pass")[n % 2])
    grade(session, WORKSPACE, current[0], NURSE, "major")  # a change: counted once only
    grade(session, WORKSPACE, current[1], DOCTOR, "minor")
    kept = _kept(session)
    assert kept[0] and any(n for _, n in kept[1])
    assert kept == _recounted(session)


def test_a_change_of_grade_moves_no_count(session: Session):
    [sample] = audited(session, WORKSPACE, count=1, gold=["major"])
    grade(session, WORKSPACE, sample, NURSE, "pass")
    grade(session, WORKSPACE, sample, DOCTOR, "major")
    before = _kept(session)
    grade(session, WORKSPACE, sample, NURSE, "major")  # after the reveal: keeps the first
    assert _kept(session) == before
    [calibration] = calibration_by_task_type(session, WORKSPACE, now=NOW)["clinical"][:1]
    assert (calibration.reviewer, calibration.errors, calibration.caught) == (DOCTOR, 1, 1)
    [thread] = before[1]
    assert thread[1] == 1  # both grades in: graded once


def _workspace(prefix: str, trainers: int, task_types: int) -> Any:
    data = workspace_data(double_review_fraction=1.0)
    base = data["task_types"][0]
    data["task_types"] = [{**base, "key": f"tt{k}", "name": f"Task {k}",
                           "channel": f"C0TT{k:04d}"} for k in range(task_types)]
    data["trainers"] = [{"user": f"U0{prefix}{i:05d}", "task_types": [f"tt{i % task_types}"]}
                        for i in range(trainers)]
    return parse_workspace(data)


def _selects(engine: Engine, read: Any) -> int:
    seen: list[str] = []

    def keep(*args: Any) -> None:  # (connection, cursor, statement, ...)
        if args[2].lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", keep)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return len(seen)


def _reads(session: Session, workspace: Any) -> dict[str, int]:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    return {
        "status": _selects(engine, lambda: team_status(session, workspace, now=NOW,
                                                       viewer=MANAGER)),
        "rows": _selects(engine, lambda: trainer_rows(session, workspace, viewer=MANAGER,
                                                      now=NOW)),
        "agreement": _selects(engine, lambda: agreement_by_task_type(session, workspace,
                                                                     now=NOW)),
        "calibration": _selects(engine, lambda: calibration_by_task_type(session, workspace,
                                                                         now=NOW)),
        "quality": _selects(engine, lambda: reviewer_quality(session, workspace, now=NOW)),
        "disputes": _selects(engine, lambda: open_disputes(session, workspace, user=MANAGER,
                                                           now=NOW, limit=8)),
    }


def test_the_reads_send_as_many_queries_for_many_trainers_and_task_types(session: Session):
    small, large = _workspace("S", 2, 2), _workspace("L", 24, 6)
    for workspace in (small, large):
        for trainer in workspace.trainers[:12]:
            key = trainer.task_types[0]
            for sample in audited(session, workspace, trainer=trainer.user, task_type=key,
                                  count=2):
                grade(session, workspace, sample, NURSE, "pass")
                grade(session, workspace, sample, DOCTOR, "major")  # a dispute
    few, many = _reads(session, small), _reads(session, large)
    assert few == many, (few, many)
    assert open_disputes(session, large, user=MANAGER, now=NOW, limit=8).total > 8
