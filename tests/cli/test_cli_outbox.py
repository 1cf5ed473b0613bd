"""`auditbot outbox retry`: failed Slack writes go out again once their cause is fixed."""

from datetime import UTC, datetime
from pathlib import Path

from bot.sandbox import SlackSandbox
from tests.cli.conftest import BOT_TOKEN
from tests.cli.helpers import auditbot, write_env, write_jsonl
from tests.support.factories import CHANNELS, CLINICAL_CHANNEL, TRAINER1, week_of_records


def test_outbox_retry_lists_the_failures_and_puts_them_back(
    upgraded: Path, sandbox: SlackSandbox
) -> None:
    write_env(upgraded, DATABASE_URL="sqlite:///auditbot.db", SLACK_BOT_TOKEN=BOT_TOKEN,
              SLACK_API_URL=sandbox.url)
    write_jsonl(upgraded / "outputs.jsonl", week_of_records(datetime.now(UTC), count=2))
    assert auditbot(upgraded, "ingest", "outputs.jsonl").returncode == 0
    sandbox.add_channel(CLINICAL_CHANNEL, CHANNELS[CLINICAL_CHANNEL], bot_is_member=False)

    run = auditbot(upgraded, "jobs", "run", "weekly-audit")
    assert run.returncode == 1, run.log  # delivered what it could; 3 writes failed
    assert "3 failed" in run.stdout, run.log
    assert sandbox.messages(CLINICAL_CHANNEL) == []

    sandbox.add_channel(CLINICAL_CHANNEL, CHANNELS[CLINICAL_CHANNEL])  # the bot was invited
    retry = auditbot(upgraded, "outbox", "retry", "--channel", CLINICAL_CHANNEL)
    assert retry.returncode == 0, retry.log
    assert f"{CLINICAL_CHANNEL}: 1 × not_in_channel (" in retry.stdout, retry.log
    assert "/invite" in retry.stdout, retry.log
    assert "3 failed write(s) put back" in retry.stdout, retry.log

    again = auditbot(upgraded, "jobs", "run", "weekly-audit")  # the week is posted: only delivers
    assert again.returncode == 0, again.log
    assert "delivered; 0 still pending, 0 failed" in again.stdout, again.log
    [parent, *replies] = sandbox.messages(CLINICAL_CHANNEL)
    assert f"<@{TRAINER1}>" in parent.text
    assert [r.thread_ts for r in replies] == [parent.ts] * 2

    nothing = auditbot(upgraded, "outbox", "retry")
    assert nothing.returncode == 0 and "0 failed write(s) put back" in nothing.stdout
