"""Over HTTP a click is answered when its grade is stored and acked: Bolt's request thread
never sleeps in its 10 ms ack poll (``bot.fronts.prompt_ack``)."""

from types import SimpleNamespace

import pytest
from slack_bolt.listener import thread_runner
from sqlmodel import Session, select

from bot.store.models import Grade
from tests.support.factories import CLINICAL_CHANNEL, NURSE, TRAINER1, week_of_records
from tests.support.harness import RunningBot


@pytest.fixture
def bolt_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Each sleep Bolt's listener runner takes while it waits for an ack."""
    slept: list[float] = []
    real = thread_runner.time

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        real.sleep(seconds)

    monkeypatch.setattr(thread_runner, "time", SimpleNamespace(time=real.time, sleep=sleep))
    return slept


def test_a_pass_click_is_answered_without_bolts_ack_poll(bot: RunningBot,
                                                         bolt_sleeps: list[float]) -> None:
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=3))
    bot.run_audit()
    parent = next(p for p in bot.parents(CLINICAL_CHANNEL) if f"<@{TRAINER1}>" in p.text)
    samples = [r for r in bot.thread_replies(CLINICAL_CHANNEL) if r.thread_ts == parent.ts]
    for sample in samples:
        response = bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
        assert response.status == 200 and not response.timed_out
    with Session(bot.ctx.engine) as session:
        assert len(session.exec(select(Grade)).all()) == len(samples)
    # Each answer left when its grade was stored: the request thread never slept.
    assert bolt_sleeps == []
    # A slash command, answered in its ack, goes the same way.
    assert bot.driver.slash_command(NURSE, "help").status == 200
    assert bolt_sleeps == []
