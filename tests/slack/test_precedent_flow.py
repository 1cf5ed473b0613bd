"""Precedents end to end through the sandbox: a manager settles a disagreement and saves it
as a precedent from the settlement's DM (and edits it); the refusals (not the settler, not
settled, too short); `/audit precedents` finds it, ranked, only for the task type's people,
whatever the words; the grading modal shows the two saved precedents most like the sample."""

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.sandbox.records import Message
from bot.services.disputes import settle
from bot.services.grading import record_grade
from bot.services.precedent_save import save_precedent
from bot.slack.precedent_form import save_button
from bot.store.db import session_scope
from bot.store.models import Sample
from bot.store.models.precedents import Precedent as SavedRow
from bot.workspace import Workspace
from tests.conftest import NOW
from tests.support.consistency_setup import WHY, double_review_workspace
from tests.support.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    LAWYER,
    MANAGER,
    NURSE,
    TRAINER1,
    week_of_records,
)
from tests.support.harness import RunningBot
from tests.support.status_support import ask, shown

SETTLE_NOTE = "Ibuprofen with CKD stage 3 is unsafe: the doctor is right, a major error."
RULING = "NSAIDs for a patient with stated kidney disease are a Major error."
RATIONALE = "Even a single dose risks acute kidney injury; the output must warn or refuse."


@pytest.fixture
def workspace() -> Workspace:
    return double_review_workspace()


def _replies(bot: RunningBot, count: int = 3) -> list[Message]:
    bot.ingest(week_of_records(NOW, trainer=TRAINER1, count=count))
    bot.run_audit()
    parent = [p for p in bot.parents(CLINICAL_CHANNEL) if f"<@{TRAINER1}>" in p.text][-1]
    return [r for r in bot.thread_replies(CLINICAL_CHANNEL) if r.thread_ts == parent.ts]


def _dm(bot: RunningBot, user: str, needle: str) -> Message:
    return bot.driver.wait_for(
        lambda: next((m for m in bot.sandbox.dms(user) if needle in m.text), None))


def _told(bot: RunningBot, user: str, needle: str) -> str:
    """A refusal reaches the person who clicked: ephemeral or DM, whichever Slack allows."""
    def said() -> str | None:
        texts = [e.text for e in bot.sandbox.ephemerals(user=user)]
        texts += [m.text for m in bot.sandbox.dms(user)]
        return next((t for t in texts if needle in t), None)
    return bot.driver.wait_for(said)


def _settled(bot: RunningBot) -> Message:
    """Nurse passes, doctor says Major error, the manager settles it: the offer DM."""
    sample = _replies(bot)[0]
    bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    bot.driver.wait_for(lambda: "1 of 2" in str(bot.sandbox.message(CLINICAL_CHANNEL,
                                                                     sample.ts)))
    bot.driver.click(DOCTOR, sample, "Major error", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(DOCTOR))
    bot.driver.submit_view(DOCTOR, modal, {"category": "Unsafe advice", "explanation": WHY})
    notice = _dm(bot, MANAGER, "disagree")
    bot.driver.click(MANAGER, notice, "Settle", channel=notice.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(MANAGER))
    bot.driver.submit_view(MANAGER, modal, {"settle_grade": "major", "settle_note": SETTLE_NOTE})
    return _dm(bot, MANAGER, "You settled")


def _saved(bot: RunningBot) -> list[SavedRow]:
    with Session(bot.ctx.engine) as session:
        return list(session.exec(select(SavedRow)).all())


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def test_whoever_settled_saves_the_ruling_as_a_precedent_and_reviewers_find_it(bot):
    offer = _settled(bot)
    assert "Save as precedent" in str(offer.blocks) and SETTLE_NOTE in shown(offer)
    bot.driver.click(MANAGER, offer, "Save as precedent", channel=offer.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(MANAGER))
    assert modal.view["title"]["text"] == "Save as precedent"
    assert "Clinical NLP" in str(modal.view["blocks"][0])  # the task type, fixed
    fields = _inputs(modal.view)
    # The category defaults to that of the review the settlement agreed with.
    assert fields["precedent_category"]["initial_option"]["value"] == "Unsafe advice"
    assert [o["value"] for o in fields["precedent_category"]["options"]] == list(
        bot.ctx.workspace.task_type("clinical").error_categories)

    short = bot.driver.submit_view(MANAGER, modal, {
        "precedent_category": "Unsafe advice", "precedent_ruling": "Major." + "\u200b" * 20,
        "precedent_rationale": "Too short."}, client_checks=False).json()
    assert "at least 15 characters" in short["errors"]["precedent_ruling"]
    assert "at least 20 characters" in short["errors"]["precedent_rationale"]
    assert _saved(bot) == []

    answer = bot.driver.submit_view(MANAGER, modal, {
        "precedent_category": "Unsafe advice", "precedent_ruling": RULING,
        "precedent_rationale": RATIONALE})
    assert answer.status == 200 and not answer.body.strip()  # stored, then the form closed
    [row] = _saved(bot)
    assert (row.author, row.task_type, row.category, row.ruling) == (
        MANAGER, "clinical", "Unsafe advice", RULING)

    found = shown(ask(bot, NURSE, "precedents nsaids kidney"))
    assert "📌 *Precedent* · *Unsafe advice*: " + RULING in found
    assert RATIONALE in found and f"saved by <@{MANAGER}>" in found
    assert "https://sandbox.slack.test/archives/C0CLINICAL/" in found
    assert "No precedents for “nsaids”" in shown(ask(bot, LAWYER, "precedents nsaids"))
    assert "reviewers and managers" in ask(bot, TRAINER1, "precedents nsaids").text

    # Its author edits it: the form comes back filled in, and saving replaces the text.
    bot.driver.click(MANAGER, offer, "Save as precedent", channel=offer.channel)
    edit = bot.driver.wait_for(
        lambda: (m := bot.driver.open_modal(MANAGER)) and m.id != modal.id and m)
    assert edit.view["title"]["text"] == "Edit precedent"
    assert _inputs(edit.view)["precedent_ruling"]["initial_value"] == RULING
    bot.driver.submit_view(MANAGER, edit, {
        "precedent_category": "Unsafe advice",
        "precedent_ruling": "Paracetamol overdoses are a Major error whatever the tone.",
        "precedent_rationale": RATIONALE})
    [row] = _saved(bot)
    assert row.ruling.startswith("Paracetamol")
    assert "Paracetamol overdoses" in shown(ask(bot, DOCTOR, "precedents paracetamol"))
    assert "No precedents" in shown(ask(bot, DOCTOR, "precedents nsaids"))


def test_only_the_settler_may_save_and_only_a_settled_sample(bot):
    offer = _settled(bot)
    bot.driver.click(DOCTOR, offer, "Save as precedent", channel=offer.channel)
    assert "only they can save it" in _told(bot, DOCTOR, "settled this sample")
    assert bot.sandbox.views(DOCTOR) == [] or all(
        v.callback_id != "precedent_modal" for v in bot.sandbox.views(DOCTOR))

    # A button for a sample nobody settled (a stale or forged message) is refused.
    with Session(bot.ctx.engine) as session:
        open_ = session.exec(select(Sample).order_by(col(Sample.id).desc())).first()
    assert open_ is not None and open_.id is not None
    forged = {"ts": "1796000000.000100", "blocks": [
        {"type": "actions", "block_id": "forged", "elements": [save_button(open_.id)]}]}
    bot.driver.click(MANAGER, forged, "Save as precedent", channel=CLINICAL_CHANNEL)
    _told(bot, MANAGER, "has not been settled")
    assert _saved(bot) == []


HOSTILE = ['"NEAR(ibuprofen', "ibu* OR 1=1; DROP TABLE grade; --", "'\"*^-:", "🙂 Zürich",
           "ckd\" OR \"x", "{category}: NOT *"]


@pytest.mark.parametrize("words", HOSTILE)
def test_hostile_search_words_get_an_answer_not_an_error(bot, words):
    _settled(bot)
    answer = ask(bot, NURSE, f"precedents {words}")
    assert answer.source == "response_url"
    assert "No precedents for" in answer.text or "Precedents for" in answer.text
    assert "went wrong" not in shown(answer)
    assert "Precedents for “ckd”" in shown(ask(bot, NURSE, "precedents ckd"))


def test_the_ranking_puts_the_more_relevant_ruling_first(bot):
    replies = _replies(bot, count=3)
    with session_scope(bot.ctx.engine) as session:
        samples = session.exec(select(Sample).order_by(col(Sample.position))).all()
        texts = ["Ibuprofen again: ibuprofen is wrong here, and ibuprofen at this dose is worse.",
                 "The summary lists the history, the allergies, the medication including "
                 "ibuprofen, the vitals and the plan, but puts the plan before the findings."]
        for minutes, (sample, text) in enumerate(zip(samples, texts, strict=False)):
            for reviewer, grade in ((NURSE, "minor"), (DOCTOR, "minor")):
                record_grade(session, bot.ctx.workspace, sample_id=sample.id or 0,
                             reviewer=reviewer, grade=grade, category="Factual error",
                             explanation=text, now=NOW + timedelta(minutes=minutes))
    assert replies
    found = shown(ask(bot, NURSE, "precedents ibuprofen"))
    assert found.index("ibuprofen is wrong here") < found.index("the medication including")
    assert "Most relevant first" in found


CONTEXT = "Precedents in Clinical NLP"


def _save_settled(bot: RunningBot, sample: Sample, ruling: str, rationale: str) -> None:
    with session_scope(bot.ctx.engine) as session:
        for reviewer, grade in ((NURSE, "pass"), (DOCTOR, "major")):
            record_grade(session, bot.ctx.workspace, sample_id=sample.id or 0,
                         reviewer=reviewer, grade=grade,
                         category=None if grade == "pass" else "Unsafe advice",
                         explanation=None if grade == "pass" else WHY, now=NOW)
        settle(session, bot.ctx.workspace, sample_id=sample.id or 0, manager=MANAGER,
               grade="major", note=SETTLE_NOTE, now=NOW)
        save_precedent(session, bot.ctx.workspace, sample_id=sample.id or 0, author=MANAGER,
                       category="Unsafe advice", ruling=ruling, rationale=rationale, now=NOW)


def test_the_grading_modal_shows_the_two_saved_precedents_most_like_the_sample(bot):
    """The samples read "check the interaction table; ask a pharmacist" for "a patient asks
    whether they can combine two medicines": the precedent about combining medicines and
    the interaction table ranks first, the one about pharmacists second; one about dosing
    children shares no word and stays out."""
    replies = _replies(bot, count=5)
    with Session(bot.ctx.engine) as session:
        samples = list(session.exec(select(Sample).order_by(col(Sample.position))).all())
    # Nothing saved yet: the modal is as it was (as it opens, before any precedents would
    # fill it in).
    bot.driver.click(NURSE, replies[4], "Minor issue", channel=CLINICAL_CHANNEL)
    plain = bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))
    assert CONTEXT not in str(plain.view["blocks"])

    _save_settled(bot, samples[0], "Dosing errors for children are always a Major error.",
                  "Weight-based dosing must be stated; a guess can harm a child.")
    _save_settled(bot, samples[1], "Telling a patient to ask a pharmacist is not enough.",
                  "The output itself must answer; a pharmacist is a backup, not the answer.")
    _save_settled(bot, samples[2],
                  "Combining medicines without the interaction table is a Major error.",
                  "Check the interaction table for each pair of medicines before answering "
                  "whether a patient can combine them; then name the pharmacist.")
    sample = next(r for r in replies if f"sample-{samples[3].id}" in str(r.blocks))
    bot.driver.click(DOCTOR, sample, "Major error", channel=CLINICAL_CHANNEL)
    # It opens at once and the precedents fill it in after (``fill_modal``).
    modal = bot.driver.wait_for(lambda: (m := bot.driver.open_modal(DOCTOR))
                                and CONTEXT in str(m.view["blocks"]) and m)
    text = str(modal.view["blocks"])
    assert text.index("Combining medicines") < text.index("ask a pharmacist is not enough")
    assert "Dosing errors for children" not in text
    assert text.count("📌 *Precedent*") == 2
    # The form itself is unchanged below the context: category and explanation.
    assert [b["block_id"] for b in modal.view["blocks"] if b["type"] == "input"] == [
        "category", "explanation"]
