"""The grade scale (bot.common.grades) and what derives from it: one definition, today's behaviour
by default, and any scale a workspace defines (2 to 5 levels) where one is in force."""

from collections.abc import Iterator

import pytest

from bot.common.grades import DEFAULT_SCALE, Level, Scale, scale_in_force, use_scale
from bot.services.agreement import ordinal_alpha, rank_distance
from bot.services.disputes import is_disagreement
from bot.services.scoring import counts_as_major
from bot.slack.blocks import badge
from bot.slack.ids import GRADE_ACTION, grade_action, grade_of_action
from bot.workspace.model import DEFAULT_GRADE_WEIGHTS, GRADES, Policy


def level(key: str, *, severe: bool = False, needs: bool = True) -> Level:
    return Level(key, key.title(), f"* {key.title()}", None, 0.5, "#000000",
                 needs_explanation=needs, severe=severe)


FOUR = Scale((level("pass", needs=False), level("minor"), level("major", severe=True),
              level("critical", severe=True)))
TWO = Scale((level("ok", needs=False), level("bad", severe=True)))


@pytest.fixture
def four_in_force() -> Iterator[Scale]:
    use_scale(FOUR)
    yield FOUR
    use_scale(DEFAULT_SCALE)


def test_the_default_scale_is_todays_three_levels():
    scale = DEFAULT_SCALE
    assert scale_in_force() is DEFAULT_SCALE  # until a workspace's is put in force
    assert scale.keys == ("pass", "minor", "major")
    assert scale.best == "pass" and scale.worst == "major"
    assert scale.non_pass == ("minor", "major")
    assert scale.severe == ("major",)
    assert scale.whole_step == 2
    assert scale.distance("pass", "major") == 2 and scale.distance("minor", "pass") == 1
    assert [scale.needs_explanation(k) for k in scale.keys] == [False, True, True]
    assert scale.label_of("minor") == "Minor issue"
    assert scale.badge_of("major") == "🔴 Major error"
    assert scale.badge_of("unheard-of") == "unheard-of"  # shown as stored
    assert scale.listed() == "*Pass*, *Minor issue* or *Major error*"


def test_what_derives_from_the_default_scale_is_todays():
    assert DEFAULT_SCALE.keys == GRADES
    assert dict(DEFAULT_GRADE_WEIGHTS) == {"pass": 1.0, "minor": 0.5, "major": 0.0}
    assert Policy().scale is DEFAULT_SCALE
    assert badge("minor") == "🟡 Minor issue" and badge("gone") == "gone"
    assert rank_distance("pass", "major") == 2
    assert is_disagreement(["pass", "major"]) and not is_disagreement(["pass", "minor"])
    assert counts_as_major(["major", "major", "pass"]) and not counts_as_major(["major", "pass"])


def test_grade_buttons_carry_any_key_and_read_it_back():
    for key in ("pass", "major", "critical", "needs_rework"):
        action_id = grade_action(key)
        assert GRADE_ACTION.match(action_id) and grade_of_action(action_id) == key
    assert grade_of_action("show_full") is None and grade_of_action("grade_") is None
    assert grade_of_action("grade_Pass") is None  # keys are lowercase (bot.workspace.scale)


def test_the_rules_follow_the_scale_in_force(four_in_force: Scale):
    assert badge("critical") == "* Critical"
    assert rank_distance("pass", "critical") == 3
    # A whole step stays two ranks: Pass against Major, Minor against Critical.
    assert is_disagreement(["pass", "major"]) and is_disagreement(["minor", "critical"])
    assert not is_disagreement(["major", "critical"]) and not is_disagreement(["pass", "minor"])
    assert counts_as_major(["critical", "major", "pass"], four_in_force)
    assert not counts_as_major(["critical", "minor"], four_in_force)
    assert ordinal_alpha([("critical", "critical"), ("pass", "pass"), ("minor", "minor")]) == 1.0
    with pytest.raises(ValueError, match="not on the scale"):
        ordinal_alpha([("pass", "awful"), ("pass", "pass")])


def test_a_two_level_scale_disagrees_at_one_rank():
    assert TWO.whole_step == 1 and TWO.non_pass == ("bad",)


def test_a_scale_has_two_to_five_distinct_levels_and_a_plain_best():
    one = level("ok", needs=False)
    with pytest.raises(ValueError, match="2 to 5"):
        Scale((one,))
    with pytest.raises(ValueError, match="2 to 5"):
        Scale((one, one))
    with pytest.raises(ValueError, match="2 to 5"):
        Scale((one, *(level(f"l{i}") for i in range(5))))
    with pytest.raises(ValueError, match="best level"):
        Scale((level("ok", severe=True, needs=False), level("bad")))
