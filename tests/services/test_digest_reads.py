"""The weekly digest's movers and who is below, now ranked and filtered by the store: the
same trainers named, in the same order, as when every trainer's tallies were summed in
Python; a trainer no longer configured is never named and does not take a place."""

from datetime import timedelta

from sqlmodel import Session

from bot.common.clock import iso_week
from bot.services.nudges import weekly_digest
from bot.store.models.tally import TrainerWeekTally
from bot.workspace import parse_workspace
from tests.conftest import NOW
from tests.support.factories import TRAINER1, workspace_data

DIGEST_AT = NOW + timedelta(weeks=1)  # the digest of 2026-W48 (the week of NOW)
BEFORE, AFTER = iso_week(NOW - timedelta(weeks=1)), iso_week(NOW)
GONE, GONE2 = "U0GONE0001", "U0GONE0002"  # tallied, but no longer in the config
# W48's Major errors out of four samples (all four were Pass in W47), in config order.
FALLS = {"U0FALL0001": 1, "U0TIE00001": 2, "U0TIE00002": 2, "U0FALL0003": 3,
         "U0FALL0004": 4}


def _workspace():
    data = workspace_data()
    extra = [*FALLS, "U0RISE0001", "U0FEW00001"]
    data["trainers"] += [{"user": u, "task_types": ["clinical"]} for u in extra]
    return parse_workspace(data)


def _tally(session: Session, trainer: str, week: str, **kinds: int) -> None:
    for kind, n in kinds.items():
        session.add(TrainerWeekTally(trainer=trainer, task_type="clinical", iso_week=week,
                                     kind=kind, samples=n))


def _seed(session: Session) -> None:
    for trainer, majors in FALLS.items():
        _tally(session, trainer, BEFORE, **{"pass": 4})
        _tally(session, trainer, AFTER, **{"pass": 4 - majors, "major": majors})
    _tally(session, GONE, BEFORE, **{"pass": 4})  # the largest fall of all
    _tally(session, GONE, AFTER, major=4)
    _tally(session, GONE2, BEFORE, **{"pass": 8})  # the third: the store's cut must widen
    _tally(session, GONE2, AFTER, **{"pass": 1, "major": 7})
    _tally(session, "U0RISE0001", BEFORE, major=4)
    _tally(session, "U0RISE0001", AFTER, **{"pass": 3, "minor": 1})
    _tally(session, "U0FEW00001", BEFORE, **{"pass": 1})  # one graded: not a mover
    _tally(session, "U0FEW00001", AFTER, major=4)
    _tally(session, TRAINER1, BEFORE, **{"pass": 4, "": 2})  # unchanged: not a mover
    _tally(session, TRAINER1, AFTER, **{"pass": 4})
    session.commit()


def test_the_largest_falls_and_rises_are_named_without_an_unconfigured_trainer(
        session: Session):
    _seed(session)
    digest = weekly_digest(session, _workspace(), now=DIGEST_AT)
    assert digest.week == AFTER
    # Four Majors, then three; of the two tied at two, the first in the config takes the
    # third place; the two unconfigured trainers' larger falls take none.
    assert [m.trainer for m in digest.fallers] == ["U0FALL0004", "U0FALL0003", "U0TIE00001"]
    assert all(m.after < m.before for m in digest.fallers)
    assert [m.trainer for m in digest.risers] == ["U0RISE0001"]
    named = {m.trainer for m in (*digest.risers, *digest.fallers)}
    assert not named & {GONE, GONE2, "U0FEW00001", TRAINER1}


def test_who_is_below_is_in_config_order_and_only_configured_trainers(session: Session):
    _seed(session)
    digest = weekly_digest(session, _workspace(), now=DIGEST_AT)
    clinical = next(t for t in digest.task_types if t.key == "clinical")
    # Over the window (both weeks, threshold 0.85, a Major scores 0): one Major in eight
    # is 0.875, not below; two or more are; only Passes is not; the one no longer
    # configured is not named.
    assert clinical.below == ("U0TIE00001", "U0TIE00002", "U0FALL0003", "U0FALL0004",
                              "U0RISE0001", "U0FEW00001")
    # The task type's own week counts everyone tallied (the unconfigured too), as it always
    # did.
    assert clinical.graded == 4 * len(FALLS) + 4 + 8 + 4 + 4 + 4
    legal = next(t for t in digest.task_types if t.key == "legal")
    assert legal.below == () and legal.graded == 0
