"""Double review, disputes, calibration and the managers' alerts, end to end through Slack."""

import threading
import time
from datetime import timedelta

import krippendorff
import pytest
from sqlmodel import Session, select

from bot.sandbox.blockkit import validate_message_blocks
from bot.sandbox.records import Message
from bot.services.grading import record_grade
from bot.services.standings import trainer_standing
from bot.store.models import Grade, Sample
from bot.workspace import Workspace
from handlers.disputes import disputes_answer
from schedules.escalation_check import run_escalation_check
from tests.conftest import NOW
from tests.support.consistency_setup import GOLD_NOTE, WHY, audited, double_review_workspace, grade
from tests.support.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    LEAD,
    MANAGER,
    NURSE,
    TRAINER1,
    TRAINER2,
    TRAINER3,
    week_of_records,
)
from tests.support.harness import RunningBot
from tests.support.status_support import ask, shown

SETTLE_NOTE = "Ibuprofen with CKD stage 3 is unsafe: the doctor is right, a major error."


@pytest.fixture
def workspace() -> Workspace:
    return double_review_workspace(
        agreement_min_samples=4, calibration_min_items=2,
        trainers=[{"user": TRAINER1, "task_types": ["clinical"], "lead": LEAD},
                  {"user": TRAINER2, "task_types": ["legal"], "lead": LEAD},
                  {"user": TRAINER3, "task_types": ["clinical"], "lead": DOCTOR}])


def _replies(bot: RunningBot, trainer: str = TRAINER1, *, records: list[dict] | None = None,
             ) -> list[Message]:
    bot.ingest(records or week_of_records(NOW, trainer=trainer, count=3))
    bot.run_audit()
    parent = [p for p in bot.parents(CLINICAL_CHANNEL) if f"<@{trainer}>" in p.text][-1]
    return [r for r in bot.thread_replies(CLINICAL_CHANNEL) if r.thread_ts == parent.ts]


def _context(message: Message) -> str:
    return " ".join(e.get("text", "") for b in message.blocks if b["type"] == "context"
                    for e in b["elements"])


def _shown(bot: RunningBot, message: Message, needle: str) -> Message:
    def updated() -> Message | None:
        current = bot.sandbox.message(CLINICAL_CHANNEL, message.ts)
        return current if current and needle in _context(current) else None
    return bot.driver.wait_for(updated)


def _grades(bot: RunningBot) -> list[Grade]:
    with Session(bot.ctx.engine) as session:
        return list(session.exec(select(Grade).order_by(Grade.id)).all())


def _submit_error(bot: RunningBot, user: str, message: Message, label: str = "Major error",
                  category: str = "Unsafe advice", explanation: str = WHY) -> None:
    bot.driver.click(user, message, label, channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(user))
    bot.driver.submit_view(user, modal, {"category": category, "explanation": explanation})


def _ephemeral(bot: RunningBot, user: str, needle: str):  # type: ignore[no-untyped-def]
    return bot.driver.wait_for(
        lambda: next((e for e in bot.sandbox.ephemerals(user=user) if needle in e.text), None))


def _dm(bot: RunningBot, user: str, needle: str) -> Message:
    return bot.driver.wait_for(
        lambda: next((m for m in bot.sandbox.dms(user) if needle in m.text), None))


def test_the_first_grade_stays_hidden_until_the_second_review_is_in(bot):
    sample = _replies(bot)[0]
    assert "0 of 2 reviews in" in _context(sample)
    bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    blind = _shown(bot, sample, "1 of 2 reviews in")
    assert "Pass" not in _context(blind) and f"<@{NURSE}>" not in _context(blind)
    note = _ephemeral(bot, NURSE, "grades stay hidden")
    assert note.thread_ts == sample.thread_ts
    assert bot.sandbox.ephemerals(user=DOCTOR) == []

    _submit_error(bot, DOCTOR, sample, "Minor issue", category="Factual error")
    both = _shown(bot, sample, "2 of 2 reviews in")
    assert f"<@{NURSE}>" in _context(both) and f"<@{DOCTOR}>" in _context(both)
    assert "Minor issue" in _context(both) and WHY in _context(both)


def test_the_first_reviewer_cannot_fill_the_second_slot(bot):
    sample = _replies(bot)[0]
    bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    bot.driver.wait_for(lambda: _grades(bot))
    _submit_error(bot, NURSE, sample)
    _ephemeral(bot, NURSE, "You changed your own grade")
    assert [(g.reviewer, g.grade) for g in _grades(bot)] == [(NURSE, "major")]
    bot.deliver()
    assert "1 of 2 reviews in" in _context(bot.sandbox.message(CLINICAL_CHANNEL, sample.ts))

    bot.driver.click(DOCTOR, sample, "Major error", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(DOCTOR))
    bot.driver.submit_view(DOCTOR, modal, {"category": "Unsafe advice", "explanation": WHY})
    _shown(bot, sample, "2 of 2 reviews in")
    for label in ("Pass", "Major error"):  # a third reviewer is refused, with no modal
        bot.driver.click(MANAGER, sample, label, channel=CLINICAL_CHANNEL)
    refusals = bot.driver.wait_for(
        lambda: [e for e in bot.sandbox.ephemerals(user=MANAGER) if "two reviews" in e.text]
        if len(bot.sandbox.ephemerals(user=MANAGER)) >= 2 else None)
    assert len(refusals) == 2 and bot.sandbox.views(MANAGER) == []
    assert len(_grades(bot)) == 2


def test_a_click_racing_another_second_review_is_refused_with_the_reason(bot):
    sample = _replies(bot)[0]
    bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    [first] = bot.driver.wait_for(lambda: _grades(bot))
    with Session(bot.ctx.engine) as rival:  # another replica, mid-way through its grade
        record_grade(rival, bot.ctx.workspace, sample_id=first.sample_id, reviewer=MANAGER,
                     grade="pass", category=None, explanation=None, now=NOW)
        # The click is answered once its grade is decided, so it is sent meanwhile.
        click = threading.Thread(target=bot.driver.click, args=(DOCTOR, sample, "Pass"),
                                 kwargs={"channel": CLINICAL_CHANNEL})
        click.start()
        time.sleep(0.5)  # the doctor's grade gets as far as the store, and waits there
        rival.commit()
        click.join()
    refusal = _ephemeral(bot, DOCTOR, "two reviews")
    assert refusal.thread_ts == sample.thread_ts
    assert [g.reviewer for g in _grades(bot)] == [NURSE, MANAGER]


def test_a_reviewer_never_grades_a_trainer_they_lead(bot):
    sample = _replies(bot, TRAINER3)[0]
    bot.driver.click(DOCTOR, sample, "Pass", channel=CLINICAL_CHANNEL)
    refusal = _ephemeral(bot, DOCTOR, "You lead")
    assert refusal.thread_ts == sample.thread_ts
    assert _grades(bot) == []


def _dispute(bot: RunningBot) -> Message:
    sample = _replies(bot)[0]
    bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    bot.driver.wait_for(lambda: _grades(bot))
    _submit_error(bot, DOCTOR, sample)
    return sample


def test_a_dispute_is_settled_by_a_manager_and_both_reviewers_are_told(bot):
    sample = _dispute(bot)
    notice = _dm(bot, MANAGER, "disagree")
    assert "Settle" in str(notice.blocks) and WHY in str(notice.blocks)
    _shown(bot, sample, "Disputed")

    text, blocks = disputes_answer(bot.ctx, MANAGER)
    assert text == "1 open dispute" and validate_message_blocks(blocks) == []
    assert WHY in str(blocks) and f"<@{NURSE}>" in str(blocks) and "Settle" in str(blocks)

    bot.driver.click(MANAGER, notice, "Settle", channel=notice.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(MANAGER))
    answer = bot.driver.submit_view(MANAGER, modal, {"settle_grade": "major",
                                                     "settle_note": "doctor's right"},
                                    client_checks=False).json()
    assert "at least 20 characters" in answer["errors"]["settle_note"]
    bot.driver.submit_view(MANAGER, modal, {"settle_grade": "major",
                                            "settle_note": SETTLE_NOTE})
    for reviewer in (NURSE, DOCTOR):
        told = _dm(bot, reviewer, "settled your disagreement")
        assert SETTLE_NOTE in str(told.blocks) and "Major error" in told.text
    settled = _shown(bot, sample, "Settled")
    assert f"<@{MANAGER}>" in _context(settled)
    assert disputes_answer(bot.ctx, MANAGER)[0] == "No open disputes."
    with Session(bot.ctx.engine) as session:
        current, _ = trainer_standing(session, bot.ctx.workspace, trainer=TRAINER1,
                                      task_type="clinical", now=NOW)
    assert (current.graded, current.score) == (1, 0.0)


def test_a_dispute_notice_lost_to_a_crash_is_owed_by_the_next_scheduled_check(bot):
    """Both grades commit, then the process dies before the follow-up owes the managers'
    notice (here the grades go straight to the store, and nothing follows them)."""
    _replies(bot)
    with Session(bot.ctx.engine) as session:
        sample = session.exec(select(Sample).order_by(Sample.id)).first()
        for reviewer, value, category, why in ((NURSE, "pass", None, None),
                                               (DOCTOR, "major", "Unsafe advice", WHY)):
            record_grade(session, bot.ctx.workspace, sample_id=sample.id, reviewer=reviewer,
                         grade=value, category=category, explanation=why, now=NOW)
        session.commit()
    bot.deliver()
    assert not [m for m in bot.sandbox.dms(MANAGER) if "disagree" in m.text]
    run_escalation_check(bot.ctx, now=NOW)
    bot.deliver()
    assert len([m for m in bot.sandbox.dms(MANAGER) if "disagree" in m.text]) == 1
    run_escalation_check(bot.ctx, now=NOW + timedelta(minutes=5))  # owed once, not per run
    bot.deliver()
    assert len([m for m in bot.sandbox.dms(MANAGER) if "disagree" in m.text]) == 1


def test_only_managers_may_settle(bot):
    _dispute(bot)
    notice = _dm(bot, MANAGER, "disagree")
    bot.driver.click(NURSE, notice, "Settle", channel=notice.channel)
    _dm(bot, NURSE, "Only managers can settle")
    assert bot.sandbox.views(NURSE) == []
    text, blocks = disputes_answer(bot.ctx, NURSE)  # reviewers see the list, read only
    assert text == "1 open dispute" and "Settle" not in [
        e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_the_grader_alone_sees_the_calibration_answer_after_grading(bot):
    records = week_of_records(NOW, count=3)
    records[0]["gold"] = {"grade": "major", "note": GOLD_NOTE}
    replies = _replies(bot, records=records)
    gold = next(r for r in replies if records[0]["id"] in r.blocks[0]["text"]["text"])
    assert GOLD_NOTE not in str(gold.blocks)
    bot.driver.click(NURSE, gold, "Pass", channel=CLINICAL_CHANNEL)
    reveal = _ephemeral(bot, NURSE, "Calibration item")
    assert GOLD_NOTE in str(reveal.blocks) and "missed" in str(reveal.blocks)
    assert reveal.thread_ts == gold.thread_ts
    bot.deliver()
    assert bot.sandbox.ephemerals(user=DOCTOR) == []
    assert all(GOLD_NOTE not in str(m.blocks) for m in bot.sandbox.messages(CLINICAL_CHANNEL))
    ordinary = next(r for r in replies if r.ts != gold.ts)
    bot.driver.click(DOCTOR, ordinary, "Pass", channel=CLINICAL_CHANNEL)
    _ephemeral(bot, DOCTOR, "grades stay hidden")
    assert not any("Calibration" in e.text for e in bot.sandbox.ephemerals(user=DOCTOR))


def test_managers_hear_once_a_week_that_reviewers_do_not_share_a_standard(bot):
    with Session(bot.ctx.engine, expire_on_commit=False) as session:
        earlier = audited(session, bot.ctx.workspace, now=NOW - timedelta(weeks=1))
        for sample, (a, b) in zip(earlier, [("pass", "major"), ("major", "pass"),
                                            ("pass", "minor")], strict=False):
            grade(session, bot.ctx.workspace, sample, NURSE, a, now=NOW - timedelta(weeks=1))
            grade(session, bot.ctx.workspace, sample, DOCTOR, b, now=NOW - timedelta(weeks=1))
    sample = _replies(bot)[0]
    bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    bot.driver.wait_for(lambda: len(_grades(bot)) == 7)
    assert not any("share a standard" in m.text for m in bot.sandbox.dms(MANAGER))
    _submit_error(bot, DOCTOR, sample)  # the fourth double review: alpha is now known
    alert = _dm(bot, MANAGER, "do not share a standard")
    assert "cannot be trusted" in str(alert.blocks) and "4 double-reviewed" in str(alert.blocks)
    # /audit status shows the same agreement: ordinal alpha over the four pairs (reviewers'
    # grades pass=0, minor=1, major=2), computed here by the library from the raw pairs.
    expected = krippendorff.alpha(reliability_data=[[0, 2, 0, 0], [2, 0, 1, 2]],
                                  value_domain=[0, 1, 2], level_of_measurement="ordinal")
    assert f"reviewer agreement {expected:.2f}" in shown(ask(bot, MANAGER, "status"))
    second = _replies(bot)[1]
    bot.driver.click(NURSE, second, "Pass", channel=CLINICAL_CHANNEL)
    _submit_error(bot, DOCTOR, second)
    bot.driver.wait_for(lambda: len(_grades(bot)) == 10)
    bot.deliver()
    assert len([m for m in bot.sandbox.dms(MANAGER) if "share a standard" in m.text]) == 1


def test_managers_hear_about_a_reviewer_who_misses_planted_errors(bot):
    records = week_of_records(NOW, count=3)
    for record in records[:2]:
        record["gold"] = {"grade": "major", "note": GOLD_NOTE}
    replies = _replies(bot, records=records)
    gold = [r for r in replies if any(rec["id"] in r.blocks[0]["text"]["text"]
                                      for rec in records[:2])]
    for reply in gold:
        bot.driver.click(NURSE, reply, "Pass", channel=CLINICAL_CHANNEL)
    flag = _dm(bot, MANAGER, "caught 0% of planted errors")
    assert f"<@{NURSE}>" in flag.text and "Clinical NLP" in flag.text


def _home_text(bot: RunningBot, user: str) -> str:
    published = len(bot.sandbox.calls("views.publish"))
    assert bot.driver.app_home_opened(user).status == 200
    bot.driver.wait_for(lambda: len(bot.sandbox.calls("views.publish")) > published)
    return shown(bot.sandbox.home(user) or {})


def test_a_lone_first_grade_moves_no_number_the_second_reviewer_can_read(bot: RunningBot):
    """The issue's leak: after only the first reviewer's Major, the second reviewer read
    "Score 0.00 … 1 graded" from `/audit status @trainer` and the count from `/audit status`."""
    first, *_ = _replies(bot)
    _submit_error(bot, NURSE, first)
    _shown(bot, first, "1 of 2 reviews")
    assert [g.grade for g in _grades(bot)] == ["major"]
    for viewer in (DOCTOR, TRAINER1, LEAD):
        report = shown(ask(bot, viewer, f"status <@{TRAINER1}>"))
        assert "Score *–*" in report and ", 0 graded" in report, report
        assert "0.00" not in report and "1 graded" not in report
    team = shown(ask(bot, DOCTOR, "status"))
    assert "Graded this week 0/3" in team and "window 0/3" in team, team
    own = _home_text(bot, TRAINER1)
    assert "score *–*" in own and "over 0 graded" in own and "Recently graded" not in own, own
    lead = _home_text(bot, LEAD)
    assert f"<@{TRAINER1}> · Clinical NLP — · too few grades · *–*" in lead, lead
    assert "` 0 graded" in lead and "1 graded" not in lead

    _submit_error(bot, DOCTOR, first, label="Minor issue")
    bot.driver.wait_for(lambda: len(_grades(bot)) == 2)
    report = shown(ask(bot, DOCTOR, f"status <@{TRAINER1}>"))
    assert "Score *0.25*" in report and ", 1 graded" in report, report
    assert "Graded this week 1/3" in shown(ask(bot, DOCTOR, "status"))
