"""auditbot.toml: the example loads, defaults apply, and every mistake names its key path."""

import copy
import dataclasses
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from bot.common.grades import DEFAULT_SCALE, Level, Scale
from bot.workspace import (
    LEAD,
    EscalationLevel,
    Policy,
    Problem,
    Trainer,
    Workspace,
    WorkspaceError,
    describe_workspace,
    load_workspace,
    parse_workspace,
)
from bot.workspace.problems import known_keys, problems_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "auditbot.toml"

BASE: dict[str, Any] = {
    "workspace": {"timezone": "Europe/Paris", "managers": ["U0BOSS"]},
    "task_types": [
        {"key": "clinical", "name": "Clinical", "channel": "C0CLIN", "reviewers": ["U0REV1"]},
        {"key": "legal", "name": "Legal", "channel": "C0LEGAL", "reviewers": ["U0REV2"]},
    ],
    "trainers": [{"user": "U0TR1", "task_types": ["clinical"], "lead": "U0LEAD"}],
}


def config(**sections: Any) -> dict[str, Any]:
    """A valid config with the given top-level sections replaced (``None`` removes one)."""
    data = copy.deepcopy(BASE)
    for name, value in sections.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def task_type(**fields: Any) -> dict[str, Any]:
    """The first task type of BASE with ``fields`` changed (``None`` removes one)."""
    table = {**BASE["task_types"][0], **fields}
    return {k: v for k, v in table.items() if v is not None}


def trainer(**fields: Any) -> dict[str, Any]:
    table = {**BASE["trainers"][0], **fields}
    return {k: v for k, v in table.items() if v is not None}


def trainer_of(ws: Workspace, user: str) -> Trainer:
    found = ws.trainer(user)
    assert found is not None, user
    return found


def problems(data: Any) -> list[Problem]:
    with pytest.raises(WorkspaceError) as info:
        parse_workspace(data)
    return info.value.problems


def only_problem(data: Any) -> Problem:
    found = problems(data)
    assert len(found) == 1, found
    return found[0]


# --- the example and the defaults ------------------------------------------------------


def test_a_config_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    saved = tmp_path / "auditbot.toml"
    saved.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
    assert load_workspace(saved) == load_workspace(EXAMPLE)


def test_example_config_loads_as_documented() -> None:
    ws = load_workspace(EXAMPLE)

    assert ws.timezone == "America/New_York"
    assert ws.managers == ("U0MANAGER1",)
    assert [t.key for t in ws.task_types] == ["clinical", "legal", "finance"]
    assert ws.task_type("clinical").policy.pass_threshold == 0.9
    assert ws.task_type("legal").policy.double_review_fraction == 0.0
    assert ws.task_type("finance").policy == ws.policy
    assert all(t.error_categories[-1] == "Other" for t in ws.task_types)
    assert len(ws.trainers) == 6
    assert trainer_of(ws, "U0TRAINER4").task_types == ("legal", "finance")
    assert trainer_of(ws, "U0TRAINER1").started == date(2026, 3, 2)
    assert {t.lead for t in ws.trainers} == {"U0LEAD0001", "U0LEAD0002"}
    assert ws.escalation.levels == (
        EscalationLevel(notify=(LEAD,), ack_within=timedelta(hours=4)),
        EscalationLevel(notify=("U0MANAGER1",), ack_within=timedelta(hours=24)),
        EscalationLevel(notify=("C0QUALITY",), ack_within=None),
    )


def test_example_has_recent_and_long_standing_trainers() -> None:
    # The demo shows 90-day onboarding progress, so both kinds must exist on 2026-11-26.
    ws = load_workspace(EXAMPLE)
    ages = [(date(2026, 11, 26) - t.started).days for t in ws.trainers if t.started]
    assert any(age < 90 for age in ages) and any(age >= 90 for age in ages)


def test_workspace_is_frozen_and_hashable() -> None:
    ws = load_workspace(EXAMPLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ws.timezone = "UTC"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ws.policy.grade_weights["pass"] = 0.0  # type: ignore[index]
    assert hash(ws) == hash(load_workspace(EXAMPLE))
    assert ws == load_workspace(EXAMPLE)


def test_missing_optional_sections_get_defaults() -> None:
    ws = parse_workspace(config())

    assert ws.schedule.weekly_audit.weekday == 0
    assert ws.schedule.weekly_audit.at == time(9, 0)
    assert ws.schedule.escalation_check == timedelta(minutes=5)
    assert ws.policy == Policy()
    assert dict(ws.policy.grade_weights) == {"pass": 1.0, "minor": 0.5, "major": 0.0}
    assert ws.task_type("clinical").error_categories[-1] == "Other"
    assert ws.escalation.reack_after == timedelta(hours=24)
    assert ws.escalation.levels == (
        EscalationLevel(notify=(LEAD,), ack_within=timedelta(hours=4)),
        EscalationLevel(notify=("U0BOSS",), ack_within=timedelta(hours=24)),
    )


def test_default_escalation_without_managers_is_the_lead_only() -> None:
    ws = parse_workspace(config(workspace={"timezone": "UTC"}))
    assert ws.managers == ()
    assert [level.notify for level in ws.escalation.levels] == [(LEAD,)]


def test_trainers_are_optional() -> None:
    assert parse_workspace(config(trainers=None)).trainers == ()


def test_task_type_policy_is_the_workspace_policy_with_its_overrides() -> None:
    ws = parse_workspace(config(
        policy={"samples_per_trainer": 7, "pass_threshold": 0.8},
        task_types=[task_type(pass_threshold=0.95, min_graded=3,
                              grade_weights={"pass": 1, "minor": 0.25, "major": 0})],
    ))
    effective = ws.task_type("clinical").policy
    assert effective.samples_per_trainer == 7  # inherited
    assert effective.pass_threshold == 0.95  # overridden
    assert effective.min_graded == 3
    assert effective.weight("minor") == 0.25
    assert ws.policy.pass_threshold == 0.8


def test_integer_zero_and_one_are_valid_fractions() -> None:
    ws = parse_workspace(config(policy={"double_review_fraction": 0, "pass_threshold": 1}))
    assert ws.policy.double_review_fraction == 0.0
    assert ws.policy.pass_threshold == 1.0


def test_lookups_and_permissions() -> None:
    ws = parse_workspace(config())

    assert ws.task_type("legal").channel == "C0LEGAL"
    with pytest.raises(KeyError):
        ws.task_type("nope")
    assert trainer_of(ws, "U0TR1").lead == "U0LEAD"
    assert ws.trainer("U0REV1") is None
    assert ws.is_manager("U0BOSS") and not ws.is_manager("U0REV1")
    assert ws.may_grade("U0REV1", "clinical")
    assert not ws.may_grade("U0REV1", "legal")  # a reviewer of another type
    assert ws.may_grade("U0BOSS", "legal")  # managers grade every type
    assert not ws.may_grade("U0REV1", "nope")
    assert [t.key for t in ws.reviewer_task_types("U0REV2")] == ["legal"]
    assert [t.user for t in ws.trainers_of("clinical")] == ["U0TR1"]
    assert ws.trainers_of("legal") == ()


def test_started_accepts_toml_date_and_iso_string() -> None:
    ws = parse_workspace(config(trainers=[
        trainer(user="U0TR1", started=date(2026, 9, 1)),
        trainer(user="U0TR2", started="2026-09-02"),
    ]))
    assert [t.started for t in ws.trainers] == [date(2026, 9, 1), date(2026, 9, 2)]


def test_describe_workspace_summarises_what_was_understood() -> None:
    text = describe_workspace(load_workspace(EXAMPLE))

    assert "Timezone: America/New_York" in text
    assert "Managers: U0MANAGER1" in text
    assert "weekly audit: Monday 09:00 (America/New_York)" in text
    assert "escalation check: every 5m" in text
    assert "pass_threshold=0.9*" in text  # clinical's override is marked
    assert "U0TRAINER4: legal, finance; lead U0LEAD0002; started 2026-10-05" in text
    assert "1. the trainer's lead (next level after 4h unacknowledged)" in text
    assert "3. C0QUALITY (last level)" in text


# --- error format -------------------------------------------------------------------------


def test_error_message_names_file_path_and_value() -> None:
    data = config(task_types=[task_type(), task_type(key="legal", pass_threshold=1.5)])
    with pytest.raises(WorkspaceError) as info:
        parse_workspace(data)
    assert str(info.value) == (
        "auditbot.toml: task_types[1].pass_threshold: must be between 0 and 1 (got 1.5)")


def test_all_problems_are_reported_together_one_per_line() -> None:
    data = config(
        workspace={"timezone": "Mars/Olympus", "managers": ["bob"]},
        policy={"pass_treshold": 0.9, "window_weeks": 0},
        trainers=[trainer(task_types=["clinicl"]), trainer(lead="C0LEAD")],
    )
    with pytest.raises(WorkspaceError) as info:
        parse_workspace(data, source="team.toml")

    paths = [p.path for p in info.value.problems]
    assert paths == [
        "workspace.timezone",
        "workspace.managers[0]",
        "policy.pass_treshold",
        "policy.window_weeks",
        "trainers[0].task_types[0]",
        "trainers[1].user",  # the second table repeats U0TR1
        "trainers[1].lead",
    ]
    lines = str(info.value).splitlines()
    assert len(lines) == len(paths)
    assert all(line.startswith("team.toml: ") for line in lines)


# --- unknown, missing and mistyped keys --------------------------------------------------


@pytest.mark.parametrize(("data", "path", "message"), [
    (config(polcy={}), "polcy", "unknown key 'polcy' (did you mean 'policy'?)"),
    (config(workspace={"timezone": "UTC", "manager": []}), "workspace.manager",
     "unknown key 'manager' (did you mean 'managers'?)"),
    (config(policy={"pass_treshold": 0.9}), "policy.pass_treshold",
     "unknown key 'pass_treshold' (did you mean 'pass_threshold'?)"),
    (config(task_types=[task_type(pass_treshold=0.9)]), "task_types[0].pass_treshold",
     "unknown key 'pass_treshold' (did you mean 'pass_threshold'?)"),
    (config(trainers=[trainer(leed="U0LEAD")]), "trainers[0].leed",
     "unknown key 'leed' (did you mean 'lead'?)"),
    (config(schedule={"weekly": "mon 09:00"}), "schedule.weekly",
     "unknown key 'weekly' (did you mean 'weekly_audit'?)"),
    (config(policy={"grade_weights": {"pass": 1, "minor": 0.5, "major": 0, "fail": 0}}),
     "policy.grade_weights.fail", "unknown key 'fail' (known keys: pass, minor, major)"),
    (config(escalation={"levels": [{"notfy": ["lead"]}], "reack_after": "1h"}),
     "escalation.levels[0].notfy", "unknown key 'notfy' (did you mean 'notify'?)"),
])
def test_unknown_key_is_reported_with_a_suggestion(data: Any, path: str, message: str) -> None:
    assert Problem(path, message) in problems(data)


@pytest.mark.parametrize(("data", "path"), [
    (config(workspace=None), "workspace.timezone"),
    (config(workspace={"managers": []}), "workspace.timezone"),
    (config(task_types=[task_type(key=None)]), "task_types[0].key"),
    (config(task_types=[task_type(name=None)]), "task_types[0].name"),
    (config(task_types=[task_type(channel=None)]), "task_types[0].channel"),
    (config(task_types=[task_type(reviewers=None)]), "task_types[0].reviewers"),
    (config(trainers=[trainer(user=None)]), "trainers[0].user"),
    (config(trainers=[trainer(task_types=None)]), "trainers[0].task_types"),
    (config(escalation={"levels": [{"ack_within": "4h"}]}), "escalation.levels[0].notify"),
])
def test_missing_required_key_is_reported(data: Any, path: str) -> None:
    problem = only_problem(data)
    assert problem.path == path
    assert problem.message.startswith("missing required key")


def test_missing_task_types_is_reported_without_cascading_to_trainers() -> None:
    problem = only_problem(config(task_types=None))
    assert problem == Problem(
        "task_types", "missing required key: declare at least one [[task_types]] table")


def test_empty_task_types_is_reported() -> None:
    assert only_problem(config(task_types=[], trainers=None)) == Problem(
        "task_types", "must declare at least one task type")


@pytest.mark.parametrize(("data", "path", "message"), [
    (config(policy={"samples_per_trainer": True}), "policy.samples_per_trainer",
     "must be a whole number (got boolean true)"),
    (config(policy={"min_graded": 8.0}), "policy.min_graded",
     "must be a whole number (got float 8.0)"),
    (config(policy={"pass_threshold": "0.9"}), "policy.pass_threshold",
     "must be a number between 0 and 1 (got string '0.9')"),
    (config(policy={"pass_threshold": False}), "policy.pass_threshold",
     "must be a number between 0 and 1 (got boolean false)"),
    (config(task_types=[task_type(name=7)]), "task_types[0].name",
     "must be a string (got integer 7)"),
    (config(task_types=[task_type(name="  ")]), "task_types[0].name", "must not be blank"),
    (config(workspace={"timezone": "UTC", "managers": "U0BOSS"}), "workspace.managers",
     "must be an array of strings (got string 'U0BOSS')"),
    (config(task_types=[task_type(reviewers=["U0REV1", 3])]), "task_types[0].reviewers[1]",
     "must be a string (got integer 3)"),
    (config(task_types={"key": "clinical"}), "task_types",
     "must be an array of tables like [[task_types]] (got a table)"),
    (config(escalation={"levels": "lead"}), "escalation.levels",
     "must be an array of tables like [[escalation.levels]] (got string 'lead')"),
    (config(trainers=[BASE["trainers"][0], "U0TR2"]), "trainers[1]",
     "must be a table (got string 'U0TR2')"),
    (config(policy=[1]), "policy", "must be a table (got an array)"),
    (config(policy={"grade_weights": 1}), "policy.grade_weights",
     "must be a table like { pass = 1.0, minor = 0.5, major = 0.0 } (got integer 1)"),
    (config(schedule={"escalation_check": 300}), "schedule.escalation_check",
     "must be a string like '5m' (got integer 300)"),
    (config(trainers=[trainer(started=datetime(2026, 9, 1, 9, 0))]), "trainers[0].started",
     "must be a date like 2026-09-01 (got date-time 2026-09-01T09:00:00)"),
])
def test_wrong_type_is_reported(data: Any, path: str, message: str) -> None:
    assert only_problem(data) == Problem(path, message)


def test_non_table_config_is_an_error() -> None:
    assert problems(["not", "a", "table"]) == [
        Problem("", "the config must be a table of sections")]


# --- Slack ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "path", "message"), [
    (config(task_types=[task_type(reviewers=["U0REV1", "C0CLIN"])]),
     "task_types[0].reviewers[1]",
     "must be a user id (U… or W…), not a channel id (got 'C0CLIN')"),
    (config(task_types=[task_type(channel="U0REV1")]), "task_types[0].channel",
     "must be a channel id (C… or G…), not a user id (got 'U0REV1')"),
    (config(task_types=[task_type(channel="#clinical")]), "task_types[0].channel",
     "must be a Slack channel id like 'C0123ABCD' (got '#clinical')"),
    (config(workspace={"timezone": "UTC", "managers": ["u0boss"]}), "workspace.managers[0]",
     "must be a Slack user id like 'U0123ABCD' (got 'u0boss')"),
    (config(trainers=[trainer(user="@alice")]), "trainers[0].user",
     "must be a Slack user id like 'U0123ABCD' (got '@alice')"),
    (config(trainers=[trainer(lead="G0LEADS")]), "trainers[0].lead",
     "must be a user id (U… or W…), not a channel id (got 'G0LEADS')"),
    (config(escalation={"levels": [{"notify": ["lead", "managers"]}]}),
     "escalation.levels[0].notify[1]",
     "must be \"lead\", a user id (U… or W…) or a channel id (C… or G…) (got 'managers')"),
])
def test_malformed_slack_id_names_what_was_expected(data: Any, path: str, message: str) -> None:
    assert only_problem(data) == Problem(path, message)


def test_enterprise_user_ids_and_private_channels_are_valid() -> None:
    ws = parse_workspace(config(
        task_types=[task_type(channel="G0PRIVATE", reviewers=["W0GRIDUSER"])],
        escalation={"levels": [{"notify": ["W0GRIDUSER", "G0PRIVATE", "lead"]}]},
    ))
    assert ws.task_type("clinical").reviewers == ("W0GRIDUSER",)
    assert ws.escalation.levels[0].notify == ("W0GRIDUSER", "G0PRIVATE", "lead")


# --- references and uniqueness ------------------------------------------------------------


@pytest.mark.parametrize(("data", "path", "message"), [
    (config(workspace={"timezone": "America/NewYork"}), "workspace.timezone",
     "unknown timezone 'America/NewYork' (did you mean 'America/New_York'?)"),
    (config(workspace={"timezone": "localtime"}), "workspace.timezone",
     "must name a zone like 'America/New_York', not the machine's 'localtime'"),
    (config(workspace={"timezone": "Etc/Nowhere/../../../etc/passwd"}), "workspace.timezone",
     "unknown timezone 'Etc/Nowhere/../../../etc/passwd' (use an IANA name like "
     "'Europe/Paris')"),
    (config(task_types=[task_type(key="Clinical")], trainers=None), "task_types[0].key",
     "must be lowercase letters, digits, '_' or '-', starting with a letter "
     "(got 'Clinical')"),
    (config(task_types=[task_type(), task_type(channel="C0OTHER")]), "task_types[1].key",
     "duplicate task type key 'clinical' (already used by task_types[0])"),
    (config(trainers=[trainer(), trainer(task_types=["legal"])]), "trainers[1].user",
     "duplicate trainer 'U0TR1' (already at trainers[0])"),
    (config(trainers=[trainer(task_types=["clinicl"])]), "trainers[0].task_types[0]",
     "unknown task type 'clinicl' (did you mean 'clinical'?)"),
    (config(trainers=[trainer(task_types=["clinical", "zzz"])]), "trainers[0].task_types[1]",
     "unknown task type 'zzz' (known: clinical, legal)"),
    (config(trainers=[trainer(task_types=["clinical", "clinical"])]),
     "trainers[0].task_types[1]", "duplicate 'clinical' (already at task_types[0])"),
    (config(trainers=[trainer(task_types=[])]), "trainers[0].task_types", "must not be empty"),
    (config(trainers=[trainer(lead="U0TR1")]), "trainers[0].lead",
     "a trainer cannot be their own lead"),
    (config(trainers=[trainer(started="2026-02-30")]), "trainers[0].started",
     "is not a real date (got '2026-02-30')"),
    (config(trainers=[trainer(started="20260901")]), "trainers[0].started",
     "must be a date like 2026-09-01 (got string '20260901')"),
    (config(task_types=[task_type(reviewers=[])]), "task_types[0].reviewers",
     "must not be empty"),
    (config(task_types=[task_type(reviewers=["U0REV1", "U0REV1"])]),
     "task_types[0].reviewers[1]", "duplicate 'U0REV1' (already at reviewers[0])"),
    (config(task_types=[task_type(error_categories=[])]), "task_types[0].error_categories",
     "must not be empty"),
    (config(task_types=[task_type(error_categories=["Other", "other "])]),
     "task_types[0].error_categories[1]",
     "duplicate 'other ' (already at error_categories[0])"),
    (config(task_types=[task_type(error_categories=["x" * 76])]),
     "task_types[0].error_categories[0]",
     "must be at most 75 characters, a Slack menu option's limit (got 76)"),
    (config(task_types=[task_type(error_categories=["Other", ""])]),
     "task_types[0].error_categories[1]", "must not be blank"),
    (config(task_types=[task_type(error_categories=[f"c{i}" for i in range(101)])]),
     "task_types[0].error_categories",
     "must have at most 100 entries, a Slack menu's limit (got 101)"),
])
def test_bad_reference_or_duplicate_is_reported(data: Any, path: str, message: str) -> None:
    assert only_problem(data) == Problem(path, message)


def test_longest_allowed_category_and_hundred_categories_are_fine() -> None:
    categories = ["x" * 75] + [f"c{i}" for i in range(99)]
    ws = parse_workspace(config(task_types=[task_type(error_categories=categories)]))
    assert len(ws.task_type("clinical").error_categories) == 100


# --- impossible values ----------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "path", "message"), [
    ({"pass_threshold": 1.5}, "policy.pass_threshold", "must be between 0 and 1 (got 1.5)"),
    ({"pass_threshold": -0.1}, "policy.pass_threshold", "must be between 0 and 1 (got -0.1)"),
    ({"pass_threshold": float("nan")}, "policy.pass_threshold",
     "must be between 0 and 1 (got nan)"),
    ({"pass_threshold": 10**400}, "policy.pass_threshold",
     f"must be between 0 and 1 (got {10**400})"),
    ({"double_review_fraction": 2}, "policy.double_review_fraction",
     "must be between 0 and 1 (got 2)"),
    ({"samples_per_trainer": 0}, "policy.samples_per_trainer",
     "must be between 1 and 50 (got 0)"),
    ({"samples_per_trainer": 51}, "policy.samples_per_trainer",
     "must be between 1 and 50 (got 51)"),
    ({"window_weeks": 0}, "policy.window_weeks", "must be between 1 and 520 (got 0)"),
    ({"window_weeks": 600}, "policy.window_weeks", "must be between 1 and 520 (got 600)"),
    ({"min_graded": -1}, "policy.min_graded", "must be at least 0 (got -1)"),
    ({"grade_weights": {"pass": 1.0, "minor": 0.5}}, "policy.grade_weights.major",
     "missing required key"),
    ({"grade_weights": {"pass": 1.0, "minor": 1.5, "major": 0}}, "policy.grade_weights.minor",
     "must be between 0 and 1 (got 1.5)"),
    ({"grade_weights": {"pass": 0.5, "minor": 0.8, "major": 0}}, "policy.grade_weights",
     "must satisfy pass >= minor >= major (got pass = 0.5, minor = 0.8, major = 0)"),
])
def test_impossible_policy_value_is_reported(policy: dict[str, Any], path: str,
                                             message: str) -> None:
    assert only_problem(config(policy=policy)) == Problem(path, message)


def test_policy_override_on_a_task_type_is_validated_at_its_path() -> None:
    data = config(task_types=[task_type(), task_type(key="legal", samples_per_trainer=0)])
    assert only_problem(data) == Problem(
        "task_types[1].samples_per_trainer", "must be between 1 and 50 (got 0)")


def test_policy_boundaries_are_valid() -> None:
    ws = parse_workspace(config(policy={
        "samples_per_trainer": 50, "window_weeks": 1, "min_graded": 0,
        "grade_weights": {"pass": 1, "minor": 1, "major": 1},
    }))
    assert ws.policy.samples_per_trainer == 50


@pytest.mark.parametrize(("data", "path", "message"), [
    (config(schedule={"escalation_check": "0m"}), "schedule.escalation_check",
     "invalid duration '0m': must be positive"),
    (config(schedule={"weekly_audit": "monday 9am"}), "schedule.weekly_audit",
     "invalid weekly time 'monday 9am': expected a weekday and a 24-hour time, "
     "e.g. 'mon 09:00'"),
    (config(escalation={"levels": [{"notify": ["lead"], "ack_within": "4 hours"}]}),
     "escalation.levels[0].ack_within",
     "invalid duration '4 hours': expected a positive whole number and one unit "
     "(s, m, h, d), e.g. '5m' or '4h'"),
    (config(escalation={"reack_after": "-1h"}), "escalation.reack_after",
     "invalid duration '-1h': expected a positive whole number and one unit (s, m, h, d), "
     "e.g. '5m' or '4h'"),
    (config(escalation={"levels": []}), "escalation.levels", "must have at least one level"),
    (config(escalation={"levels": [{"notify": []}]}), "escalation.levels[0].notify",
     "must not be empty"),
    (config(escalation={"levels": [{"notify": ["lead"]}, {"notify": ["U0BOSS"]}]}),
     "escalation.levels[0].ack_within",
     "missing required key: every level but the last needs one, or the next level is "
     "never reached"),
    (config(escalation={"levels": [{"notify": ["lead", "lead"], "ack_within": "1h"}]}),
     "escalation.levels[0].notify[1]", "duplicate 'lead' (already at notify[0])"),
])
def test_bad_schedule_or_escalation_is_reported(data: Any, path: str, message: str) -> None:
    assert only_problem(data) == Problem(path, message)


def test_escalation_reads_levels_and_reack_after() -> None:
    ws = parse_workspace(config(escalation={
        "levels": [{"notify": ["lead", "C0TEAM"], "ack_within": "30m"},
                   {"notify": ["U0BOSS"], "ack_within": "2d"}],
        "reack_after": "12h",
    }))
    assert ws.escalation.levels[0] == EscalationLevel(("lead", "C0TEAM"), timedelta(minutes=30))
    assert ws.escalation.levels[1].ack_within == timedelta(days=2)  # allowed on the last
    assert ws.escalation.reack_after == timedelta(hours=12)


def test_escalation_without_levels_keeps_default_levels() -> None:
    ws = parse_workspace(config(escalation={"reack_after": "6h"}))
    assert [level.notify for level in ws.escalation.levels] == [(LEAD,), ("U0BOSS",)]
    assert ws.escalation.reack_after == timedelta(hours=6)


def test_schedule_is_read() -> None:
    ws = parse_workspace(config(schedule={"weekly_audit": "Friday 16:30",
                                          "escalation_check": "90s"}))
    assert (ws.schedule.weekly_audit.weekday, ws.schedule.weekly_audit.at) == (4, time(16, 30))
    assert ws.schedule.escalation_check == timedelta(seconds=90)


# --- files ------------------------------------------------------------------------------------


def test_missing_file_is_a_workspace_error(tmp_path: Path) -> None:
    path = tmp_path / "auditbot.toml"
    with pytest.raises(WorkspaceError) as info:
        load_workspace(path)
    assert str(info.value).startswith(f"{path}: file not found")


def test_directory_instead_of_file_is_a_workspace_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="cannot read the file"):
        load_workspace(tmp_path)


def test_invalid_toml_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "auditbot.toml"
    path.write_text('[workspace]\ntimezone = "UTC"\nmanagers = [U0BOSS]\n')
    with pytest.raises(WorkspaceError) as info:
        load_workspace(path)
    assert str(info.value).startswith(f"{path}: line 3, column 13: invalid TOML: ")


def test_non_utf8_file_is_a_workspace_error(tmp_path: Path) -> None:
    path = tmp_path / "auditbot.toml"
    path.write_bytes(b'[workspace]\ntimezone = "\xff"\n')
    with pytest.raises(WorkspaceError, match="not UTF-8"):
        load_workspace(path)


def test_validation_errors_name_the_file_given(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text(EXAMPLE.read_text().replace("pass_threshold = 0.9 ", "pass_threshold = 9 "))
    with pytest.raises(WorkspaceError) as info:
        load_workspace(str(path))
    assert str(info.value) == (
        f"{path}: task_types[0].pass_threshold: must be between 0 and 1 (got 9)")


def test_toml_dates_in_a_file_are_read(tmp_path: Path) -> None:
    path = tmp_path / "auditbot.toml"
    path.write_text(
        '[workspace]\ntimezone = "UTC"\n'
        '[[task_types]]\nkey = "a"\nname = "A"\nchannel = "C0A"\nreviewers = ["U0R"]\n'
        '[[trainers]]\nuser = "U0T"\ntask_types = ["a"]\nstarted = 2026-09-01\n'
    )
    ws: Workspace = load_workspace(path)
    assert trainer_of(ws, "U0T").started == date(2026, 9, 1)


# --- robustness -----------------------------------------------------------------------------

TOML_VALUES = st.recursive(
    st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.dates()
    | st.datetimes() | st.times(),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
# Where a value can go: (section,), (section, key) or (array section, 0, key).
PLACES = (
    [(k,) for k in known_keys(Workspace, ())]
    + [("workspace", k) for k in known_keys(Workspace, ("workspace",))]
    + [("schedule", k) for k in known_keys(Workspace, ("schedule",))]
    + [("policy", k) for k in Policy.__dataclass_fields__]
    + [("escalation", k) for k in known_keys(Workspace, ("escalation",))]
    + [("task_types", 0, k) for k in known_keys(Workspace, ("task_types", 0))]
    + [("trainers", 0, k) for k in known_keys(Workspace, ("trainers", 0))]
    + [("escalation", "levels", 0, k) for k in known_keys(Workspace, ("escalation", "levels", 0))]
)


@given(st.lists(st.tuples(st.sampled_from(PLACES), TOML_VALUES), min_size=1, max_size=4))
def test_any_value_anywhere_gives_a_workspace_or_a_workspace_error(
        changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    data = config(escalation={"levels": [{"notify": ["lead"]}]})
    for place, value in changes:
        target: Any = data
        for step in place[:-1]:
            if isinstance(target, dict):
                target = target.setdefault(step, {})
            elif isinstance(target, list) and isinstance(step, int) and step < len(target):
                target = target[step]
            else:
                break
        else:
            if isinstance(target, dict):
                target[place[-1]] = value
    try:
        parse_workspace(data)
    except WorkspaceError as err:
        assert err.problems and all(p.message for p in err.problems)


def test_each_duplicate_in_an_array_is_reported_naming_the_first() -> None:
    assert problems(config(task_types=[task_type(reviewers=["U0A1", "U0B1", "U0A1", "U0B1"])])) == [
        Problem("task_types[0].reviewers[2]", "duplicate 'U0A1' (already at reviewers[0])"),
        Problem("task_types[0].reviewers[3]", "duplicate 'U0B1' (already at reviewers[1])"),
    ]


def test_a_policy_table_inside_a_task_type_is_not_silently_ignored() -> None:
    assert only_problem(config(task_types=[task_type(policy={"pass_threshold": 0.9})])) == Problem(
        "task_types[0].policy", "unknown key 'policy': set policy keys in the task type's "
        "table itself (e.g. pass_threshold = 0.9)")


def test_onboarding_weeks_are_bounded_by_its_days() -> None:
    data = config(onboarding={"days": 28, "markers": [{"week": 0, "min_score": 0.5},
                                                       {"week": 5, "min_score": 0.6}]})
    assert problems(data) == [
        Problem("onboarding.markers[0].week", "must be between 1 and 4 (got 0)"),
        Problem("onboarding.markers[1].week", "must be between 1 and 4 (got 5)"),
    ]


def test_code_that_rebuilds_a_model_is_checked_like_the_file() -> None:
    with pytest.raises(ValidationError):
        dataclasses.replace(Policy(), pass_threshold=1.5)
    assert dataclasses.replace(Policy(), consistency_threshold=None) == Policy()


FOUR_LEVELS = Scale((
    *DEFAULT_SCALE.levels[:2],
    dataclasses.replace(DEFAULT_SCALE.levels[2], weight=0.25),
    Level("critical", "Critical", "⛔ Critical", "danger", 0.0, "#000000", True, True),
))


def test_grade_weights_follow_the_scale_in_the_validation_context() -> None:
    # A workspace's own grade_scale reaches [policy] this way (parse_workspace passes it).
    policy = TypeAdapter(Policy).validate_python(
        {"grade_weights": {"pass": 1, "minor": 0.6, "major": 0.2, "critical": 0}},
        context={"grade_scale": FOUR_LEVELS})
    assert dict(policy.grade_weights) == {"pass": 1, "minor": 0.6, "major": 0.2, "critical": 0}
    with pytest.raises(ValidationError) as raised:
        TypeAdapter(Policy).validate_python({"grade_weights": {"pass": 1, "minor": 0.5}},
                                            context={"grade_scale": FOUR_LEVELS})
    assert problems_of(raised.value, {}, Policy) == [
        Problem("grade_weights.major", "missing required key"),
        Problem("grade_weights.critical", "missing required key")]


def test_away_from_is_read_and_its_field_name_is_not_a_key() -> None:
    away = {"user": "U0TR1", "until": "2026-12-24", "from": "2026-12-20"}
    assert parse_workspace(config(away=[away])).away[0].start == date(2026, 12, 20)
    assert only_problem(config(away=[{"user": "U0TR1", "until": "2026-12-24",
                                      "start": "2026-12-20"}])) == Problem(
        "away[0].start", "unknown key 'start' (known keys: user, until, from)")
