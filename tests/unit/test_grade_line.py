"""The one grade line every surface shows: ``{badge} by <@reviewer> · *category*: explanation``,
with each surface's cap on the explanation."""

from bot.common.grades import scale_in_force
from bot.slack.blocks import grade_line


def test_the_line_names_grade_reviewer_category_and_explanation():
    line = grade_line("major", "U0NURSE01", "Dosage", "Too much ibuprofen", cap=400)
    assert line == (f"{scale_in_force().badge_of('major')} by <@U0NURSE01> · *Dosage*: "
                    "Too much ibuprofen")


def test_a_hidden_reviewer_and_missing_parts_are_left_out():
    assert grade_line("pass", "", None, None, cap=400) == scale_in_force().badge_of("pass")
    assert grade_line("pass", None, "", "", cap=400) == scale_in_force().badge_of("pass")


def test_the_cap_bounds_the_explanation_only():
    long = "x" * 1000
    short = grade_line("minor", "U0NURSE01", "Style", long, cap=280)
    longer = grade_line("minor", "U0NURSE01", "Style", long, cap=600)
    assert short.startswith(f"{scale_in_force().badge_of('minor')} by <@U0NURSE01> · *Style*: ")
    assert short.count("x") <= 280 < longer.count("x") <= 600


def test_side_by_side_and_quoted_forms():
    assert grade_line("pass", "U0NURSE01", None, "fine", cap=50, who=" — ") == (
        f"{scale_in_force().badge_of('pass')} — <@U0NURSE01>: fine")
    assert grade_line("pass", "U0NURSE01", None, "fine", cap=50, quoted=True) == (
        f"{scale_in_force().badge_of('pass')} by <@U0NURSE01>\n> fine")


def test_reviewers_words_cannot_ping_or_inject():
    line = grade_line("major", "U0NURSE01", "<!channel>", "see <@U0OTHER01>", cap=400)
    assert "<!channel>" not in line and "<@U0OTHER01>" not in line
