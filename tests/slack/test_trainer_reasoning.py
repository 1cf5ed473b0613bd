"""The trainer's side of a record, end to end: items, labels and reasoning ingested (over
HTTP too), the reasoning on the sample post, and reviewers rating it Clear / Unclear."""

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.sandbox.records import Message
from bot.store.models import TrainerOutput
from bot.store.models.trainer import ClarityRating
from bot.workspace import Workspace, parse_workspace
from tests.support.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    LAWYER,
    NURSE,
    OUTSIDER,
    TRAINER1,
    output_record,
    workspace_data,
)
from tests.support.harness import RunningBot
from tests.web.test_ingest_api import TOKEN, post

REASONING = "B, not A: no red flags, but the kidney disease makes the NSAID question urgent."
UNCLEAR_WHY = "Never says why it is not C."


@pytest.fixture
def workspace() -> Workspace:
    data = workspace_data()
    data["task_types"][0].update(label_scale="ordinal", labels=["A", "B", "C"])
    return parse_workspace(data)


def _records(bot: RunningBot, *, trainer: str = TRAINER1, reasoning: str | None = REASONING,
             count: int = 2) -> list[dict[str, Any]]:
    now = bot.ctx.clock.now()
    records = []
    for n in range(count):
        record = output_record(n, trainer=trainer, created_at=now - timedelta(hours=6 + n))
        record.update(item=f"triage-{n}", label="B")
        if reasoning is not None:
            record["reasoning"] = reasoning
        records.append(record)
    return records


def _replies(bot: RunningBot, trainer: str = TRAINER1) -> list[Message]:
    parent = next(p for p in bot.parents(CLINICAL_CHANNEL) if f"<@{trainer}>" in p.text)
    return [r for r in bot.thread_replies(CLINICAL_CHANNEL) if r.thread_ts == parent.ts]


def _texts(message: Message) -> str:
    parts = []
    for block in message.blocks:
        if block["type"] == "section":
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts += [e.get("text", "") for e in block["elements"]]
    return "\n".join(parts)


def _buttons(message: Message) -> list[str]:
    return [e["text"]["text"] for b in message.blocks if b["type"] == "actions"
            for e in b["elements"]]


def _ratings(bot: RunningBot) -> list[ClarityRating]:
    with Session(bot.ctx.engine) as session:
        return list(session.exec(select(ClarityRating)).all())


def _wait_shows(bot: RunningBot, message: Message, needle: str) -> Message:
    def shows() -> Message | None:
        current = bot.sandbox.message(CLINICAL_CHANNEL, message.ts)
        return current if current and needle in _texts(current) else None
    return bot.driver.wait_for(shows)


def test_the_sample_shows_the_trainers_label_and_reasoning_with_clear_and_unclear(bot):
    report = bot.ingest(_records(bot))
    assert report.ok and report.stored == 2
    bot.run_audit()
    sample = _replies(bot)[0]
    assert "Trainer's reasoning* · label *B*" in _texts(sample)
    assert REASONING in _texts(sample)
    assert _buttons(sample) == ["Pass", "Minor issue", "Major error", "Clear", "Unclear"]


def test_a_sample_without_reasoning_has_no_clarity_buttons(bot):
    bot.ingest(_records(bot, reasoning=None))
    bot.run_audit()
    sample = _replies(bot)[0]
    assert "Clear" not in _buttons(sample)
    assert "label *B*" in _texts(sample)


def test_a_long_reasoning_is_cut_and_show_full_opens_it_whole(bot):
    long = "The triage turns on three facts, each weighed in turn. " * 150  # ~8,000 chars
    bot.ingest(_records(bot, reasoning=long, count=1))
    bot.run_audit()
    sample = _replies(bot)[0]
    shown = _texts(sample)
    assert "of reasoning): *Show full* opens the whole text" in shown
    assert long.strip() not in shown
    bot.driver.click(DOCTOR, sample, "Show full", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(DOCTOR))
    headers = [b["text"]["text"] for b in modal.view["blocks"] if b["type"] == "header"]
    assert headers == ["Prompt", "Trainer's output", "Trainer's reasoning"]
    sections = [b["text"]["text"] for b in modal.view["blocks"] if b["type"] == "section"]
    assert "".join("".join(sections).split()).endswith("".join(long.split()))


def test_clear_is_one_click_kept_once_and_shown_on_the_sample(bot):
    bot.ingest(_records(bot))
    bot.run_audit()
    sample = _replies(bot)[0]
    for _ in range(2):  # a double click
        response = bot.driver.click(NURSE, sample, "Clear", channel=CLINICAL_CHANNEL)
        assert response.status == 200
    updated = _wait_shows(bot, sample, f"Reasoning 💬 Clear — <@{NURSE}>")
    assert updated.edited
    assert [(r.reviewer, r.rating) for r in _ratings(bot)] == [(NURSE, "clear")]


def test_unclear_asks_why_refuses_a_short_one_and_the_latest_rating_counts(bot):
    bot.ingest(_records(bot))
    bot.run_audit()
    sample = _replies(bot)[0]
    bot.driver.click(NURSE, sample, "Clear", channel=CLINICAL_CHANNEL)
    bot.driver.wait_for(lambda: _ratings(bot))
    bot.driver.click(NURSE, sample, "Unclear", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))
    assert modal.view["title"]["text"] == "Unclear reasoning"
    padded = "why?" + "\u200b" * 20  # Slack counts 24 characters; a reader sees 4
    answer = bot.driver.submit_view(NURSE, modal, {"clarity_reason": padded}).json()
    assert answer["response_action"] == "errors"
    assert ("at least 10 characters what is unclear (you wrote 4)"
            in answer["errors"]["clarity_reason"])
    assert [r.rating for r in _ratings(bot)] == ["clear"]
    response = bot.driver.submit_view(NURSE, modal, {"clarity_reason": UNCLEAR_WHY})
    assert response.status == 200 and not response.json()
    bot.driver.wait_for(lambda: _ratings(bot)[0].rating == "unclear")
    assert [(r.rating, r.reason) for r in _ratings(bot)] == [("unclear", UNCLEAR_WHY)]
    updated = _wait_shows(bot, sample, f"Reasoning ❔ Unclear — <@{NURSE}>: {UNCLEAR_WHY}")
    assert "💬 Clear" not in _texts(updated)


@pytest.mark.parametrize(("user", "button", "reason"), [
    (OUTSIDER, "Clear", "Clinical NLP reviewers"),
    (LAWYER, "Unclear", "Clinical NLP reviewers"),
])
def test_who_may_not_grade_may_not_rate_and_reads_why(bot, user, button, reason):
    bot.ingest(_records(bot))
    bot.run_audit()
    sample = _replies(bot)[0]
    bot.driver.click(user, sample, button, channel=CLINICAL_CHANNEL)
    refusal = bot.driver.wait_for(lambda: bot.sandbox.ephemerals(user=user))
    assert reason in refusal[0].text
    assert bot.sandbox.views(user) == []
    assert _ratings(bot) == []


def test_nobody_rates_their_own_reasoning(bot):
    bot.ingest(_records(bot, trainer=NURSE))
    bot.run_audit()
    own = _replies(bot, NURSE)[0]
    bot.driver.click(NURSE, own, "Clear", channel=CLINICAL_CHANNEL)
    refusal = bot.driver.wait_for(lambda: bot.sandbox.ephemerals(user=NURSE))
    assert "your own output" in refusal[0].text
    assert _ratings(bot) == []


def test_the_http_ingest_takes_the_fields_and_names_a_bad_label_by_index(bot):
    bot.ctx.settings = bot.ctx.settings.model_copy(update={"ingest_token": TOKEN})
    good, bad = _records(bot)
    bad["label"] = "D"
    status, answer = post(bot, [good, bad])
    assert status == 422
    assert answer["rejected"] == [{
        "index": 1, "id": bad["id"],
        "reason": "field `label` 'D' is not one of this task type's labels (A, B, C)"}]
    with Session(bot.ctx.engine) as session:
        stored = session.exec(select(TrainerOutput)).one()
    assert (stored.item, stored.label, stored.reasoning) == ("triage-0", "B", REASONING)
