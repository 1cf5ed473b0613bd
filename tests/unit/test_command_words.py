"""Reading the words of `/audit precedents <words>` (pure)."""

import pytest

from bot.slack.commands import MOST_WORDS, CommandProblem, some_words

READ = some_words("precedents")


def test_words_come_back_as_typed_with_slacks_escapes_undone():
    assert READ(("Dose", "&lt;5mg", "A&amp;E", "&gt;")) == ("Dose", "<5mg", "A&E", ">")


@pytest.mark.parametrize(("words", "says"), [
    ((), "`/audit precedents` needs words to look for"),
    (("w",) * (MOST_WORDS + 1), f"takes at most {MOST_WORDS} words"),
])
def test_no_words_or_too_many_is_a_problem_with_the_reason(words, says):
    with pytest.raises(CommandProblem, match=says):
        READ(words)
