"""A trainer significantly below the rest, as `/audit status` shows it after the scheduled
check: named to managers and the lead, a count to a peer."""

import pytest

from bot.workspace import Workspace, parse_workspace
from schedules.escalation_check import run_escalation_check
from tests.support.escalation_setup import audited_weeks
from tests.support.factories import LEAD, MANAGER, TRAINER1, TRAINER3, workspace_data
from tests.support.harness import RunningBot
from tests.support.status_support import ask, shown


@pytest.fixture
def workspace() -> Workspace:
    data = workspace_data()
    data["trainers"].append({"user": TRAINER3, "task_types": ["clinical"]})
    return parse_workspace(data)


def test_the_check_flags_a_trainer_below_the_rest_and_status_shows_it(bot: RunningBot):
    audited_weeks(bot, [["pass", "major", "major", "major", "minor"],
                        ["major", "major", "pass", "major", "minor"]])
    audited_weeks(bot, [["pass"] * 5, ["pass"] * 5], trainer=TRAINER3)
    assert "Below the rest" not in shown(ask(bot, MANAGER, "status"))  # not checked yet
    run_escalation_check(bot.ctx, now=bot.ctx.clock.now())
    assert f"📉 Below the rest: <@{TRAINER1}>" in shown(ask(bot, MANAGER, "status"))
    assert f"📉 Below the rest: <@{TRAINER1}>" in shown(ask(bot, LEAD, "status"))
    peer = shown(ask(bot, TRAINER3, "status"))
    assert "📉 Below the rest: 1 trainer" in peer and TRAINER1 not in peer
