"""The escalation card reads what the store holds, including nullable columns."""

from sqlmodel import Session

from bot.services.escalation import check_trainer
from bot.slack.cards import escalation_card
from bot.slack.escalation_blocks import escalation_notice
from bot.store.models import Escalation
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace, grade
from tests.support.factories import DOCTOR, NURSE, TRAINER1

WORKSPACE = double_review_workspace()


def test_a_recovered_escalation_without_a_close_note_shows_why_it_opened(session: Session):
    for sample in audited(session, WORKSPACE, count=5):  # five Majors: a severe drop
        grade(session, WORKSPACE, sample, NURSE, "major")
        grade(session, WORKSPACE, sample, DOCTOR, "major")
    outcome = check_trainer(session, WORKSPACE, trainer=TRAINER1, task_type="clinical", now=NOW)
    escalation = session.get(Escalation, outcome.opened)
    assert escalation is not None
    escalation.status, escalation.close_note = "recovered", None  # a row from elsewhere
    session.commit()

    card = escalation_card(session, WORKSPACE, escalation, now=NOW,
                           permalink=lambda c, t: None)
    _, blocks = escalation_notice(card)

    assert card.reason == escalation.reason
    assert escalation.reason in str(blocks)
