"""The trainer's scorecard where people read it, end to end: `/audit status @trainer`, the
trainer's own App Home, the lead's and manager's Home rows, the managers' weekly digest, the
chart and the export, after labels were ingested and reviewers graded and rated the
reasoning through Slack."""

import csv
import io
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlmodel import Session

from bot.present.charts import chart_series
from bot.sandbox.records import Message
from bot.services.trainer_report import trainer_report
from bot.workspace import Workspace, parse_workspace
from schedules.nudges import run_weekly_digest
from tests.support.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    LEAD,
    MANAGER,
    NURSE,
    TRAINER1,
    TRAINER2,
    TRAINER3,
    output_record,
    workspace_data,
)
from tests.support.harness import RunningBot
from tests.support.status_support import ask, shown

# item → {trainer: label}. TRAINER1's comparisons: i0 NURSE yes, TRAINER3 no; i1 no; i2 yes;
# i3 yes: 3 of 5. NURSE: i0 yes, no; i1 no; i2 yes: 2 of 4.
LABELS = {"i0": {TRAINER1: "A", NURSE: "A", TRAINER3: "B"},
          "i1": {TRAINER1: "B", NURSE: "C"},
          "i2": {TRAINER1: "C", NURSE: "C"},
          "i3": {TRAINER1: "A", TRAINER3: "A"}}
UNCLEAR_WHY = "Names the label but not the fact that decides it."


def _workspace(**onboarding: object) -> Workspace:
    data = workspace_data(consistency_threshold=0.7, clarity_threshold=0.8, min_graded=2)
    data["task_types"][0].update(label_scale="ordinal", labels=["A", "B", "C"])
    data["trainers"].append({"user": TRAINER3, "task_types": ["clinical"]})
    if onboarding:
        data["trainers"][0]["started"] = "2026-11-02"  # a Monday: NOW is in its week 4
        data["onboarding"] = onboarding
    return parse_workspace(data)


@pytest.fixture
def workspace() -> Workspace:
    return _workspace()


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


def _row_cards(text: str) -> dict[str, str]:
    """Each Home row's trainer → the compact scorecard on the line after it."""
    lines = text.splitlines()
    return {line.split(" · ")[0]: after.strip() for line, after in pairwise(lines)
            if line.startswith("<@") and " — " in line and after.startswith("      P ")}


def test_the_leads_home_rows_carry_each_trainers_compact_scorecard(rated: RunningBot):
    cards = _row_cards(_home(rated, LEAD))
    print(cards)  # quoted in the report: a lead's rows
    assert cards == {f"<@{TRAINER1}>": "P 1.00 · C 0.60👀 · Cl 0.50👀",
                     f"<@{TRAINER2}>": "P – · C – · Cl –"}


def test_the_managers_home_rows_carry_every_trainers_compact_scorecard(rated: RunningBot):
    home = _home(rated, MANAGER)
    assert "Every trainer" in home
    cards = _row_cards(home)
    # NURSE: 2 of 4 comparisons; TRAINER3: i0 none of 2, i3 one of 1: 1 of 3 (min_graded 2).
    assert cards == {f"<@{TRAINER1}>": "P 1.00 · C 0.60👀 · Cl 0.50👀",
                     f"<@{NURSE}>": "P – · C 0.50👀 · Cl –",
                     f"<@{TRAINER3}>": "P – · C 0.33👀 · Cl –",
                     f"<@{TRAINER2}>": "P – · C – · Cl –"}
    status = shown(ask(rated, MANAGER, "status"))  # the same rows in `/audit status`
    assert f"<@{TRAINER1}>" in status and "P 1.00 · C 0.60👀 · Cl 0.50👀" in status


def test_the_weekly_digest_gives_a_scorecard_line_per_trainer_it_names(rated: RunningBot):
    """TRAINER1's last two samples Major: below the threshold (2 of 4 pass), so the digest
    the Monday after names them, with their scorecard as of the end of that week."""
    for sample in _trainer_samples(rated, TRAINER1)[2:]:
        rated.driver.click(DOCTOR, sample, "Major error", channel=CLINICAL_CHANNEL)
        modal = rated.driver.wait_for(lambda: rated.driver.open_modal(DOCTOR))
        assert rated.driver.submit_view(DOCTOR, modal, {
            "category": "Unsafe advice",
            "explanation": "Recommends a dose above the stated limit."}).status == 200
    rated.wait_listeners()
    rated.ctx.clock.advance(timedelta(weeks=1))
    assert run_weekly_digest(rated.ctx, now=rated.ctx.clock.now()).sent == (MANAGER,)
    rated.deliver()
    [digest] = [m for m in rated.sandbox.dms(MANAGER) if "Weekly audit digest" in m.text]
    text = shown(digest)
    print(text)  # quoted in the report: the digest's scorecard part
    assert f"below threshold: <@{TRAINER1}>" in text
    assert "*Scorecards* of the trainers named above" in text
    lines = [line for line in text.splitlines() if line.startswith("• <@")
             and " — P " in line]
    assert lines == [f"• <@{TRAINER1}> · Clinical NLP — P 0.50👀 · C 0.60👀 · Cl 0.50👀"]


def test_the_chart_draws_consistency_and_clarity_beside_the_score(rated: RunningBot):
    answer = ask(rated, LEAD, f"status <@{TRAINER1}>")
    rated.driver.click(LEAD, answer, "Show chart", channel="C0GENERAL")
    [chart] = rated.driver.wait_for(lambda: rated.sandbox.files(LEAD), timeout=20)
    assert chart.is_png and chart.data.startswith(b"\x89PNG")
    now = rated.ctx.clock.now()
    with Session(rated.ctx.engine) as session:
        report = trainer_report(session, rated.ctx.workspace, trainer=TRAINER1, viewer=LEAD,
                                now=now)
    series = chart_series(report.tasks[0])
    assert len(series.weeks) == 12 and series.weeks[-1] == "2026-W48"
    assert series.precision[-1] == 1.0 and series.precision[:-1] == (None,) * 11
    assert series.consistency == (None,) * 11 + (0.6,)
    assert series.clarity == (None,) * 11 + (0.5,)


@pytest.mark.parametrize("workspace", [_workspace(days=90, markers=[
    {"week": 3, "min_score": 0.5},
    {"week": 3, "min_score": 0.9, "dimension": "consistency"},
    {"week": 4, "min_score": "threshold", "dimension": "consistency"},
    {"week": 3, "min_score": 0.5, "dimension": "clarity"},
    {"week": 4, "min_score": "threshold", "dimension": "clarity"},
    {"week": 6, "min_score": 0.9, "dimension": "clarity"}])])
def test_onboarding_markers_name_any_dimension_of_the_scorecard(rated: RunningBot, workspace):
    """TRAINER1 started W45; NOW is in W48, their onboarding week 4. One more shared item,
    labelled in W47 and agreed on, so the consistency marker of week 3 (W45–W47) has data;
    week 4's reads W45–W48 so far: 4 of 6 comparisons, clarity 1 of 2 ratings."""
    a_week_ago = rated.ctx.clock.now() - timedelta(days=3)  # Friday 2026-11-20 (W47)
    records = []
    for n, trainer in enumerate((TRAINER1, TRAINER3), start=40):
        record = output_record(n, trainer=trainer, created_at=a_week_ago)
        record.update(item="j0", label="B")
        records.append(record)
    assert rated.ingest(records).ok
    text = shown(ask(rated, LEAD, f"status <@{TRAINER1}>"))
    [line] = [line for line in text.splitlines() if line.startswith(("✅", "❌", "–", "⏳"))]
    print(line)  # quoted in the report: onboarding per dimension
    assert line.split(" · ") == [
        "– week 3 ≥ 0.50 no grades",  # precision: nothing audited in W45–W47
        "✅ week 3 consistency ≥ 0.90 1.00",  # j0 only, as it stood at the end of W47
        "⏳ week 4 consistency ≥ 0.70 0.67",  # the config's consistency_threshold
        "– week 3 clarity ≥ 0.50 no ratings",
        "⏳ week 4 clarity ≥ 0.80 0.50",
        "· week 6 clarity ≥ 0.90"]
