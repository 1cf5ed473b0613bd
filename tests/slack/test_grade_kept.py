"""A click answered is a click kept: the grade is stored before the ack, and a store that
cannot take it in time is answered "not recorded" with nothing stored (issue 10)."""

import json
import logging
import threading
import time
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, select

from bot.sandbox.records import Message
from bot.store.models import Grade
from tests.support.busy_store import store_locked
from tests.support.factories import CLINICAL_CHANNEL, DOCTOR, NURSE, TRAINER1, week_of_records
from tests.support.harness import RunningBot

EXPLANATION = "Recommends ibuprofen although the patient has stated CKD stage 3."


def _samples(bot: RunningBot) -> list[Message]:
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=3))
    bot.run_audit()
    parent = next(p for p in bot.parents(CLINICAL_CHANNEL) if f"<@{TRAINER1}>" in p.text)
    return [r for r in bot.thread_replies(CLINICAL_CHANNEL) if r.thread_ts == parent.ts]


def _grades(bot: RunningBot) -> list[tuple[str, str]]:
    with Session(bot.ctx.engine) as session:
        return [(g.reviewer, g.grade) for g in session.exec(select(Grade)).all()]


def _told(bot: RunningBot, needle: str) -> list[str]:
    return [e.text for e in bot.sandbox.ephemerals(user=NURSE) if needle in e.text]


def test_a_pass_click_on_a_locked_store_is_answered_not_recorded_and_keeps_nothing(bot):
    sample = _samples(bot)[0]
    with store_locked(bot.ctx.engine):
        response = bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
        assert response.status == 200 and not response.timed_out
        told = bot.driver.wait_for(lambda: _told(bot, "not recorded"))
    assert "try again" in told[0]
    assert _grades(bot) == []
    # Once the store is free, the same click is recorded.
    response = bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    assert response.status == 200 and not response.timed_out
    assert _grades(bot) == [(NURSE, "pass")]


def test_a_store_too_slow_to_commit_in_time_keeps_nothing_and_says_so(bot):
    """The reverse of the old failure: the ack came in time, the grade was stored seconds
    later. Now a grade that cannot commit within the budget is rolled back."""
    sample = _samples(bot)[0]

    slow = threading.Event()

    def slow_query(*_args: object) -> None:
        if slow.is_set():
            time.sleep(0.4)  # every statement: recording a grade now takes seconds

    # Left attached (removing it while another thread runs a statement breaks SQLAlchemy).
    event.listen(bot.ctx.engine, "before_cursor_execute", slow_query)
    slow.set()
    try:
        response = bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    finally:
        slow.clear()
    assert response.status == 200 and not response.timed_out
    bot.driver.wait_for(lambda: _told(bot, "not recorded"))
    assert _grades(bot) == []


def test_a_modal_submitted_on_a_locked_store_stays_open_saying_not_recorded(bot):
    sample = _samples(bot)[0]
    bot.driver.click(NURSE, sample, "Minor issue", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))
    category = bot.ctx.workspace.task_type("clinical").error_categories[0]
    with store_locked(bot.ctx.engine):
        response = bot.driver.submit_view(NURSE, modal, {"category": category,
                                                         "explanation": EXPLANATION})
    assert response.status == 200 and not response.timed_out
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert any("not recorded" in text for text in answer["errors"].values())
    assert bot.driver.open_modal(NURSE) is not None  # the reviewer's text is still there
    assert _grades(bot) == []
    response = bot.driver.submit_view(NURSE, modal, {"category": category,
                                                     "explanation": EXPLANATION})
    assert response.status == 200 and not response.json()
    assert _grades(bot) == [(NURSE, "minor")]


def test_a_repeated_grade_click_that_finds_its_modal_open_tells_nobody_of_an_error(bot, caplog):
    """Slack delivers the same click twice; the second views.open finds the trigger used
    (`exchanged_trigger_id`). The reviewer's modal is open: nothing to apologise for."""
    caplog.set_level(logging.INFO, logger="handlers.modals")
    sample = _samples(bot)[0]
    sent: list[dict[str, Any]] = []
    send = bot.driver.send_payload

    def keep(payload: dict[str, Any], **opts: Any) -> Any:
        sent.append(json.loads(json.dumps(payload)))
        return send(payload, **opts)

    bot.driver.send_payload = keep  # type: ignore[method-assign]
    bot.driver.click(NURSE, sample, "Minor issue", channel=CLINICAL_CHANNEL)
    bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))
    response = send(sent[0])  # the same delivery again
    assert response.status == 200
    # The second listener is done when it has either told the reviewer or logged.
    bot.driver.wait_for(lambda: bot.sandbox.ephemerals(user=NURSE)
                        or "already open" in caplog.text)
    assert [c.response.get("error") for c in bot.sandbox.calls("views.open")] == [
        None, "exchanged_trigger_id"]
    assert bot.sandbox.ephemerals(user=NURSE) == []
    assert bot.sandbox.dms(NURSE) == []


def _sample_id(message: Message) -> int:
    return next(int(b["block_id"].split("-")[1]) for b in message.blocks
                if b["type"] == "actions" and str(b.get("block_id", "")).startswith("sample-"))


def test_with_every_listener_busy_no_click_is_answered_against_what_was_kept(bot):
    """More clicks than listener threads while the store is held past Slack's 3 seconds:
    a click Slack saw fail (no 200 in time) has no grade, a click answered in time either
    has its grade or its reviewer was told "not recorded" — never the other way round."""
    samples = _samples(bot)
    reviewers = (NURSE, DOCTOR)
    clicks = [(reviewer, sample) for reviewer in reviewers for sample in samples[:4]]
    answers: dict[tuple[str, int], Any] = {}

    def click(reviewer: str, sample: Message) -> None:
        answers[(reviewer, _sample_id(sample))] = bot.driver.click(
            reviewer, sample, "Pass", channel=CLINICAL_CHANNEL)

    with store_locked(bot.ctx.engine):
        threads = [threading.Thread(target=click, args=pair) for pair in clicks]
        for thread in threads:
            thread.start()
        time.sleep(3.5)  # the store stays held past the ack deadline of every click
    for thread in threads:
        thread.join()
    # Whatever the listeners still do after their answers, let it finish.
    bot.driver.wait_for(lambda: len(bot.sandbox.ephemerals()) + len(_grades(bot))
                        >= len(clicks) or None, timeout=10)
    with Session(bot.ctx.engine) as session:
        kept = {(g.reviewer, g.sample_id) for g in session.exec(select(Grade)).all()}
    for (reviewer, sample_id), answer in answers.items():
        if answer.status != 200 or answer.timed_out:
            assert (reviewer, sample_id) not in kept  # Slack showed an error: nothing kept
    told = [e for e in bot.sandbox.ephemerals() if "not recorded" in e.text]
    answered = [key for key, a in answers.items() if a.status == 200 and not a.timed_out]
    assert len(told) == len(clicks) - len(kept)
    assert set(kept) <= set(answered)
