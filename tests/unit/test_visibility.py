"""Who may see whom: one rule for `/audit status`, `status @trainer`, Home and the digest."""

from datetime import UTC, datetime

import pytest

from bot.common.errors import NotFound
from bot.services.escalation_view import EscalationLine
from bot.services.nudges import Digest, DigestTaskType, Mover, digest_for
from bot.services.people import NotAllowed
from bot.services.status import Backlog
from bot.services.visibility import check_may_see_trainer, may_see_trainer, split_visible
from tests.support.factories import (
    DOCTOR,
    LAWYER,
    LEAD,
    MANAGER,
    NURSE,
    OUTSIDER,
    TRAINER1,
    TRAINER2,
    make_workspace,
)

WORKSPACE = make_workspace()


@pytest.mark.parametrize(("viewer", "sees"), [
    (TRAINER1, True),   # themself
    (LEAD, True),       # their lead
    (MANAGER, True),
    (DOCTOR, True),     # reviews clinical, their task type
    (NURSE, True),      # a trainer too, but a clinical reviewer
    (TRAINER2, False),  # a peer
    (LAWYER, False),    # reviews legal only
    (OUTSIDER, False),
    (None, True),       # no person: a job's full picture
])
def test_who_may_see_a_trainer(viewer: str | None, sees: bool):
    assert may_see_trainer(WORKSPACE, viewer=viewer, trainer=TRAINER1) is sees


def test_the_refusal_and_the_split_follow_the_same_rule():
    with pytest.raises(NotAllowed, match=f"Only <@{TRAINER1}>, their lead"):
        check_may_see_trainer(WORKSPACE, viewer=TRAINER2, trainer=TRAINER1)
    with pytest.raises(NotFound):
        check_may_see_trainer(WORKSPACE, viewer=MANAGER, trainer=OUTSIDER)
    assert check_may_see_trainer(WORKSPACE, viewer=LEAD, trainer=TRAINER2).user == TRAINER2
    assert split_visible(WORKSPACE, viewer=TRAINER2, trainers=(TRAINER1, TRAINER2)) == (
        (TRAINER2,), 1)
    assert split_visible(WORKSPACE, viewer=LEAD, trainers=(TRAINER1, TRAINER2)) == (
        (TRAINER1, TRAINER2), 0)


def _line(trainer: str) -> EscalationLine:
    opened = datetime(2026, 11, 20, tzinfo=UTC)
    return EscalationLine(id=1, trainer=trainer, task_type="clinical", task_name="Clinical",
                          status="open", level=0, levels=2, opened_at=opened, notified=(),
                          acknowledged_by=None, acknowledged_at=None, closed_by=None,
                          closed_at=None, close_note=None, score=0.5, threshold=0.85)


def test_the_digest_names_only_whom_its_reader_may_see():
    digest = Digest(
        week="2026-W47", sent_in="2026-W48",
        task_types=(DigestTaskType(key="clinical", name="Clinical", threshold=0.85,
                                   score=0.7, graded=5, previous=0.8,
                                   below=(TRAINER1, TRAINER2), backlog=Backlog()),),
        risers=(Mover(TRAINER2, "legal", 0.5, 0.9),),
        fallers=(Mover(TRAINER1, "clinical", 0.9, 0.5),),
        open_escalations=(_line(TRAINER1),))
    assert digest_for(digest, WORKSPACE, viewer=MANAGER) == digest
    own = digest_for(digest, WORKSPACE, viewer=TRAINER2)
    assert own.task_types[0].below == (TRAINER2,)
    assert (own.risers, own.fallers, own.open_escalations) == (digest.risers, (), ())
