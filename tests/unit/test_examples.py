"""The shipped example workspace and the demo's generated data must agree."""

from pathlib import Path

from bot.demo_data import ERROR_CATEGORIES, generate_outputs
from bot.workspace import load_workspace
from tests.conftest import NOW

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "auditbot.toml"


def test_example_categories_cover_what_simulated_reviewers_choose():
    workspace = load_workspace(EXAMPLE)
    for task_type in workspace.task_types:
        assert set(ERROR_CATEGORIES[task_type.key]) <= set(task_type.error_categories)


def test_demo_outputs_exist_for_every_configured_trainer_and_task_type():
    workspace = load_workspace(EXAMPLE)
    roster = {t.user: t.task_types for t in workspace.trainers}
    records = generate_outputs(now=NOW, trainers=roster)
    assert {(r["trainer"], r["task_type"]) for r in records} == {
        (user, key) for user, keys in roster.items() for key in keys}
