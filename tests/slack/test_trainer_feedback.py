"""Feedback to trainers and their disputes of grades, end to end through Slack."""

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.sandbox.records import Message
from bot.services.feedback import fully_graded
from bot.services.standings import trainer_standing
from bot.store.models import OutboxItem
from bot.store.models.feedback import TrainerDispute, TrainerFeedback
from bot.workspace import Workspace, parse_workspace
from schedules.escalation_check import run_escalation_check
from tests.conftest import NOW
from tests.support.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    LEAD,
    MANAGER,
    NURSE,
    OUTSIDER,
    TRAINER1,
    week_of_records,
    workspace_data,
)
from tests.support.harness import RunningBot
from tests.support.status_support import ask, block_text, buttons, shown

WHY = "Recommends ibuprofen although the patient has stated CKD stage 3."
REASONING = "The patient said CKD stage 1, not 3: ibuprofen at this dose is acceptable."
VERDICT = "Re-read the prompt: it says stage 1, so the advice is safe. The grade was wrong."
UPHOLD_WHY = "Stage 3 is stated in the second sentence; ibuprofen is unsafe there."


def _workspace(**policy: Any) -> Workspace:
    data = workspace_data(**policy)
    return parse_workspace(data)


@pytest.fixture
def workspace() -> Workspace:
    return _workspace()


def _samples(bot: RunningBot, count: int = 3) -> list[Message]:
    bot.ingest(week_of_records(NOW, trainer=TRAINER1, count=count))
    bot.run_audit()
    parent = [p for p in bot.parents(CLINICAL_CHANNEL) if f"<@{TRAINER1}>" in p.text][-1]
    return [r for r in bot.thread_replies(CLINICAL_CHANNEL) if r.thread_ts == parent.ts]


def _major(bot: RunningBot, sample: Message, reviewer: str = NURSE) -> None:
    bot.driver.click(reviewer, sample, "Major error", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(reviewer))
    bot.driver.submit_view(reviewer, modal, {"category": "Unsafe advice", "explanation": WHY})


def _graded(bot: RunningBot, n: int) -> None:
    """Wait until ``n`` grades are in the store (each click's change is committed)."""
    from bot.store.models import Grade
    bot.driver.wait_for(lambda: len(_rows(bot, Grade)) >= n or None)


def _rows(bot: RunningBot, table: Any) -> list[Any]:
    with Session(bot.ctx.engine) as session:
        return list(session.exec(select(table)).all())


def _dms(bot: RunningBot, user: str, needle: str) -> list[Message]:
    return [m for m in bot.sandbox.dms(user) if needle in shown(m)]


def _dm(bot: RunningBot, user: str, needle: str) -> Message:
    return bot.driver.wait_for(lambda: next(iter(_dms(bot, user, needle)), None))


def _week_graded(bot: RunningBot, samples: list[Message]) -> Message:
    """Sample 1 Major, the rest Pass; the trainer's weekly DM."""
    _major(bot, samples[0])
    _graded(bot, 1)
    for sample in samples[1:]:
        bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    _graded(bot, len(samples))
    return _dm(bot, TRAINER1, "passed")


def _standing(bot: RunningBot) -> Any:
    with Session(bot.ctx.engine) as session:
        current, _ = trainer_standing(session, bot.ctx.workspace, trainer=TRAINER1,
                                      task_type="clinical", now=bot.ctx.clock.now())
    return current


def test_the_weekly_dm_lists_every_non_pass_with_its_reason_once_the_week_is_graded(bot):
    samples = _samples(bot)
    _major(bot, samples[0])
    _graded(bot, 1)
    bot.driver.click(NURSE, samples[1], "Pass", channel=CLINICAL_CHANNEL)
    _graded(bot, 2)
    bot.deliver()
    assert bot.sandbox.dms(TRAINER1) == []  # one sample still ungraded: not yet

    bot.driver.click(NURSE, samples[2], "Pass", channel=CLINICAL_CHANNEL)
    dm = _dm(bot, TRAINER1, "passed")
    text = shown(dm)
    print("\n--- the trainer's weekly DM ---\n" + text + "\n---")
    assert "2 passed" in text and "1 did not" in text
    assert "Major error" in text and "Unsafe advice" in text and WHY in text
    assert "Sample 1 of 3" in text and "<https://" in text  # linked to the sample
    assert "Your score:* 0.67" in text and "interval" in text and "weekly `" in text
    assert f"<@{NURSE}>" not in text and "Nora" not in text  # reviewers hidden by default
    assert buttons(dm) == ["Dispute"]

    # Exactly once: the scheduled catch-up and a repeated grade owe nothing more.
    run_escalation_check(bot.ctx, now=bot.ctx.clock.now())
    bot.driver.click(NURSE, samples[2], "Pass", channel=CLINICAL_CHANNEL)
    bot.deliver()
    assert len(_dms(bot, TRAINER1, "passed")) == 1
    assert len(_rows(bot, TrainerFeedback)) == 1


@pytest.mark.parametrize("workspace", [_workspace(trainer_feedback="each")])
def test_each_mode_sends_a_final_non_pass_at_once_and_the_week_for_the_rest(bot):
    samples = _samples(bot)
    _major(bot, samples[0])
    item = _dm(bot, TRAINER1, "a reviewer graded one of your samples")
    assert WHY in shown(item) and buttons(item) == ["Dispute"]
    assert f"<@{NURSE}>" not in shown(item)
    for sample in samples[1:]:
        bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    week = _dm(bot, TRAINER1, "2 passed")
    assert "sent to you one by one" in shown(week) and WHY not in shown(week)
    bot.deliver()
    assert len(bot.sandbox.dms(TRAINER1)) == 2


@pytest.mark.parametrize("workspace", [_workspace(trainer_feedback="off")])
def test_off_sends_nothing(bot):
    _week_graded_quietly(bot)
    assert bot.sandbox.dms(TRAINER1) == []


def _week_graded_quietly(bot: RunningBot) -> None:
    samples = _samples(bot)
    for sample in samples:
        bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    _graded(bot, len(samples))
    run_escalation_check(bot.ctx, now=bot.ctx.clock.now())
    bot.deliver()


@pytest.mark.parametrize("workspace", [_workspace(show_reviewer_to_trainer=True)])
def test_reviewer_names_reach_the_trainer_when_the_config_says_so(bot):
    dm = _week_graded(bot, _samples(bot))
    assert f"<@{NURSE}>" in shown(dm)


def _dispute(bot: RunningBot, dm: Message, reasoning: str = REASONING) -> None:
    bot.driver.click(TRAINER1, dm, "Dispute", channel=dm.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(TRAINER1))
    answer = bot.driver.submit_view(TRAINER1, modal,
                                    {"dispute_reasoning": "I disagree."},
                                    client_checks=False).json()
    assert "at least 20 characters" in answer["errors"]["dispute_reasoning"]
    bot.driver.submit_view(TRAINER1, modal, {"dispute_reasoning": reasoning})


def _decide(bot: RunningBot, reviewer: str, button: str, values: dict[str, Any]) -> dict:
    ask_dm = _dm(bot, reviewer, "disputes a non-pass grade")
    bot.driver.click(reviewer, ask_dm, button, channel=ask_dm.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(reviewer))
    return bot.driver.submit_view(reviewer, modal, values, client_checks=False).json()


def test_a_dispute_goes_blind_to_another_reviewer_and_an_overturn_replaces_the_grade(bot):
    dm = _week_graded(bot, _samples(bot))
    assert _standing(bot).graded == 3
    _dispute(bot, dm)

    # Blind to the doctor (the nurse graded it; the trainer's lead is not a reviewer here).
    review = _dm(bot, DOCTOR, "disputes a non-pass grade")
    assert REASONING in shown(review) and WHY not in shown(review)
    assert "Major" not in shown(review) and f"<@{NURSE}>" not in shown(review)
    assert buttons(review) == ["Uphold", "Overturn"]
    _dm(bot, TRAINER1, "is with a second reviewer")

    # The score waits for the outcome: the sample counts nowhere, the week is not graded.
    current = _standing(bot)
    assert (current.graded, current.score) == (2, 1.0)
    [row] = _rows(bot, TrainerDispute)
    with Session(bot.ctx.engine) as session:
        assert not fully_graded(session, trainer=TRAINER1, task_type="clinical",
                                iso_week=row.iso_week)

    # Managers see it, with its age, beside the double-review disagreements.
    bot.ctx.clock.advance(timedelta(hours=5))
    listing = shown(ask(bot, MANAGER, "disputes"))
    assert "No open disputes" in listing and "1 open trainer dispute" in listing
    assert f"<@{TRAINER1}>" in listing and "open 5h" in listing and f"<@{DOCTOR}>" in listing

    # The nurse cannot decide it; the doctor overturns it, with a reason and a grade.
    bot.driver.click(NURSE, review, "Overturn", channel=review.channel)
    _dm(bot, NURSE, "assigned to another reviewer")
    answer = _decide(bot, DOCTOR, "Overturn", {"decide_grade": "major", "decide_reason": VERDICT})
    assert "the grade under dispute" in answer["errors"]["decide_grade"]
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(DOCTOR))
    answer = bot.driver.submit_view(DOCTOR, modal, {"decide_grade": "pass",
                                                    "decide_reason": "too short"},
                                    client_checks=False).json()
    assert "at least 20 characters" in answer["errors"]["decide_reason"]
    bot.driver.submit_view(DOCTOR, modal, {"decide_grade": "pass", "decide_reason": VERDICT})

    told = _dm(bot, TRAINER1, "was overturned")
    assert VERDICT in shown(told) and "now counts as ✅ Pass" in shown(told)
    assert f"<@{DOCTOR}>" not in shown(told)
    first = _dm(bot, NURSE, "was overturned")
    assert VERDICT in shown(first) and f"<@{TRAINER1}>" in shown(first)
    current = _standing(bot)
    assert (current.graded, current.score) == (3, 1.0)
    assert "No open trainer disputes" in shown(ask(bot, MANAGER, "disputes"))
    stats = shown(ask(bot, MANAGER, "disputes"))
    assert f"<@{NURSE}> · Clinical NLP" in stats and "overturned 100% of 1" in stats


def test_an_upheld_dispute_counts_the_grade_again_and_each_refusal_says_why(bot):
    samples = _samples(bot)
    dm = _week_graded(bot, samples)
    # Not the trainer: someone else clicking the trainer's Dispute button.
    bot.driver.click(OUTSIDER, dm, "Dispute", channel=dm.channel)
    _dm(bot, OUTSIDER, "Only the trainer whose output this is")

    # A Pass cannot be disputed (a forged button on a passed sample).
    with Session(bot.ctx.engine) as session:
        from bot.store.models import Grade
        passed = session.exec(select(Grade.sample_id).where(Grade.grade == "pass")).first()
    forged = {"ts": "1.000001", "blocks": [{"type": "actions", "block_id": "x", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Dispute"},
         "action_id": f"trainer_dispute:{passed}", "value": str(passed)}]}]}
    bot.driver.click(TRAINER1, forged, "Dispute", channel=dm.channel)
    _dm(bot, TRAINER1, "graded Pass: there is nothing to dispute")

    _dispute(bot, dm)
    assert _standing(bot).graded == 2
    # A second dispute of the same sample.
    bot.driver.click(TRAINER1, dm, "Dispute", channel=dm.channel)
    _dm(bot, TRAINER1, "You already disputed this grade")

    _decide(bot, DOCTOR, "Uphold", {"decide_reason": UPHOLD_WHY})
    told = _dm(bot, TRAINER1, "was upheld")
    assert UPHOLD_WHY in shown(told)
    _dm(bot, NURSE, "was upheld")
    current = _standing(bot)
    assert (current.graded, round(current.score or 0, 2)) == (3, 0.67)


def test_too_late_a_dispute_is_refused(bot):
    dm = _week_graded(bot, _samples(bot))
    bot.ctx.clock.advance(timedelta(days=7, minutes=1))
    bot.driver.click(TRAINER1, dm, "Dispute", channel=dm.channel)
    _dm(bot, TRAINER1, "Too late: grades can be disputed within 7d")
    assert _rows(bot, TrainerDispute) == []


@pytest.mark.parametrize("workspace", [parse_workspace({
    **workspace_data(), "trainers": [{"user": TRAINER1, "task_types": ["clinical"],
                                      "lead": DOCTOR}]})])
def test_without_an_eligible_reviewer_the_trainer_is_told_and_managers_see_it(bot):
    dm = _week_graded(bot, _samples(bot))  # the nurse graded; the doctor leads the trainer
    _dispute(bot, dm)
    _dm(bot, TRAINER1, "No eligible second reviewer")
    assert [d.second_reviewer for d in _rows(bot, TrainerDispute)] == [None]
    assert _dms(bot, DOCTOR, "disputes a non-pass grade") == []
    assert "no eligible reviewer" in shown(ask(bot, MANAGER, "disputes"))
    assert _standing(bot).graded == 2  # still waiting
    bot.driver.app_home_opened(MANAGER)
    home = bot.driver.wait_for(lambda: bot.sandbox.home(MANAGER))
    seen = block_text(home["blocks"])
    assert "1 open trainer dispute" in seen and "no eligible reviewer" in seen

    # A manager decides it from `/audit disputes` (not the lead: the doctor leads the trainer).
    listing = ask(bot, MANAGER, "disputes")
    assert REASONING in shown(listing) and buttons(listing)[-2:] == ["Uphold", "Overturn"]
    bot.driver.click(MANAGER, listing, "Overturn", channel=listing.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(MANAGER))
    bot.driver.submit_view(MANAGER, modal, {"decide_grade": "minor", "decide_reason": VERDICT})
    told = _dm(bot, TRAINER1, "was overturned")
    assert "now counts as 🟡 Minor issue" in shown(told) and f"<@{MANAGER}>" not in shown(told)
    _dm(bot, NURSE, "was overturned")
    assert _standing(bot).graded == 3


def test_the_trainers_home_and_status_hide_reviewer_names(bot):
    _week_graded(bot, _samples(bot))
    bot.driver.app_home_opened(TRAINER1)
    home = bot.driver.wait_for(lambda: bot.sandbox.home(TRAINER1))
    seen = block_text(home["blocks"])
    assert WHY in seen and f"<@{NURSE}>" not in seen
    status = shown(ask(bot, TRAINER1, f"status <@{TRAINER1}>"))
    assert WHY in status and f"<@{NURSE}>" not in status
    lead = shown(ask(bot, LEAD, f"status <@{TRAINER1}>"))
    assert f"<@{NURSE}>" in lead  # the lead sees who graded


def test_feedback_dms_go_through_the_outbox_once_per_key(bot):
    _week_graded(bot, _samples(bot))
    with Session(bot.ctx.engine) as session:
        keys = [i.dedupe_key for i in session.exec(select(OutboxItem)).all()
                if i.dedupe_key.startswith("trainer_feedback:")]
    assert len(keys) == 1 and keys[0].startswith("trainer_feedback:week:")


@pytest.mark.parametrize("value", ["abc", " 1", "+1", str(10**30), "999999"])
def test_forged_dispute_and_decision_clicks_get_an_answer_never_a_5xx(bot, value):
    dm = _week_graded(bot, _samples(bot))
    before = len(bot.sandbox.dms(TRAINER1))
    for action, label in (("trainer_dispute:1", "Dispute"), ("trainer_dispute_uphold", "Uphold"),
                          ("trainer_dispute_overturn", "Overturn")):
        forged = {"ts": "1.000002", "blocks": [{"type": "actions", "block_id": "x",
                                                "elements": [{"type": "button", "text": {
                                                    "type": "plain_text", "text": label},
                                                    "action_id": action, "value": value}]}]}
        response = bot.driver.click(TRAINER1, forged, label, channel=dm.channel)
        assert response.status < 500
    # Each click is answered (a DM, as a click in a DM is), and nothing is recorded.
    bot.driver.wait_for(lambda: len(bot.sandbox.dms(TRAINER1)) >= before + 3 or None)
    assert _rows(bot, TrainerDispute) == []


UNCLEAR = "Says it is unsafe but never names the interaction it means."


def _reasoned_samples(bot: RunningBot, count: int = 3) -> list[Message]:
    records = week_of_records(NOW, trainer=TRAINER1, count=count)
    for n, record in enumerate(records):
        record.update(item=f"shared-{n}", label="A", reasoning=f"Sample {n}: {REASONING}")
    bot.ingest(records)
    bot.run_audit()
    parent = [p for p in bot.parents(CLINICAL_CHANNEL) if f"<@{TRAINER1}>" in p.text][-1]
    return [r for r in bot.thread_replies(CLINICAL_CHANNEL) if r.thread_ts == parent.ts]


def _unclear(bot: RunningBot, sample: Message, reviewer: str = NURSE) -> None:
    from bot.store.models.trainer import ClarityRating
    bot.driver.click(reviewer, sample, "Unclear", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(reviewer))
    bot.driver.submit_view(reviewer, modal, {"clarity_reason": UNCLEAR})
    bot.driver.wait_for(lambda: _rows(bot, ClarityRating) or None)


def _scorecard_of(bot: RunningBot) -> Any:
    from bot.services.scorecard import scorecards
    with Session(bot.ctx.engine) as session:
        return scorecards(session, bot.ctx.workspace, pairs=[(TRAINER1, "clinical")],
                          now=bot.ctx.clock.now())[(TRAINER1, "clinical")]


def _line(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


def test_the_weekly_dm_shows_the_scorecard_and_the_clarity_notes(bot):
    """The three parts of the scorecard as bot.services.scorecard computes them, each with
    its interval and weekly trend, and why a reviewer found the reasoning unclear, the
    reviewer unnamed."""
    samples = _reasoned_samples(bot)
    _unclear(bot, samples[1])
    dm = _week_graded(bot, samples)
    text = shown(dm)
    print("\n--- the trainer's weekly DM with the scorecard ---\n" + text + "\n---")
    card = _scorecard_of(bot)
    assert card.clarity.n == 1 and card.clarity.value == 0.0
    precision = _line(text, "*Your score:*")
    assert f"*Your score:* {card.precision.value:.2f}" in precision
    assert (f"interval {card.precision.lower:.2f}–{card.precision.upper:.2f}" in precision
            and f"over {card.precision.n} graded samples" in precision)
    clarity = _line(text, "*Clarity of your reasoning:*")
    assert f"0.00 (80% interval 0.00–{card.clarity.upper:.2f}) over 1 rating ·" in clarity
    assert "weekly `" in clarity
    assert _line(text, "*Consistency with other trainers:*") == \
        "*Consistency with other trainers:* – (nothing in the window yet)"
    assert "*Clarity notes:* a reviewer found your reasoning unclear" in text
    assert f"Sample 2 of 3>: {UNCLEAR}" in text
    assert f"<@{NURSE}>" not in text  # reviewers hidden by default


@pytest.mark.parametrize("workspace", [_workspace(show_reviewer_to_trainer=True)])
def test_the_clarity_notes_name_the_reviewer_when_the_policy_says_so(bot):
    samples = _reasoned_samples(bot)
    _unclear(bot, samples[0])
    text = shown(_week_graded(bot, samples))
    assert f"Sample 1 of 3> (<@{NURSE}>): {UNCLEAR}" in text


PRECEDENT_RULING = "Advice that matches the stated CKD stage 1 is not an error."
PRECEDENT_WHY = "Stage 1 kidney function allows a short ibuprofen course at this dose."


@pytest.mark.parametrize("outcome", ["Overturn", "Uphold"])
def test_the_reviewer_who_decided_a_dispute_saves_it_as_a_precedent(bot, outcome):
    """Whoever decided the trainer's dispute (upheld or overturned) is offered Save as
    precedent once, through the same ruling_of / save_precedent path as a settlement;
    the first reviewer, who did not decide it, is refused."""
    from bot.store.models.precedents import Precedent as SavedRow
    dm = _week_graded(bot, _samples(bot))
    _dispute(bot, dm)
    values = ({"decide_grade": "pass", "decide_reason": VERDICT} if outcome == "Overturn"
              else {"decide_reason": UPHOLD_WHY})
    _decide(bot, DOCTOR, outcome, values)
    offer = _dm(bot, DOCTOR, "Save it as a precedent")
    verdict = VERDICT if outcome == "Overturn" else UPHOLD_WHY
    badge = "✅ Pass" if outcome == "Overturn" else "🔴 Major error"
    assert verdict in shown(offer) and f"*Decision:* {badge}" in shown(offer)
    assert buttons(offer) == ["Save as precedent"]

    # Not the one who decided it: the first reviewer's click on the same button is refused.
    bot.driver.click(NURSE, offer, "Save as precedent", channel=offer.channel)
    refused = bot.driver.wait_for(lambda: next(
        (t for t in [e.text for e in bot.sandbox.ephemerals(user=NURSE)]
         + [m.text for m in bot.sandbox.dms(NURSE)] if "only they can save it" in t), None))
    assert f"<@{DOCTOR}> settled this sample" in refused

    bot.driver.click(DOCTOR, offer, "Save as precedent", channel=offer.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(DOCTOR))
    assert modal.view["title"]["text"] == "Save as precedent"
    assert verdict in str(modal.view["blocks"][0])
    category = next(b for b in modal.view["blocks"] if b["block_id"] == "precedent_category")
    # Upheld, the category defaults to the upheld grade's; overturned, nothing to go by.
    assert category["element"].get("initial_option", {}).get("value") == (
        "Unsafe advice" if outcome == "Uphold" else None)
    answer = bot.driver.submit_view(DOCTOR, modal, {
        "precedent_category": "Unsafe advice", "precedent_ruling": PRECEDENT_RULING,
        "precedent_rationale": PRECEDENT_WHY})
    assert answer.status == 200
    [row] = _rows(bot, SavedRow)
    assert (row.author, row.ruling, row.rationale) == (DOCTOR, PRECEDENT_RULING, PRECEDENT_WHY)
    found = shown(ask(bot, NURSE, "precedents ckd stage"))
    assert PRECEDENT_RULING in found and f"saved by <@{DOCTOR}>" in found
    bot.deliver()
    assert len(_dms(bot, DOCTOR, "Save it as a precedent")) == 1  # offered once
