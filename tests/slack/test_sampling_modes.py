"""Tightened inspection: a trainer below the threshold gets three times the samples next week."""

from datetime import timedelta

from tests.support.escalation_setup import audited_weeks
from tests.support.factories import CLINICAL_CHANNEL, TRAINER1, week_of_records
from tests.support.harness import RunningBot


def _next_week_samples(bot: RunningBot) -> int:
    bot.ctx.clock.advance(timedelta(weeks=1))
    records = week_of_records(bot.ctx.clock.now(), count=20)
    for record in records:
        record["id"] += "-next"
    bot.ingest(records)
    summary = bot.run_audit()
    return next(r.samples for r in summary.results if r.trainer == TRAINER1)


def test_a_trainer_below_the_threshold_is_sampled_three_times_as_much(bot: RunningBot):
    audited_weeks(bot, [["major", "pass", "pass", "pass", "pass"]])  # 0.8 on 5: not watch
    assert _next_week_samples(bot) == 15
    assert len(bot.thread_replies(CLINICAL_CHANNEL)) == 5 + 15


def test_a_trainer_above_the_threshold_keeps_the_normal_sample(bot: RunningBot):
    audited_weeks(bot, [["pass"] * 5])
    assert _next_week_samples(bot) == 5
