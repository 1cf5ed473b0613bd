"""`/audit precedents <words>` as a reviewer uses it: a signed slash command, the ack at once,
the earlier rulings as an ephemeral answer with links to the samples; the help without words;
a plain answer when nothing matches; a refusal for people who do not grade."""

import pytest

from tests.support.escalation_setup import audited_weeks
from tests.support.factories import DOCTOR, LAWYER, TRAINER1
from tests.support.harness import RunningBot
from tests.support.status_support import ask, shown


@pytest.fixture
def graded(bot: RunningBot) -> RunningBot:
    """Last week and this week of TRAINER1 (clinical), graded and posted in Slack."""
    audited_weeks(bot, [["major", "pass"], ["pass", "minor", "pass"]])
    return bot


def test_a_reviewer_sees_how_earlier_errors_with_these_words_were_graded(graded: RunningBot):
    answer = ask(graded, DOCTOR, "precedents Ibuprofen CKD")
    assert answer.source == "response_url"
    text = shown(answer)
    assert "Precedents for “Ibuprofen CKD”" in text
    assert text.index("2026-W48") < text.index("2026-W47")  # newest first
    assert "🟡 Minor issue" in text and "🔴 Major error" in text and "✅ Pass" not in text
    assert "*Unsafe advice*: Recommends ibuprofen although the patient has stated CKD" in text
    assert f"output of <@{TRAINER1}>" in text
    assert text.count("https://sandbox.slack.test/archives/C0CLINICAL/") == 2
    assert len(answer.blocks) <= 50


def test_no_words_gets_the_help_and_no_match_says_so(graded: RunningBot):
    ack = graded.driver.slash_command(DOCTOR, "precedents").json()
    assert ack["response_type"] == "ephemeral"
    assert "`/audit precedents` needs words to look for" in ack["text"]
    assert "`/audit precedents <words>`" in ack["text"]
    assert "No precedents for “antibiotic”" in shown(ask(graded, DOCTOR, "precedents antibiotic"))
    # The lawyer reviews legal only: clinical rulings are not theirs to see.
    assert "No precedents for “ibuprofen”" in shown(ask(graded, LAWYER, "precedents ibuprofen"))
    assert "reviewers and managers" in ask(graded, TRAINER1, "precedents ibuprofen").text
