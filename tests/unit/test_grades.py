"""The grade scale (bot.grades) and what derives from it: one definition, today's behaviour."""

import pytest

from bot.charts import COLOURS
from bot.grades import DEFAULT_SCALE, SCALE, Level, Scale
from bot.services.agreement import RANK, rank_distance
from bot.services.disputes import WHOLE_STEP, is_disagreement
from bot.services.grading import GRADE_LABELS
from bot.services.ingest_validate import GRADES as INGEST_GRADES
from bot.services.precedents import NON_PASS
from bot.services.scoring import counts_as_major
from bot.slack.blocks import GRADE_BADGES
from bot.slack.ids import ACTION_BY_GRADE, GRADE_BY_ACTION, Action
from bot.workspace.model import DEFAULT_GRADE_WEIGHTS, GRADES


def test_the_default_scale_is_todays_three_levels():
    assert SCALE is DEFAULT_SCALE
    assert SCALE.keys == ("pass", "minor", "major")
    assert SCALE.best == "pass" and SCALE.worst == "major"
    assert SCALE.non_pass == ("minor", "major")
    assert SCALE.severe == ("major",)
    assert SCALE.whole_step == 2
    assert SCALE.distance("pass", "major") == 2 and SCALE.distance("minor", "pass") == 1
    assert [SCALE.needs_explanation(k) for k in SCALE.keys] == [False, True, True]
    assert SCALE.label_of("minor") == "Minor issue"
    assert SCALE.badge_of("major") == "🔴 Major error"
    assert SCALE.badge_of("unheard-of") == "unheard-of"  # shown as stored
    assert SCALE.listed() == "*Pass*, *Minor issue* or *Major error*"
    assert SCALE.sql_check("grade") == "grade IN ('pass', 'minor', 'major')"


def test_every_former_copy_of_the_scale_now_derives_from_it():
    assert GRADES == INGEST_GRADES == SCALE.keys
    assert dict(DEFAULT_GRADE_WEIGHTS) == {"pass": 1.0, "minor": 0.5, "major": 0.0}
    assert GRADE_LABELS == {"pass": "Pass", "minor": "Minor issue", "major": "Major error"}
    assert GRADE_BADGES == {"pass": "✅ Pass", "minor": "🟡 Minor issue",
                            "major": "🔴 Major error"}
    assert RANK == {"pass": 0, "minor": 1, "major": 2}
    assert rank_distance("pass", "major") == WHOLE_STEP == 2
    assert NON_PASS == ("minor", "major")
    assert set(COLOURS) == set(SCALE.keys)
    assert GRADE_BY_ACTION == {Action.GRADE_PASS: "pass", Action.GRADE_MINOR: "minor",
                               Action.GRADE_MAJOR: "major"}
    assert ACTION_BY_GRADE["major"] is Action.GRADE_MAJOR


def test_rules_read_the_scale():
    assert is_disagreement(["pass", "major"]) and not is_disagreement(["pass", "minor"])
    assert counts_as_major(["major", "major", "pass"]) and not counts_as_major(["major", "pass"])


def test_a_scale_needs_two_distinct_levels():
    one = Level("ok", "OK", "OK", None, 1.0, "#000", needs_explanation=False, severe=False)
    with pytest.raises(ValueError, match="two or more"):
        Scale((one,))
    with pytest.raises(ValueError, match="two or more"):
        Scale((one, one))
