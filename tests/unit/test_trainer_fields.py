"""A record's item, label and reasoning, and a task type's label scale: validated like the rest."""

from pathlib import Path
from typing import Any

import pytest

from bot.services.ingest_read import read_records
from bot.services.ingest_validate import ValidRecord, validate_record
from bot.workspace import LabelScale, WorkspaceError, parse_workspace
from tests.support.factories import TRAINER1, workspace_data

ROSTER: dict[str, Any] = {"known_trainers": {TRAINER1: {"clinical"}},
                          "known_task_types": {"clinical"}}
ORDINAL = {"clinical": LabelScale(level="ordinal", labels=("A", "B", "C"), declared=True)}
INTERVAL = {"clinical": LabelScale(level="interval", declared=True)}


def _record(**extra: Any) -> dict[str, Any]:
    return {"id": "o-1", "trainer": TRAINER1, "task_type": "clinical", "prompt": "p",
            "output": "o", "created_at": "2026-11-30T10:00:00Z", **extra}


def _valid(**extra: Any) -> ValidRecord:
    checked = validate_record(_record(**extra), **ROSTER)
    assert isinstance(checked, ValidRecord), checked
    return checked


def test_item_label_and_reasoning_are_kept_and_change_the_hash_only_when_present():
    plain = _valid()
    assert (plain.item, plain.label, plain.reasoning) == (None, None, None)
    assert _valid(item=None, label="", reasoning="  ").content_hash == plain.content_hash
    full = _valid(item=" triage-42 ", label="B", reasoning="Because the dose is wrong.")
    assert (full.item, full.label, full.reasoning) == ("triage-42", "B",
                                                       "Because the dose is wrong.")
    assert full.content_hash != plain.content_hash


@pytest.mark.parametrize(("extra", "reason"), [
    ({"item": 7}, "field `item` must be a string, got a number"),
    ({"item": "x" * 201}, "field `item` is longer than 200 characters (201)"),
    ({"label": ["A"]}, "field `label` must be a string or a number, got an array"),
    ({"label": True}, "field `label` must be a string or a number, got a boolean"),
    ({"label": "L" * 65}, "field `label` is longer than 64 characters (65)"),
    ({"reasoning": {"a": 1}}, "field `reasoning` must be a string, got an object"),
    ({"reasoning": "r" * 10_001}, "field `reasoning` is longer than 10,000 characters"),
    ({"reasoning": "a\x00b"}, "field `reasoning` contains a NUL character"),
])
def test_bad_trainer_fields_are_refused_naming_the_field(extra, reason):
    checked = validate_record(_record(**extra), **ROSTER)
    assert isinstance(checked, str) and checked.startswith(reason), checked


def test_numbers_are_labels_stored_one_way():
    assert _valid(label=4).label == "4"
    assert _valid(label=4.0).label == "4"
    assert _valid(label=2.5).label == "2.5"


def test_an_ordinal_scale_takes_only_its_labels():
    ok = validate_record(_record(label="B"), **ROSTER, label_scales=ORDINAL)
    assert isinstance(ok, ValidRecord) and ok.label == "B"
    refused = validate_record(_record(label="D"), **ROSTER, label_scales=ORDINAL)
    assert refused == "field `label` 'D' is not one of this task type's labels (A, B, C)"


def test_an_interval_scale_takes_numbers_only():
    ok = validate_record(_record(label="4.0"), **ROSTER, label_scales=INTERVAL)
    assert isinstance(ok, ValidRecord) and ok.label == "4"
    refused = validate_record(_record(label="high"), **ROSTER, label_scales=INTERVAL)
    assert refused == ("field `label` must be a number for this task type's interval scale "
                       "(got 'high')")


def test_csv_reads_the_optional_columns_and_an_empty_cell_is_absent(tmp_path: Path):
    path = tmp_path / "o.csv"
    path.write_text("id,trainer,task_type,prompt,output,created_at,item,label,reasoning\n"
                    f"a,{TRAINER1},clinical,p,o,2026-11-30T10:00:00Z,it-1,B,\"Why, because.\"\n"
                    f"b,{TRAINER1},clinical,p,o,2026-11-30T10:00:00Z,,,\n")
    first, second = [r.data for r in read_records(path)]
    assert first is not None and second is not None
    assert (first["item"], first["label"], first["reasoning"]) == ("it-1", "B", "Why, because.")
    assert "item" not in second and "label" not in second and "reasoning" not in second


def _problems(**task_type: Any) -> str:
    data = workspace_data()
    data["task_types"][0].update(task_type)
    try:
        parse_workspace(data)
    except WorkspaceError as error:
        return str(error)
    return ""


def test_label_scale_is_read_with_its_ordered_labels():
    data = workspace_data(consistency_threshold=0.7, clarity_threshold=0.8)
    data["task_types"][0].update(label_scale="ordinal", labels=["A", "B", "C"])
    workspace = parse_workspace(data)
    clinical = workspace.task_type("clinical")
    assert clinical.label_scale == LabelScale(level="ordinal", labels=("A", "B", "C"),
                                              declared=True)
    assert clinical.policy.consistency_threshold == 0.7
    assert clinical.policy.clarity_threshold == 0.8
    legal = workspace.task_type("legal")
    assert legal.label_scale == LabelScale()  # undeclared: nominal, any label
    default = parse_workspace(workspace_data()).task_type("clinical").policy
    assert (default.consistency_threshold, default.clarity_threshold) == (None, None)


@pytest.mark.parametrize(("task_type", "message"), [
    ({"label_scale": "ratio"},
     "task_types[0].label_scale: must be one of nominal, ordinal, interval (got 'ratio')"),
    ({"label_scale": "interval", "labels": ["1", "2"]},
     "task_types[0].labels: is not used with label_scale = 'interval'"),
    ({"labels": ["A", "B"]}, "task_types[0].labels: needs `label_scale`"),
    ({"label_scale": "ordinal", "labels": ["A", "A"]}, "task_types[0].labels[1]: duplicate 'A'"),
    ({"label_scale": "ordinal", "labels": ["A"]},
     "task_types[0].labels: must list at least two labels"),
    ({"label_scale": "ordinal", "labels": [1, 2]}, "task_types[0].labels[0]: must be a string"),
    ({"clarity_threshold": 1.5}, "task_types[0].clarity_threshold: must be between 0 and 1"),
    ({"consistency_threshold": "high"},
     "task_types[0].consistency_threshold: must be a number between 0 and 1"),
])
def test_label_scale_mistakes_name_the_key_path(task_type, message):
    assert message in _problems(**task_type)
