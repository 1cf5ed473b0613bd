"""The shipped example workspace and the demo's generated data must agree."""

from pathlib import Path

from bot.demo.data import ERROR_CATEGORIES, generate_outputs
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


def test_example_outputs_with_items_labels_and_reasoning_are_all_valid():
    from bot.services.ingest import (
        label_scales_of,
        read_records,
        roster_from_workspace,
        validate_record,
    )

    workspace = load_workspace(EXAMPLE)
    roster = roster_from_workspace(workspace)
    checked = [validate_record(r.data or {}, **roster._asdict(),
                               label_scales=label_scales_of(workspace))
               for r in read_records(EXAMPLE.parent / "outputs.jsonl")]
    assert all(not isinstance(c, str) for c in checked), checked
    assert {c.item for c in checked if not isinstance(c, str)} >= {"triage-0042", "q3-summary-17"}
    assert all(not isinstance(c, str) and c.reasoning for c in checked)
