"""``[[grade_scale]]``: a workspace's own grade scale, parsed by bot.workspace.scale and
carried on the workspace and its policies; problems name their key path."""

import copy
import tomllib
from typing import Any

import pytest

from bot.common.grades import DEFAULT_SCALE
from bot.workspace import WorkspaceError, parse_workspace
from bot.workspace.scale import parse_grade_scale

FOUR_TOML = """
[[grade_scale]]
key = "pass"
label = "Pass"
marker = "✅"
style = "primary"
weight = 1.0

[[grade_scale]]
key = "minor"
label = "Minor issue"
marker = "🟡"
weight = 0.6

[[grade_scale]]
key = "major"
label = "Major error"
marker = "🔴"
weight = 0.2
severe = true

[[grade_scale]]
key = "critical"
label = "Critical"
badge = "⛔ Critical error"
style = "danger"
weight = 0.0
severe = true
colour = "#000000"
"""
FOUR: list[dict[str, Any]] = tomllib.loads(FOUR_TOML)["grade_scale"]

BASE: dict[str, Any] = {
    "workspace": {"timezone": "UTC", "managers": ["U0BOSS"]},
    "task_types": [{"key": "clinical", "name": "Clinical", "channel": "C0CLIN",
                    "reviewers": ["U0REV1"]}],
    "trainers": [{"user": "U0TR1", "task_types": ["clinical"]}],
}


def changed(rank: int, **fields: Any) -> list[dict[str, Any]]:
    """FOUR with level ``rank``'s fields changed (``None`` removes one)."""
    levels = copy.deepcopy(FOUR)
    levels[rank] = {k: v for k, v in {**levels[rank], **fields}.items() if v is not None}
    return levels


def problems(raw: object) -> list[str]:
    with pytest.raises(WorkspaceError) as caught:
        parse_grade_scale(raw)
    return [str(p) for p in caught.value.problems]


def test_absent_the_default_scale_applies():
    assert parse_grade_scale(None) is DEFAULT_SCALE
    assert parse_workspace(BASE).scale is DEFAULT_SCALE


def test_a_four_level_scale_is_read_in_order_with_its_fields():
    scale = parse_grade_scale(FOUR)
    assert scale.keys == ("pass", "minor", "major", "critical")
    assert scale.best == "pass" and scale.worst == "critical"
    assert scale.severe == ("major", "critical")
    assert [lv.needs_explanation for lv in scale] == [False, True, True, True]  # default
    assert [lv.style for lv in scale] == ["primary", None, None, "danger"]
    assert scale.badge_of("minor") == "🟡 Minor issue"
    assert scale.badge_of("critical") == "⛔ Critical error"  # badge given whole
    assert scale.default_weights == {"pass": 1.0, "minor": 0.6, "major": 0.2, "critical": 0.0}
    assert scale.level("critical").colour == "#000000"
    assert scale.level("pass").colour != scale.level("minor").colour  # from the palette


def test_a_two_level_scale_and_a_label_without_marker():
    scale = parse_grade_scale([{"key": "ok", "label": "OK", "weight": 1},
                               {"key": "redo", "label": "Redo", "weight": 0}])
    assert scale.keys == ("ok", "redo") and scale.badge_of("redo") == "Redo"
    assert scale.whole_step == 1


@pytest.mark.parametrize(("raw", "expected"), [
    ("pass", "grade_scale: must be an array of tables like [[grade_scale]] "
             "(got string 'pass')"),
    (FOUR[:1], "grade_scale: must have 2 to 5 levels, best first (got 1)"),
    (FOUR + FOUR[1:3], "grade_scale: must have 2 to 5 levels, best first (got 6)"),
    (changed(2, weight=1.5), "grade_scale[2].weight: must be between 0 and 1 (got 1.5)"),
    (changed(2, weight="low"),
     "grade_scale[2].weight: must be a number between 0 and 1 (got string 'low')"),
    (changed(1, weight=None), "grade_scale[1].weight: missing required key"),
    (changed(3, weight=0.9), "grade_scale[3].weight: must not be more than the better "
                             "level's (major = 0.2): a worse grade never scores higher "
                             "(got 0.9)"),
    (changed(1, key="major"), "grade_scale[2].key: duplicate 'major' (already at "
                              "grade_scale[1])"),
    (changed(3, key="Critical!"), "grade_scale[3].key: must start with a lowercase letter "
                                  "and hold only a-z, 0-9 and _ (at most 16 characters; got "
                                  "'Critical!')"),
    (changed(3, key="a_very_long_grade_key"), "grade_scale[3].key: must start with a "
     "lowercase letter and hold only a-z, 0-9 and _ (at most 16 characters; got "
     "'a_very_long_grade_key')"),
    (changed(0, label=None), "grade_scale[0].label: missing required key"),
    (changed(0, label="  "), "grade_scale[0].label: must not be blank"),
    (changed(3, style="red"), "grade_scale[3].style: must be one of 'primary', 'danger', "
                              "'default' (got 'red')"),
    (changed(2, severe="yes"), "grade_scale[2].severe: must be true or false (got string "
                               "'yes')"),
    (changed(0, severe=True), "grade_scale[0].severe: the best level (the first) cannot be "
                              "severe"),
    (changed(0, needs_explanation=True), "grade_scale[0].needs_explanation: the best level "
                                         "(the first) records on the click, without one"),
    (changed(1, marker="🟡", badge="🟡 Minor"), "grade_scale[1].badge: give either `marker` "
     "(shown before the label) or `badge` (the whole text shown), not both"),
    (changed(3, colour="black"), "grade_scale[3].colour: must be a colour like '#c62828' "
                                 "(got 'black')"),
    (changed(1, wieght=0.5), "grade_scale[1].wieght: unknown key 'wieght' (did you mean "
                             "'weight'?)"),
    ([*FOUR[:3], 7], "grade_scale[3]: must be a table (got integer 7)"),
])
def test_a_wrong_scale_is_refused_naming_the_key_path(raw: object, expected: str):
    assert expected in problems(raw)


def test_every_problem_is_reported_in_one_pass():
    raw = changed(2, weight=2, style="loud")
    raw[3]["key"] = "BAD"
    assert problems(raw) == [
        "grade_scale[2].style: must be one of 'primary', 'danger', 'default' (got 'loud')",
        "grade_scale[2].weight: must be between 0 and 1 (got 2)",
        "grade_scale[3].key: must start with a lowercase letter and hold only a-z, 0-9 and _ "
        "(at most 16 characters; got 'BAD')",
    ]


def test_the_workspace_and_every_policy_carry_the_scale_and_its_weights():
    ws = parse_workspace({**BASE, "grade_scale": FOUR})
    assert ws.scale.keys == ("pass", "minor", "major", "critical")
    assert ws.policy.scale is ws.scale and ws.task_type("clinical").policy.scale is ws.scale
    assert dict(ws.policy.grade_weights) == {"pass": 1.0, "minor": 0.6, "major": 0.2,
                                             "critical": 0.0}


def test_grade_weights_in_policy_are_checked_against_the_workspace_scale():
    ws = parse_workspace({**BASE, "grade_scale": FOUR, "policy": {"grade_weights": {
        "pass": 1, "minor": 0.5, "major": 0.25, "critical": 0}}})
    assert ws.policy.weight("critical") == 0.0 and ws.policy.weight("major") == 0.25
    with pytest.raises(WorkspaceError) as caught:
        parse_workspace({**BASE, "grade_scale": FOUR,
                         "policy": {"grade_weights": {"pass": 1, "minor": 0.5, "major": 0}}})
    assert "policy.grade_weights.critical: missing required key" in str(caught.value)


def test_scale_problems_are_listed_with_the_rest_of_the_config():
    with pytest.raises(WorkspaceError) as caught:
        parse_workspace({**BASE, "grade_scale": changed(2, weight=1.5),
                         "workspace": {"timezone": "Mars/Olympus", "managers": ["U0BOSS"]}},
                        source="auditbot.toml")
    text = str(caught.value)
    assert "auditbot.toml: grade_scale[2].weight: must be between 0 and 1 (got 1.5)" in text
    assert "auditbot.toml: workspace.timezone: unknown timezone" in text


def test_a_fifth_level_needs_only_the_config():
    """Five levels in auditbot.toml reach the buttons and the modal with no code change."""
    from bot.slack.blocks import SampleCard, grade_modal, sample_reply

    fifth = {"key": "fatal", "label": "Fatal", "marker": "☠️", "weight": 0.0, "severe": True}
    ws = parse_workspace({**BASE, "grade_scale": [*FOUR, fifth]})
    card = SampleCard(sample_id=7, position=0, count=1, output_id="o-7", trainer="U0TR1",
                      task_name="Clinical", prompt="p", output="o", created_at="today",
                      project=None, needs_double_review=False, grades=[], scale=ws.scale)
    _, blocks = sample_reply(card)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        "grade_pass", "grade_minor", "grade_major", "grade_critical", "grade_fatal"]
    modal = grade_modal(grade="fatal", categories=("Other",), trainer="U0TR1",
                        output_excerpt="o", private_metadata="{}", scale=ws.scale)
    assert modal["title"]["text"] == "Fatal"


@pytest.mark.parametrize("where", ["policy", "task_type"])
def test_a_policy_table_cannot_set_the_scale(where: str):
    """The scale is [[grade_scale]]'s alone: `scale` in [policy] or a task type is refused
    by name, not taken as a policy value."""
    data = copy.deepcopy(BASE)
    if where == "policy":
        data["policy"] = {"scale": FOUR}
        expected = "policy.scale: is not a policy key: the grade scale is set by [[grade_scale]]"
    else:
        data["task_types"][0]["scale"] = FOUR
        expected = "task_types[0].scale: unknown key 'scale'"
    with pytest.raises(WorkspaceError) as caught:
        parse_workspace(data)
    assert expected in str(caught.value)


def test_a_task_type_inherits_the_scale_s_default_weights_and_may_set_its_own():
    data = copy.deepcopy(BASE)
    data["grade_scale"] = FOUR
    data["task_types"][0]["grade_weights"] = {"pass": 1, "minor": 0.7, "major": 0.1,
                                              "critical": 0}
    ws = parse_workspace(data)
    own = ws.task_type(data["task_types"][0]["key"]).policy
    assert own.scale is ws.scale and own.weight("minor") == 0.7
    assert ws.policy.weight("minor") == 0.6  # the workspace's: the scale's default weights
