"""The escalation card and `/audit status` name the interval alike, and the card shows the
test that opened the escalation: its window, interval and weeks with their counts."""

import re

from sqlmodel import select

from bot.services.grading import record_grade
from bot.store.db import session_scope
from bot.store.models import Grade
from tests.support.escalation_setup import (
    BAD_WEEKS,
    audited_weeks,
    check,
    escalation_dms,
    shown_text,
)
from tests.support.factories import LEAD, MANAGER, TRAINER1
from tests.support.harness import RunningBot
from tests.support.status_support import ask, shown

INTERVAL = re.compile(r"80% interval (\d\.\d\d)–(\d\.\d\d)")


def test_card_and_status_name_the_same_interval_and_the_card_shows_the_test(bot: RunningBot):
    audited_weeks(bot, BAD_WEEKS)
    check(bot)
    [notice] = escalation_dms(bot, LEAD)
    card = shown_text(notice)
    assert "bounds" not in card
    current = INTERVAL.search(card.split("*Trend*")[0])
    assert current is not None
    status = shown(ask(bot, MANAGER, "status"))
    row = next(line for line in status.split("\n") if line.startswith(f"<@{TRAINER1}> · "))
    assert current.group(0) in row  # the same words, level and numbers

    tested = next(b["text"]["text"] for b in notice.blocks
                  if b["type"] == "section" and "Opened on the test" in b["text"]["text"])
    assert tested.startswith("*Opened on the test over 2026-W45–2026-W48* (10 graded): "
                             "80% interval ")
    assert "W45 no audit · W46 no audit · W47 5 of 5 graded, 0.30 · W48 5 of 5 graded, 0.00" \
        in tested
    assert "W47 0.30 (5) · W48 0.00 (5)" in card  # the trend with its counts


def test_the_card_keeps_the_test_that_opened_it_when_grades_change(bot: RunningBot):
    audited_weeks(bot, BAD_WEEKS)
    check(bot)
    [notice] = escalation_dms(bot, LEAD)

    def tested_section() -> str:
        message = bot.sandbox.message(notice.channel, notice.ts)
        assert message is not None
        return next(b["text"]["text"] for b in message.blocks
                    if b["type"] == "section" and "Opened on the test" in b["text"]["text"])

    opened_with = tested_section()
    with session_scope(bot.ctx.engine) as session:
        grade = session.exec(select(Grade).where(Grade.grade == "major")).first()
        assert grade is not None
        record_grade(session, bot.ctx.workspace, sample_id=grade.sample_id,
                     reviewer=grade.reviewer, grade="pass", category=None, explanation=None,
                     now=bot.ctx.clock.now())
    check(bot)
    updated = bot.sandbox.message(notice.channel, notice.ts)
    assert updated is not None
    assert shown_text(updated) != shown_text(notice)  # the current score moved
    assert tested_section() == opened_with  # the decision that opened it did not
