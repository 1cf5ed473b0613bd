"""Reviewers grading in the thread, as Slack delivers it: clicks and modal submissions as
signed HTTP requests and, for a bot in Socket Mode, as envelopes over its WebSocket."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.sandbox.records import Message
from bot.store.models import Grade, GradeEvent
from tests.support.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    LAWYER,
    MANAGER,
    NURSE,
    OUTSIDER,
    TRAINER1,
    output_record,
    week_of_records,
)
from tests.support.harness import RunningBot


@pytest.fixture(params=["http", "socket_mode"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


EXPLANATION = "Recommends ibuprofen although the patient has stated CKD stage 3."


@pytest.fixture
def replies(bot: RunningBot) -> list[Message]:
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=3))
    bot.ingest(week_of_records(bot.ctx.clock.now(), trainer=NURSE, count=2))
    bot.run_audit()
    return [r for r in bot.thread_replies(CLINICAL_CHANNEL)]


def _trainer_replies(bot: RunningBot, trainer: str) -> list[Message]:
    parent = next(p for p in bot.parents(CLINICAL_CHANNEL) if f"<@{trainer}>" in p.text)
    return [r for r in bot.thread_replies(CLINICAL_CHANNEL) if r.thread_ts == parent.ts]


def _grades(bot: RunningBot) -> list[Grade]:
    with Session(bot.ctx.engine) as session:
        return list(session.exec(select(Grade)).all())


def _context_text(message: Message) -> str:
    return " ".join(e.get("text", "") for b in message.blocks if b["type"] == "context"
                    for e in b["elements"])


def _wait_for_update(bot: RunningBot, message: Message, needle: str) -> Message:
    def updated() -> Message | None:
        current = bot.sandbox.message(CLINICAL_CHANNEL, message.ts)
        return current if current and needle in _context_text(current) else None
    return bot.driver.wait_for(updated)


def test_pass_is_recorded_at_once_and_the_sample_shows_who_graded(bot, replies):
    sample = _trainer_replies(bot, TRAINER1)[0]
    response = bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    assert response.status == 200 and not response.timed_out
    updated = _wait_for_update(bot, sample, "Pass")
    assert f"<@{NURSE}>" in _context_text(updated)
    assert updated.edited
    assert [(g.reviewer, g.grade) for g in _grades(bot)] == [(NURSE, "pass")]


def test_a_double_click_and_a_replayed_click_record_one_grade(bot, replies):
    sample = _trainer_replies(bot, TRAINER1)[0]
    for _ in range(3):
        bot.driver.click(DOCTOR, sample, "Pass", channel=CLINICAL_CHANNEL)
    bot.driver.wait_for(lambda: _grades(bot))
    _wait_for_update(bot, sample, "Pass")
    bot.deliver()
    assert len(_grades(bot)) == 1
    with Session(bot.ctx.engine) as session:
        assert len(session.exec(select(GradeEvent)).all()) == 1


def test_major_error_opens_the_modal_and_records_on_submit(bot, replies):
    sample = _trainer_replies(bot, TRAINER1)[1]
    bot.driver.click(NURSE, sample, "Major error", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))
    labels = [b.get("label", {}).get("text") for b in modal.view["blocks"]]
    assert "Error category" in labels
    response = bot.driver.submit_view(NURSE, modal, {
        "category": "Unsafe advice", "explanation": EXPLANATION})
    assert response.status == 200
    assert not response.json()  # an empty ack closes the modal
    bot.driver.wait_for(lambda: _grades(bot))
    grade = _grades(bot)[0]
    assert (grade.grade, grade.category, grade.explanation) == (
        "major", "Unsafe advice", EXPLANATION)
    updated = _wait_for_update(bot, sample, "Major error")
    assert "Unsafe advice" in _context_text(updated)


def test_a_short_explanation_is_shown_on_the_field_and_nothing_is_recorded(bot, replies):
    sample = _trainer_replies(bot, TRAINER1)[0]
    bot.driver.click(NURSE, sample, "Minor issue", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))
    response = bot.driver.submit_view(NURSE, modal, {"category": "Other", "explanation": "meh"},
                                      client_checks=False)
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "at least 20 characters" in answer["errors"]["explanation"]
    assert bot.driver.open_modal(NURSE) is not None  # the modal stays open to fix it
    assert _grades(bot) == []


def test_an_explanation_padded_with_zero_width_spaces_is_refused(bot, replies):
    """Slack's own min_length counts the 35 code points and lets it through; auditbot
    counts the five a reader sees."""
    sample = _trainer_replies(bot, TRAINER1)[0]
    bot.driver.click(NURSE, sample, "Major error", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))
    padded = "aaaaa" + "\u200b" * 30
    answer = bot.driver.submit_view(NURSE, modal, {"category": "Other",
                                                   "explanation": padded}).json()
    assert answer["response_action"] == "errors"
    assert "you wrote 5" in answer["errors"]["explanation"]
    assert _grades(bot) == []


def test_a_reviewer_may_change_their_grade_and_the_latest_counts(bot, replies):
    sample = _trainer_replies(bot, TRAINER1)[0]
    bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    bot.driver.wait_for(lambda: _grades(bot))
    bot.driver.click(NURSE, sample, "Minor issue", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))
    bot.driver.submit_view(NURSE, modal, {"category": "Factual error", "explanation": EXPLANATION})
    bot.driver.wait_for(lambda: _grades(bot)[0].grade == "minor")
    assert len(_grades(bot)) == 1
    _wait_for_update(bot, sample, "Minor issue")


@pytest.mark.parametrize("user", [OUTSIDER, LAWYER])
def test_someone_who_does_not_review_clinical_gets_an_ephemeral_reason(bot, replies, user):
    sample = _trainer_replies(bot, TRAINER1)[0]
    bot.driver.click(user, sample, "Pass", channel=CLINICAL_CHANNEL)
    refusal = bot.driver.wait_for(lambda: bot.sandbox.ephemerals(user=user))
    assert "Clinical NLP reviewers" in refusal[0].text
    assert refusal[0].thread_ts == sample.thread_ts
    assert _grades(bot) == []


def test_a_refused_error_click_opens_no_modal(bot, replies):
    sample = _trainer_replies(bot, TRAINER1)[0]
    bot.driver.click(OUTSIDER, sample, "Major error", channel=CLINICAL_CHANNEL)
    bot.driver.wait_for(lambda: bot.sandbox.ephemerals(user=OUTSIDER))
    assert bot.sandbox.views(OUTSIDER) == []


def test_nobody_grades_their_own_output(bot, replies):
    own = _trainer_replies(bot, NURSE)[0]
    bot.driver.click(NURSE, own, "Pass", channel=CLINICAL_CHANNEL)
    refusal = bot.driver.wait_for(lambda: bot.sandbox.ephemerals(user=NURSE))
    assert "your own output" in refusal[0].text
    assert _grades(bot) == []


def test_managers_may_grade(bot, replies):
    sample = _trainer_replies(bot, TRAINER1)[0]
    bot.driver.click(MANAGER, sample, "Pass", channel=CLINICAL_CHANNEL)
    bot.driver.wait_for(lambda: _grades(bot))
    assert _grades(bot)[0].reviewer == MANAGER


def test_a_forged_submission_is_refused_with_401_and_changes_nothing(bot, replies, transport):
    if transport == "socket_mode":
        pytest.skip("Socket Mode has no signatures: the app-level token opened the socket")
    sample = _trainer_replies(bot, TRAINER1)[0]
    for signature, offset in (("missing", 0), ("wrong", 0), ("valid", -400)):
        response = bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL,
                                    signature=signature, timestamp_offset=offset)
        assert response.status == 401
    assert _grades(bot) == []
    assert bot.sandbox.message(CLINICAL_CHANNEL, sample.ts).edited is False


def test_show_full_opens_the_whole_output_in_a_modal(bot):
    long_output = "The discharge plan, paragraph by paragraph. " * 2300  # ~100k characters
    record = output_record(1, created_at=bot.ctx.clock.now() - timedelta(hours=3),
                           output=long_output)
    bot.ingest([record])
    bot.run_audit()
    sample = bot.thread_replies(CLINICAL_CHANNEL)[0]
    bot.driver.click(DOCTOR, sample, "Show full", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(DOCTOR))
    shown = " ".join(b["text"]["text"] for b in modal.view["blocks"] if b["type"] == "section")
    assert "".join(shown.split()) == "".join(("Question 1: a patient asks whether they can "
                                              "combine two medicines." + long_output).split())
