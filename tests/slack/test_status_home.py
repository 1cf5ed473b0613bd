"""The App Home per viewer, within Slack's 100 blocks however large the team, and refreshed
after changes once per viewer (coalesced), as Slack shows it. Every test runs with the
app_home_opened event sent over HTTP and as a Socket Mode envelope."""

import time

import pytest
from sqlmodel import Session, select

from bot.services.grading import record_grade
from bot.services.home_feed import take_feed
from bot.store.models import Grade, Sample
from bot.workspace import Workspace, parse_workspace
from schedules.escalation_check import run_escalation_check
from schedules.home_refresh import refresh_homes
from tests.support.escalation_setup import WHY, audited_weeks
from tests.support.factories import (
    DOCTOR,
    LAWYER,
    LEAD,
    LEGAL_CHANNEL,
    MANAGER,
    NURSE,
    OUTSIDER,
    TRAINER1,
    TRAINER2,
    week_of_records,
    workspace_data,
)
from tests.support.harness import RunningBot
from tests.support.status_support import buttons, shown


@pytest.fixture(params=["http", "socket_mode"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


def _home(bot: RunningBot, user: str) -> dict:
    publishes = len(bot.sandbox.calls("views.publish"))
    response = bot.driver.app_home_opened(user)
    assert response.status == 200 and response.elapsed < 3.0  # Slack's ack deadline
    bot.driver.wait_for(lambda: len(bot.sandbox.calls("views.publish")) > publishes)
    home = bot.sandbox.home(user)
    assert home is not None and len(home["blocks"]) <= 100
    return home


def _published_for(bot: RunningBot) -> list[str]:
    return [c.params["user_id"] for c in bot.sandbox.calls("views.publish") if c.ok]


@pytest.fixture
def team(bot: RunningBot) -> RunningBot:
    audited_weeks(bot, [["pass", "major", "major", "pass", "minor"], ["major"] * 5])
    run_escalation_check(bot.ctx, now=bot.ctx.clock.now())
    bot.ingest(week_of_records(bot.ctx.clock.now(), trainer=TRAINER2, task_type="legal",
                               count=3))
    bot.run_audit()
    return bot


def test_a_reviewer_sees_their_queue_and_grading_stats(team: RunningBot):
    text = shown(_home(team, LAWYER))
    assert "Your grading queue" in text and "*3 samples wait for your grade*" in text
    assert text.count("https://sandbox.slack.test/archives/C0LEGAL/") == 3
    assert "You graded 0 this week, 0 in the last 4 weeks." in text
    nurse = shown(_home(team, NURSE))
    assert "You graded 3 this week, 6 in the last 4 weeks · 83% not Pass" in nurse


def test_a_home_opened_while_slack_was_too_busy_to_link_it_is_published_again(
        team: RunningBot):
    queue_link = "https://sandbox.slack.test/archives/C0LEGAL/"
    refresh_homes(team.ctx, now=team.ctx.clock.now())  # the audit's changes are read
    # One look-up answered 429 twice: the client waits out the first itself.
    team.sandbox.ratelimit_next("chat.getPermalink", times=2)
    assert shown(_home(team, LAWYER)).count(queue_link) == 2
    summary = refresh_homes(team.ctx, now=team.ctx.clock.now())
    assert LAWYER in summary.published
    assert shown(team.sandbox.home(LAWYER)).count(queue_link) == 3
    assert refresh_homes(team.ctx, now=team.ctx.clock.now()).published == ()


def test_a_lead_sees_their_trainers(team: RunningBot):
    text = shown(_home(team, LEAD))
    assert "Your trainers" in text
    # Riskiest first: the open escalation, then too few grades; score, interval, trend.
    assert (f"<@{TRAINER1}> · Clinical NLP — ⚠️ escalated · *0.25* (80% interval 0.05–0.55) `··▅▁` "
            "10 graded") in text
    assert f"<@{TRAINER2}> · Legal drafting — · too few grades · *–*" in text
    assert text.index(TRAINER1) < text.index(TRAINER2)
    assert "Every task type" not in text and "grading queue" not in text


def test_a_manager_sees_every_task_type_and_the_open_escalations(team: RunningBot):
    text = shown(_home(team, MANAGER))
    assert "Every task type · 2026-W48" in text
    assert "*Clinical NLP*" in text and "*Legal drafting*" in text
    assert "Open escalations (1)" in text
    assert f"*<@{TRAINER1}>* · Clinical NLP — level 1 of 2" in text


def test_a_trainer_sees_their_own_recent_graded_samples_and_score(team: RunningBot):
    text = shown(_home(team, TRAINER1))
    assert "Your audit results" in text and "*Clinical NLP* — score *0.25*" in text
    assert "Recently graded" in text and "Unsafe advice" in text
    assert "https://sandbox.slack.test/archives/C0CLINICAL/" in text
    assert "grading queue" not in text and "Your trainers" not in text


def test_anyone_else_gets_what_the_bot_does_and_whom_to_ask(team: RunningBot):
    home = _home(team, OUTSIDER)
    text = shown(home)
    assert "weekly audit" in text and f"ask <@{MANAGER}>" in text
    assert len(home["blocks"]) <= 4


def test_the_messages_tab_publishes_nothing(team: RunningBot):
    before = len(team.sandbox.calls("views.publish"))
    response = team.driver.event({"type": "app_home_opened", "user": MANAGER,
                                  "tab": "messages", "channel": team.sandbox.dm_id(MANAGER),
                                  "event_ts": "1.0"})
    assert response.status == 200
    time.sleep(0.5)
    assert len(team.sandbox.calls("views.publish")) == before


# --- a large team ---------------------------------------------------------------------------

def _large_workspace() -> Workspace:
    data = workspace_data()
    data["task_types"] = [
        {"key": f"type{i:02d}", "name": f"Task type {i:02d}", "channel": "C0CLINICAL",
         "reviewers": [NURSE, LAWYER]} for i in range(30)]
    data["trainers"] = [
        {"user": f"U0T{i:05d}", "task_types": [f"type{i % 30:02d}"], "lead": LEAD}
        for i in range(300)]
    return parse_workspace(data)


@pytest.mark.parametrize("workspace", [_large_workspace()])
def test_a_large_team_stays_within_100_blocks_and_pages(bot: RunningBot, workspace):
    for viewer, part in ((MANAGER, "task types"), (LEAD, "trainer task types")):
        home = _home(bot, viewer)
        text = shown(home)
        assert "Page 1 of " in text and f"· {300 if viewer == LEAD else 30} {part}" in text
        assert "Next ›" in buttons(home)
    first = shown(bot.sandbox.home(LEAD))
    assert "<@U0T00000>" in first and "<@U0T00299>" not in first
    response = bot.driver.click_in_home(LEAD, "Next ›")
    assert response.status == 200 and response.elapsed < 3.0  # Slack's ack deadline
    second = bot.driver.wait_for(lambda: "Page 2 of" in shown(bot.sandbox.home(LEAD))
                                 and bot.sandbox.home(LEAD))
    assert "<@U0T00000>" not in shown(second) and "‹ Previous" in buttons(second)
    assert len(second["blocks"]) <= 100
    # A refresh keeps the page the viewer browsed to.
    bot.ingest(week_of_records(bot.ctx.clock.now(), trainer="U0T00001", task_type="type01",
                               count=2))
    bot.run_audit()
    refresh_homes(bot.ctx, now=bot.ctx.clock.now())
    assert "Page 2 of" in shown(bot.sandbox.home(LEAD))


# --- refresh ------------------------------------------------------------------------------------

def _grades(bot: RunningBot) -> int:
    with Session(bot.ctx.engine) as session:
        return len(session.exec(select(Grade)).all())


def test_changes_refresh_each_affected_viewer_once(team: RunningBot):
    for viewer in (LAWYER, MANAGER, NURSE):
        _home(team, viewer)
    refresh_homes(team.ctx, now=team.ctx.clock.now())  # what was owed before they opened
    before, graded = len(_published_for(team)), _grades(team)
    for reply in team.thread_replies(LEGAL_CHANNEL):  # three grades, three sample updates
        team.driver.click(LAWYER, reply, "Pass", channel=LEGAL_CHANNEL)
    team.driver.wait_for(lambda: _grades(team) == graded + 3)
    team.deliver()
    summary = refresh_homes(team.ctx, now=team.ctx.clock.now())
    assert sorted(summary.published) == sorted([LAWYER, MANAGER])  # not NURSE: clinical
    assert sorted(_published_for(team)[before:]) == sorted([LAWYER, MANAGER])  # once each
    assert "Nothing waits for your grade" in shown(team.sandbox.home(LAWYER))
    assert refresh_homes(team.ctx, now=team.ctx.clock.now()).published == ()
    # A change made through /audit marks the Homes it concerns, too.
    team.driver.slash_command(LEAD, f"away <@{TRAINER2}> until 2026-12-01")
    team.driver.wait_for(lambda: refresh_homes(team.ctx, now=team.ctx.clock.now()).published)
    assert _published_for(team)[-1] == MANAGER


def test_a_refresh_on_two_replicas_reads_each_change_once(team: RunningBot):
    _home(team, MANAGER)
    with Session(team.ctx.engine) as session:
        first = take_feed(session, team.ctx.workspace)
        second = take_feed(session, team.ctx.workspace)
        session.commit()
    assert MANAGER in first and second == set()


@pytest.mark.parametrize("workspace", [parse_workspace(workspace_data(
    double_review_fraction=1.0))])
def test_a_manager_is_told_of_disputes_to_settle(bot: RunningBot):
    audited_weeks(bot, [["pass", "pass"]])
    with Session(bot.ctx.engine) as session:
        sample = session.exec(select(Sample).order_by(Sample.id)).first()
        other = DOCTOR if sample.position % 2 == 0 else NURSE  # the first grade was the other's
        record_grade(session, bot.ctx.workspace, sample_id=sample.id, reviewer=other,
                     grade="major", category="Unsafe advice", explanation=WHY,
                     now=bot.ctx.clock.now())
        session.commit()
    assert "1 double-review dispute waits for a manager to settle" in shown(
        _home(bot, MANAGER))
