"""One row per trainer for managers and leads: `/audit status` (its first page, **More**,
`status more N`) and the App Home's pages, through signed requests into the running app."""

import pytest

from bot.workspace import Workspace, parse_workspace
from schedules.escalation_check import run_escalation_check
from tests.support.escalation_setup import audited_weeks
from tests.support.factories import LEAD, MANAGER, NURSE, TRAINER1, TRAINER2, workspace_data
from tests.support.harness import RunningBot
from tests.support.status_support import ask, buttons, shown

OTHER_LEAD = "U0LEAD0002"
CROWD = [f"U0T{i:05d}" for i in range(30)]  # 30 more clinical trainers, led by OTHER_LEAD
POOR = [["pass", "major", "major", "pass", "minor"], ["major"] * 5]
WATCH = [["pass", "pass", "minor", "pass", "major"]] * 2  # 0.70 on 10 graded (min_graded 8)


def _crowded() -> Workspace:
    data = workspace_data()
    data["trainers"] += [{"user": u, "task_types": ["clinical"], "lead": OTHER_LEAD}
                         for u in CROWD]
    return parse_workspace(data)


@pytest.fixture
def crowd(bot: RunningBot) -> RunningBot:
    """TRAINER1 escalated, CROWD[7] on watch, the rest with too few grades (or none)."""
    audited_weeks(bot, POOR)
    audited_weeks(bot, WATCH, trainer=CROWD[7])
    run_escalation_check(bot.ctx, now=bot.ctx.clock.now())
    bot.deliver()
    return bot


def _rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("<@") and " — " in line]


@pytest.mark.parametrize("workspace", [_crowded()])
def test_a_manager_sees_every_trainer_riskiest_first_a_page_at_a_time(crowd: RunningBot,
                                                                        workspace):
    answer = ask(crowd, MANAGER, "status")
    text = shown(answer)
    assert "*Trainers*, riskiest first · 1–20 of 33" in text  # 32 clinical, 1 legal
    rows = _rows(text)
    assert len(rows) == 20 and len(answer.blocks) <= 50
    assert rows[0].startswith(f"<@{TRAINER1}> · Clinical NLP — ⚠️ escalated · *0.25* (80% ")
    assert rows[0].endswith("10 graded")
    assert rows[1].startswith(f"<@{CROWD[7]}> · Clinical NLP — 👀 watch · *0.70*")
    assert "· too few grades" in rows[2]
    assert buttons(answer) == ["More"] and "`/audit status more 2`" in text

    response = crowd.driver.click(MANAGER, answer, "More", channel="C0GENERAL")
    assert response.status == 200 and not response.timed_out
    second = crowd.driver.wait_for(lambda: [e for e in crowd.sandbox.ephemerals(user=MANAGER)
                                            if "21–33 of 33" in shown(e)])[0]
    more = _rows(shown(second))
    assert len(more) == 13 and not set(more) & set(rows)
    assert buttons(second) == []  # the last page
    typed = ask(crowd, MANAGER, "status more 2")
    assert _rows(shown(typed)) == more


@pytest.mark.parametrize("workspace", [_crowded()])
def test_a_lead_sees_only_their_trainers_and_others_no_rows(crowd: RunningBot, workspace):
    lead = shown(ask(crowd, LEAD, "status"))
    assert [r.split(" · ")[0] for r in _rows(lead)] == [f"<@{TRAINER1}>", f"<@{TRAINER2}>"]
    assert "1–2 of 2" in lead
    other = ask(crowd, OTHER_LEAD, "status")
    assert "1–20 of 30" in shown(other) and TRAINER1 not in "\n".join(_rows(shown(other)))
    assert _rows(shown(other))[0].startswith(f"<@{CROWD[7]}>")
    for nobody in (NURSE, TRAINER1):  # a reviewer, a trainer: the aggregates, no rows
        assert _rows(shown(ask(crowd, nobody, "status"))) == []
    assert "for managers and leads" in ask(crowd, TRAINER1, "status more 2").text
    assert "takes a page number" in crowd.driver.slash_command(
        MANAGER, "status more two").json()["text"]


@pytest.mark.parametrize("workspace", [_crowded()])
def test_the_managers_home_pages_through_every_trainer(crowd: RunningBot, workspace):
    before = len(crowd.sandbox.calls("views.publish"))
    assert crowd.driver.app_home_opened(MANAGER).status == 200
    crowd.driver.wait_for(lambda: len(crowd.sandbox.calls("views.publish")) > before)
    home = crowd.sandbox.home(MANAGER)
    assert home is not None and len(home["blocks"]) <= 100
    first = _rows(shown(home))
    assert len(first) == 20 and first[0].startswith(f"<@{TRAINER1}> · Clinical NLP — ⚠️")
    assert "Every trainer" in shown(home) and "33 trainer task types" in shown(home)
    response = crowd.driver.click_in_home(MANAGER, "Next ›")
    assert response.status == 200 and not response.timed_out
    second = crowd.driver.wait_for(
        lambda: (h := crowd.sandbox.home(MANAGER)) and "Page 2 of 2" in shown(h) and h)
    rows = _rows(shown(second))
    assert len(rows) == 13 and not set(rows) & set(first)
    assert "‹ Previous" in buttons(second)
