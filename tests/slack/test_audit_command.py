"""`/audit` as Slack sends it: signed slash commands, answers in the ack or via response_url."""

from tests.support.factories import CLINICAL_CHANNEL, MANAGER, NURSE, week_of_records
from tests.support.harness import RunningBot


def _answers(bot: RunningBot, user: str, needle: str) -> list[str]:
    """What ``user`` was shown ephemerally (ack or response_url) containing ``needle``."""
    return [e.text for e in bot.sandbox.ephemerals(user=user) if needle in (e.text or "")]


def test_help_is_answered_in_the_ack_and_only_the_caller_sees_it(bot: RunningBot):
    response = bot.driver.slash_command(NURSE, "help")
    assert response.status == 200 and not response.timed_out
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert "/audit run" in answer["text"]


def test_an_unknown_subcommand_gets_the_help_with_what_was_not_understood(bot: RunningBot):
    answer = bot.driver.slash_command(NURSE, "statsu").json()
    assert "I don't know `statsu`" in answer["text"]
    assert "/audit help" in answer["text"]


def test_empty_text_gets_the_help(bot: RunningBot):
    assert "/audit run" in bot.driver.slash_command(NURSE, "").json()["text"]


def test_a_manager_runs_the_audit_and_hears_what_was_posted(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=6))
    response = bot.driver.slash_command(MANAGER, "run")
    assert response.status == 200 and not response.timed_out
    summary = bot.driver.wait_for(lambda: _answers(bot, MANAGER, "Weekly audit"))
    assert "2026-W48" in summary[0]
    bot.deliver()
    assert len(bot.thread_replies(CLINICAL_CHANNEL)) == 5


def test_a_non_manager_cannot_run_the_audit(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=6))
    bot.driver.slash_command(NURSE, "run")
    assert bot.driver.wait_for(lambda: _answers(bot, NURSE, "Only managers"))
    bot.deliver()
    assert bot.sandbox.messages(CLINICAL_CHANNEL) == []


def test_a_non_manager_s_run_is_refused_before_anything_says_it_is_posting(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=6))
    answer = bot.driver.slash_command(NURSE, "run").json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "Only managers can run the audit by hand."
    bot.deliver()
    shown = [e.text or "" for e in bot.sandbox.ephemerals(user=NURSE)]
    assert not [t for t in shown if "Posting" in t], shown
    assert bot.sandbox.messages(CLINICAL_CHANNEL) == []


def test_a_manager_is_told_the_audit_is_being_posted_in_the_ack(bot: RunningBot):
    answer = bot.driver.slash_command(MANAGER, "run").json()
    assert answer["text"] == "Posting this week's audit…"
    assert bot.driver.wait_for(lambda: _answers(bot, MANAGER, "Weekly audit"))


def test_a_non_manager_s_export_is_refused_in_the_ack(bot: RunningBot):
    answer = bot.driver.slash_command(NURSE, "export").json()
    assert answer["text"] == "Only managers can export the grades."
    assert bot.sandbox.files() == []


def test_a_stale_slash_command_is_refused(bot: RunningBot):
    assert bot.driver.slash_command(MANAGER, "run", timestamp_offset=-301).status == 401
    assert bot.sandbox.responses() == []


def test_disputes_is_a_subcommand_listed_in_the_help(bot: RunningBot):
    assert "disputes" in bot.driver.slash_command(NURSE, "help").json()["text"]
    bot.driver.slash_command(MANAGER, "disputes")
    assert bot.driver.wait_for(lambda: [e for e in bot.sandbox.ephemerals(user=MANAGER)
                                        if "ispute" in (e.text or "")])


def test_an_answer_the_response_url_refused_is_logged(bot: RunningBot, caplog):
    """respond() does not raise: a response_url used up or expired answers 404 and the
    person sees nothing, so at least the operator is told."""
    bot.sandbox.fail_next("response_url", status=404, error="used_url")
    assert bot.driver.slash_command(MANAGER, "disputes").status == 200
    warned = bot.driver.wait_for(lambda: [r for r in caplog.records
                                          if "did not arrive" in r.getMessage()])
    assert MANAGER in warned[0].getMessage() and "404" in warned[0].getMessage()
    assert bot.sandbox.ephemerals(user=MANAGER) == []
