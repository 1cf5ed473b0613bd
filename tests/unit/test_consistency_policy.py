"""The consistency knobs in auditbot.toml: defaults, overrides, and mistakes by key path."""

from pathlib import Path
from typing import Any

import pytest

from bot.workspace import Problem, WorkspaceError, describe_workspace, load_workspace
from bot.workspace import parse_workspace as parse
from tests.support.factories import workspace_data

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "auditbot.toml"


def _problems(data: dict[str, Any]) -> list[Problem]:
    with pytest.raises(WorkspaceError) as caught:
        parse(data)
    return caught.value.problems


def test_defaults_are_the_documented_ones():
    policy = parse(workspace_data()).policy
    assert policy.agreement_alert_alpha == 0.667
    assert policy.agreement_min_samples == 20
    assert policy.calibration_min_catch_rate == 0.7
    assert policy.calibration_min_items == 10


def test_the_example_documents_every_knob_with_its_default():
    text = EXAMPLE.read_text()
    for line in ("agreement_alert_alpha = 0.667", "agreement_min_samples = 20",
                 "calibration_min_catch_rate = 0.7", "calibration_min_items = 10"):
        assert line in text
    assert "agreement_alert_alpha=0.667" in describe_workspace(load_workspace(EXAMPLE))


def test_a_task_type_may_override_the_workspace_policy():
    data = workspace_data(calibration_min_catch_rate=0.8)
    data["task_types"][1]["agreement_min_samples"] = 40
    workspace = parse(data)
    assert workspace.task_type("clinical").policy.calibration_min_catch_rate == 0.8
    assert workspace.task_type("legal").policy.agreement_min_samples == 40
    assert workspace.task_type("clinical").policy.agreement_min_samples == 20


@pytest.mark.parametrize(("key", "value", "message"), [
    ("agreement_alert_alpha", 1.5, "must be between 0 and 1 (got 1.5)"),
    ("agreement_alert_alpha", "0.667", "must be a number between 0 and 1 (got string '0.667')"),
    ("agreement_min_samples", 1, "must be at least 2 (got 1)"),
    ("agreement_min_samples", 20.0, "must be a whole number (got float 20.0)"),
    ("calibration_min_catch_rate", -0.1, "must be between 0 and 1 (got -0.1)"),
    ("calibration_min_items", 0, "must be at least 1 (got 0)"),
])
def test_a_bad_value_is_reported_with_its_key_path(key: str, value: Any, message: str):
    assert _problems(workspace_data(**{key: value})) == [Problem(f"policy.{key}", message)]
    data = workspace_data()
    data["task_types"][0][key] = value
    assert _problems(data) == [Problem(f"task_types[0].{key}", message)]
