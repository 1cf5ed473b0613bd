"""The trainer's scorecard where people read it, end to end: `/audit status @trainer`, the
trainer's own App Home and the export, after labels were ingested and reviewers graded and
rated the reasoning through Slack."""

import csv
import io
from datetime import timedelta

import pytest

from bot.sandbox.records import Message
from bot.workspace import Workspace, parse_workspace
from tests.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    MANAGER,
    NURSE,
    TRAINER1,
    TRAINER3,
    output_record,
    workspace_data,
)
from tests.harness import RunningBot
from tests.status_support import ask, shown

# item → {trainer: label}. TRAINER1's comparisons: i0 NURSE yes, TRAINER3 no; i1 no; i2 yes;
# i3 yes: 3 of 5. NURSE: i0 yes, no; i1 no; i2 yes: 2 of 4.
LABELS = {"i0": {TRAINER1: "A", NURSE: "A", TRAINER3: "B"},
          "i1": {TRAINER1: "B", NURSE: "C"},
          "i2": {TRAINER1: "C", NURSE: "C"},
          "i3": {TRAINER1: "A", TRAINER3: "A"}}
UNCLEAR_WHY = "Names the label but not the fact that decides it."


@pytest.fixture
def workspace() -> Workspace:
    data = workspace_data(consistency_threshold=0.7, clarity_threshold=0.8, min_graded=2)
    data["task_types"][0].update(label_scale="ordinal", labels=["A", "B", "C"])
    data["trainers"].append({"user": TRAINER3, "task_types": ["clinical"]})
    return parse_workspace(data)


def _trainer_samples(bot: RunningBot, trainer: str) -> list[Message]:
    parent = next(p for p in bot.parents(CLINICAL_CHANNEL) if f"<@{trainer}>" in p.text)
    return [r for r in bot.thread_replies(CLINICAL_CHANNEL) if r.thread_ts == parent.ts]


@pytest.fixture
def rated(bot: RunningBot) -> RunningBot:
    """Labels in, the audit out; TRAINER1's first two samples passed, their reasoning rated
    Clear once and Unclear once, all by clicks."""
    now = bot.ctx.clock.now()
    records = []
    for n, (item, labels) in enumerate(LABELS.items()):
        for trainer, label in labels.items():
            record = output_record(n, trainer=trainer, created_at=now - timedelta(hours=2 + n))
            record.update(item=item, label=label, reasoning=f"{label}: the dose decides it.")
            records.append(record)
    assert bot.ingest(records).ok
    bot.run_audit()
    first, second = _trainer_samples(bot, TRAINER1)[:2]
    for sample in (first, second):
        bot.driver.click(DOCTOR, sample, "Pass", channel=CLINICAL_CHANNEL)
    bot.driver.click(DOCTOR, first, "Clear", channel=CLINICAL_CHANNEL)
    bot.driver.click(NURSE, second, "Unclear", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))
    assert bot.driver.submit_view(NURSE, modal, {"clarity_reason": UNCLEAR_WHY}).status == 200
    bot.wait_listeners()
    bot.deliver()
    return bot


def test_a_trainer_sees_their_scorecard_in_status_with_what_is_on_watch(rated: RunningBot):
    text = shown(ask(rated, TRAINER1, f"status <@{TRAINER1}>"))
    lines = [line for line in text.splitlines() if line.startswith(
        ("*Scorecard*", "Precision", "Consistency", "Clarity", "👀 On watch"))]
    print("\n".join(lines))  # quoted in the report: what a trainer reads
    assert lines[0] == "*Scorecard* · 80% intervals · 2026-W45–W48"
    assert lines[1].startswith("Precision *1.00* (") and " · 2 graded `···" in lines[1]
    assert lines[2].startswith("Consistency *0.60* (") and " · 5 comparisons `···" in lines[2]
    assert "trainers' α " in lines[2] and "(ordinal, 4 shared items)" in lines[2]
    assert lines[3].startswith("Clarity *0.50* (") and " · 2 ratings `···" in lines[3]
    assert lines[4] == "👀 On watch for consistency (below 0.70), clarity (below 0.80)"


def test_a_trainer_may_not_see_another_trainers_scorecard(rated: RunningBot):
    refusal = ask(rated, TRAINER3, f"status <@{TRAINER1}>")
    assert "can see their results" in refusal.text and "Scorecard" not in shown(refusal)


def _home(bot: RunningBot, user: str) -> str:
    publishes = len(bot.sandbox.calls("views.publish"))
    bot.driver.app_home_opened(user)
    bot.driver.wait_for(lambda: len(bot.sandbox.calls("views.publish")) > publishes)
    home = bot.sandbox.home(user)
    assert home is not None and len(home["blocks"]) <= 100
    return shown(home)


def test_each_trainers_home_shows_their_own_scorecard_only(rated: RunningBot):
    own = _home(rated, TRAINER1)
    assert "*Clinical NLP* · *Scorecard* · 80% intervals" in own
    assert "Consistency *0.60*" in own and "Clarity *0.50*" in own
    assert "👀 On watch for consistency (below 0.70), clarity (below 0.80)" in own
    nurse = _home(rated, NURSE)  # a reviewer who is also a trainer: their own card
    assert "Consistency *0.50*" in nurse and "4 comparisons" in nurse
    assert "Consistency *0.60*" not in nurse
    assert "Scorecard" not in _home(rated, MANAGER)  # a manager is no trainer here


def test_the_export_carries_the_scorecard_columns(rated: RunningBot):
    ask(rated, MANAGER, "export")
    [export] = rated.driver.wait_for(lambda: rated.sandbox.files(MANAGER))
    rows = list(csv.DictReader(io.StringIO(export.data.decode("utf-8"))))
    assert {r["trainer"] for r in rows} == {TRAINER1}
    row = rows[0]
    assert (row["precision"], row["precision_n"]) == ("1.000", "2")
    assert (row["consistency"], row["consistency_n"]) == ("0.600", "5")
    assert (row["clarity"], row["clarity_n"]) == ("0.500", "2")
    assert row["clarity_trend"] == "– – – 0.50"
    assert float(row["clarity_lower"]) < 0.5 < float(row["clarity_upper"])
    assert row["scorecard_watch"] == "consistency clarity"
    assert row["trainers_alpha"] != ""
