"""What a minimum length counts: the characters a reader sees."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.common.grades import DEFAULT_SCALE
from bot.common.text import visible_length, visible_text
from bot.services.disputes import settle_problems
from bot.services.escalation import resolve_note_problem
from bot.services.grading import grade_problems

ZERO_WIDTH = "\u200b"
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2800",
             "\u3164", "\u0301"]
letters = st.text(st.characters(categories=("Lu", "Ll", "Nd", "Po")), min_size=1)
words = st.lists(letters, min_size=1, max_size=6)
invisible = st.text(st.sampled_from([*INVISIBLE, "\u180e", "\u061c", "\u2066"]))
whitespace = st.text(st.sampled_from(" \t\n\r\u00a0\u2003\u3000\u2028"), min_size=1)


def test_zero_width_padding_is_not_counted():
    assert visible_length("aaaaa" + ZERO_WIDTH * 30) == 5
    assert visible_text("a\u200bb\u200dc\ufeffd\u2060e") == "abcde"


def test_whitespace_runs_count_once_and_the_ends_not_at_all():
    assert visible_text("  two \t\n  words \u3000") == "two words"
    assert visible_length(None) == visible_length("") == 0


def test_a_stacked_accent_adds_no_character():
    assert visible_length("e\u0301" * 10) == 10  # "é" written as e + combining acute
    assert visible_length("a" + "\u0301" * 30) == 1


@settings(deadline=None)  # timings vary on a loaded machine
@given(words)
def test_words_with_single_spaces_count_every_character(parts: list[str]):
    text = " ".join(parts)
    assert visible_length(text) == len(text)


@settings(deadline=None)  # timings vary on a loaded machine
@given(words, st.lists(invisible, min_size=1), st.lists(whitespace, min_size=1))
def test_invisible_characters_and_longer_gaps_change_nothing(
        parts: list[str], fillers: list[str], gaps: list[str]):
    plain = " ".join(parts)
    padded = fillers[0]
    for i, part in enumerate(parts):
        padded += "".join(fillers[i % len(fillers)]) + part
        padded += gaps[i % len(gaps)] + fillers[(i + 1) % len(fillers)]
    assert visible_length(padded) == len(plain)
    assert visible_text(padded) == plain


@settings(deadline=None)  # timings vary on a loaded machine
@given(st.text())
def test_visible_text_is_stable_and_never_longer(text: str):
    seen = visible_text(text)
    assert len(seen) <= len(text)
    assert visible_text(seen) == seen
    assert not any(unicodedata.category(c) == "Cf" for c in seen)
    assert "  " not in seen and seen == seen.strip()


def test_every_minimum_counts_visible_characters():
    padded = "aaaaa" + ZERO_WIDTH * 30
    problems = grade_problems("minor", DEFAULT_SCALE, category="Other", explanation=padded,
                              categories=("Other",))
    assert "you wrote 5" in problems["explanation"]
    assert "you wrote 5" in settle_problems("pass", padded)["note"]
    assert "you wrote 5" in (resolve_note_problem("aaaaa" + " " * 30 + ZERO_WIDTH * 10) or "")
    real = "Recommends ibuprofen despite CKD."
    assert grade_problems("minor", DEFAULT_SCALE, category="Other", explanation=real,
                          categories=("Other",)) == {}
    assert settle_problems("pass", real) == {}
    assert resolve_note_problem("Coached on dosing.") is None
