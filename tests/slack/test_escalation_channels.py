"""An escalation level that posts to a channel: whoever sees the notice there may act on it."""

import pytest
from sqlmodel import Session, select

from bot.sandbox.records import Message
from bot.store.models import Escalation
from bot.workspace import Workspace, parse_workspace
from schedules.escalation_check import run_escalation_check
from tests.support.escalation_setup import audited_weeks
from tests.support.factories import OUTSIDER, TRAINER1, workspace_data
from tests.support.harness import RunningBot

QUALITY = "C0QUALITY"


@pytest.fixture
def workspace() -> Workspace:
    data = workspace_data()
    data["escalation"] = {"levels": [{"notify": [QUALITY], "ack_within": "4h"},
                                     {"notify": ["lead"]}]}
    return parse_workspace(data)


@pytest.fixture
def posted(bot: RunningBot) -> Message:
    audited_weeks(bot, [["major", "minor", "major", "pass", "major"], ["major"] * 5])
    run_escalation_check(bot.ctx, now=bot.ctx.clock.now())
    bot.deliver()
    [notice] = [m for m in bot.sandbox.messages(QUALITY) if "Quality escalation" in m.text]
    return notice


def _escalation(bot: RunningBot) -> Escalation:
    with Session(bot.ctx.engine) as session:
        [escalation] = session.exec(select(Escalation)).all()
        return escalation


def test_a_member_of_the_notified_channel_acknowledges_from_it(bot, posted):
    # Olly is neither lead nor manager nor named in the config: the channel is his team.
    bot.driver.click(OUTSIDER, posted, "Acknowledge", channel=QUALITY)
    bot.driver.wait_for(lambda: _escalation(bot).acknowledged_by == OUTSIDER)
    assert bot.sandbox.ephemerals(user=OUTSIDER) == []


def test_a_member_of_the_notified_channel_resolves_from_it(bot, posted):
    bot.driver.click(OUTSIDER, posted, "Resolve", channel=QUALITY)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(OUTSIDER))
    bot.driver.submit_view(OUTSIDER, modal, {"note": f"Paired <@{TRAINER1}> with a mentor."})
    bot.driver.wait_for(lambda: _escalation(bot).status == "resolved")
    assert _escalation(bot).closed_by == OUTSIDER
