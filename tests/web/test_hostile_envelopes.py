"""Socket Mode: envelopes are trusted (the app-level token opened the socket), but one whose
payload Bolt cannot read is acked and dropped with one log line, and the link keeps working."""

from typing import Any

import pytest

from tests.support.factories import NURSE
from tests.support.harness import RunningBot
from tests.web.hostile import row_counts

MALFORMED: list[tuple[str, Any]] = [
    ("interactive", {"type": "block_actions", "user": {"id": NURSE}, "actions": "x"}),
    ("interactive", {"type": "block_actions", "user": {"id": NURSE}, "actions": []}),
    ("interactive", {"type": "block_actions", "user": {"id": NURSE},
                     "actions": [{"action_id": "grade_pass", "value": "٣"}]}),
    ("interactive", {"type": "view_submission", "user": {"id": NURSE}, "view": "x"}),
    ("interactive", {"type": ["block_actions"]}),
    ("events_api", {"type": "event_callback", "event": 7}),
    ("events_api", {"type": "event_callback", "event": {"type": "app_home_opened",
                                                        "user": {"id": NURSE}}}),
    ("slash_commands", {"command": ["/audit"], "text": "help"}),
]


@pytest.fixture
def transport() -> str:
    return "socket_mode"


def test_a_malformed_envelope_is_acked_and_changes_nothing(
        bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    rows = row_counts(bot)
    for kind, payload in MALFORMED:
        ack = bot.driver.send_envelope(kind, payload, accepts_response=False)
        assert ack.status == 200, (kind, payload)
    bot.wait_listeners()
    assert row_counts(bot) == rows
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    answer = bot.driver.slash_command(NURSE, "help")  # the link still works
    assert answer.status == 200 and "/audit" in answer.body
