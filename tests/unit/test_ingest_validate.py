"""Validating records: every refusal names its field; good records come out normalised."""

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from bot.services.ingest_validate import ValidRecord, roster_from_workspace, validate_record

ROSTER: dict[str, Any] = {
    "known_trainers": {"U0TRAINER1": frozenset({"clinical"}), "U0TRAINER2": frozenset()},
    "known_task_types": frozenset({"clinical", "legal"}),
}


def record(**changes: Any) -> dict[str, Any]:
    """A good record, with ``changes`` applied (``...`` as a value removes the field)."""
    data: dict[str, Any] = {
        "id": "out-1",
        "trainer": "U0TRAINER1",
        "task_type": "clinical",
        "prompt": "What dose?",
        "output": "500 mg",
        "created_at": "2026-11-20T14:03:00Z",
        "metadata": {"project": "triage-v2"},
        "gold": {"grade": "major", "note": "Wrong dose"},
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not ...}


def check(data: dict[str, Any]) -> ValidRecord | str:
    return validate_record(data, **ROSTER)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"prompt": ...}, "missing field `prompt`"),
        ({"id": ...}, "missing field `id`"),
        ({"created_at": ...}, "missing field `created_at`"),
        ({"output": 42}, "field `output` must be a string, got a number"),
        ({"trainer": None}, "field `trainer` must be a string, got null"),
        ({"prompt": ["a"]}, "field `prompt` must be a string, got an array"),
        ({"output": ""}, "empty `output`"),
        ({"output": " \n\t "}, "empty `output`"),
        ({"id": ""}, "empty `id`"),
        ({"id": " out-1"}, "field `id` has leading or trailing spaces"),
        ({"id": "x" * 201}, "field `id` is longer than 200 characters (201)"),
        ({"output": "a\x00b"}, "field `output` contains a NUL character"),
        ({"prompt": "ab\ud800"}, "field `prompt` contains an unpaired surrogate at character 3"),
        ({"trainer": "U0NOBODY"}, "unknown trainer `U0NOBODY`"),
        ({"task_type": "finance"}, "unknown task type `finance`"),
        ({"task_type": "legal"}, "trainer `U0TRAINER1` is not assigned to task type `legal`"),
        ({"trainer": "U0TRAINER2"}, "trainer `U0TRAINER2` is not assigned to task type `clinical`"),
        ({"created_at": "yesterday"}, "bad `created_at` 'yesterday': expected ISO 8601"),
        (
            {"created_at": "2026-11-20T14:03:00"},
            "bad `created_at` '2026-11-20T14:03:00': needs a timezone",
        ),
        ({"created_at": "2026-11-20"}, "bad `created_at` '2026-11-20': needs a timezone"),
        ({"created_at": "2026-02-30T00:00:00Z"}, "bad `created_at` '2026-02-30T00:00:00Z'"),
        (
            {"created_at": "0001-01-01T00:00:00+01:00"},
            "bad `created_at` '0001-01-01T00:00:00+01:00': out of range in UTC",
        ),
        ({"metadata": "project=x"}, "`metadata` must be an object, got a string"),
        ({"metadata": [1]}, "`metadata` must be an object, got an array"),
        ({"metadata": {"x": float("nan")}}, "`metadata` must be plain JSON"),
        ({"gold": "major"}, "`gold` must be an object, got a string"),
        (
            {"gold": {"grade": "fail"}},
            "`gold.grade` must be one of pass, minor, major (got 'fail')",
        ),
        ({"gold": {"grade": ""}}, "`gold.grade` must be one of pass, minor, major (got '')"),
        ({"gold": {"note": "x"}}, "`gold.grade` must be one of pass, minor, major (got missing)"),
        (
            {"gold": {"grade": "pass", "note": 3}},
            "field `gold.note` must be a string, got a number",
        ),
        ({"gold": {"grade": "pass", "why": "x"}}, "unknown field `gold.why`"),
        ({"extra": 1}, "unknown field `extra`"),
        ({"extra": 1, "more": 2}, "unknown fields `extra`, `more`"),
    ],
)
def test_bad_records_are_refused_with_a_reason_naming_the_field(
    changes: dict[str, Any], reason: str
) -> None:
    outcome = check(record(**changes))
    assert isinstance(outcome, str)
    assert outcome.startswith(reason)


def test_a_good_record_is_normalised() -> None:
    outcome = check(record(created_at="2026-11-20T15:03:00.5+01:00"))
    assert outcome == ValidRecord(
        id="out-1",
        trainer="U0TRAINER1",
        task_type="clinical",
        prompt="What dose?",
        output="500 mg",
        created_at=datetime(2026, 11, 20, 14, 3, 0, 500_000, tzinfo=UTC),
        metadata={"project": "triage-v2"},
        gold_grade="major",
        gold_note="Wrong dose",
    )
    assert outcome.metadata_json == '{"project": "triage-v2"}'


@pytest.mark.parametrize(
    "changes",
    [
        {"metadata": ..., "gold": ...},
        {"metadata": None, "gold": None},
        {"gold": {"grade": "pass"}},
        {"gold": {"grade": "pass", "note": None}},
        {"gold": {"grade": "pass", "note": "  "}},
        {"metadata": {}},
        {"output": "x" * 100_000 + "é"},
    ],
)
def test_optional_fields_may_be_absent_null_or_empty(changes: dict[str, Any]) -> None:
    outcome = check(record(**changes))
    assert isinstance(outcome, ValidRecord)
    if "gold" in changes:
        assert outcome.gold_note is None


def test_same_content_hashes_the_same_whatever_the_spelling() -> None:
    base = check(record())
    spellings = [
        record(created_at="2026-11-20T14:03:00+00:00"),
        record(created_at="2026-11-20T09:03:00-05:00"),
        record(metadata={"project": "triage-v2"})
        | {"gold": {"note": "Wrong dose", "grade": "major"}},
        dict(reversed(record().items())),
    ]
    assert isinstance(base, ValidRecord)
    for spelling in spellings:
        other = check(spelling)
        assert isinstance(other, ValidRecord)
        assert other.content_hash == base.content_hash


@pytest.mark.parametrize(
    "changes",
    [
        {"output": "501 mg"},
        {"created_at": "2026-11-20T14:03:01Z"},
        {"metadata": {"project": "triage-v3"}},
        {"metadata": ...},
        {"gold": {"grade": "minor", "note": "Wrong dose"}},
        {"gold": ...},
    ],
)
def test_other_content_hashes_differently(changes: dict[str, Any]) -> None:
    base, other = check(record()), check(record(**changes))
    assert isinstance(base, ValidRecord) and isinstance(other, ValidRecord)
    assert other.content_hash != base.content_hash
    assert len(other.content_hash) == 64


def test_roster_from_workspace() -> None:
    workspace = SimpleNamespace(
        task_types=(SimpleNamespace(key="clinical"), SimpleNamespace(key="legal")),
        trainers=(
            SimpleNamespace(user="U1", task_types=("clinical",)),
            SimpleNamespace(user="U2", task_types=("clinical", "legal")),
        ),
    )
    roster = roster_from_workspace(workspace)
    assert roster.known_task_types == frozenset({"clinical", "legal"})
    assert roster.known_trainers == {
        "U1": frozenset({"clinical"}),
        "U2": frozenset({"clinical", "legal"}),
    }
    assert isinstance(validate_record(record(trainer="U2"), **roster._asdict()), ValidRecord)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        # Several fields bad at once: the first in the contract's order is named.
        ({"prompt": ..., "output": 42}, "missing field `prompt`"),
        ({"output": "a\x00b", "trainer": ""}, "empty `trainer`"),
        ({"created_at": 7, "prompt": "é\x00"}, "field `prompt` contains a NUL character"),
        ({"output": "ça\x00"}, "field `output` contains a NUL character"),
        ({"task_type": "\u3000"}, "empty `task_type`"),  # blank outside ASCII too
    ],
)
def test_the_first_bad_text_field_is_named_whatever_else_is_wrong(
    changes: dict[str, Any], reason: str
) -> None:
    assert check(record(**changes)) == reason


def test_text_outside_ascii_is_kept_as_written() -> None:
    outcome = check(record(prompt="Quelle dose ? \u2028 ü", output="五百毫克"))
    assert isinstance(outcome, ValidRecord)
    assert (outcome.prompt, outcome.output) == ("Quelle dose ? \u2028 ü", "五百毫克")


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"gold": ..., "metadata": ...},
        {"gold": {"grade": "pass"}},
        {"gold": {"grade": "minor", "note": "é \"quoted\"\n\ttab"}},
        {"metadata": {"z": 1.5, "a": [1, {"b": "ü", "a": None}], "n": -0.0, "big": 10**30}},
        {"item": "task-7", "label": 4, "reasoning": "because \u2028 and \\"},
        {"label": "B", "id": "é-1", "output": "\U0001f600 emoji"},
        {"created_at": "2026-11-20T15:03:00.123456+01:00"},
    ],
)
def test_the_content_hash_is_the_sha256_of_the_canonical_json(changes: dict[str, Any]) -> None:
    """The hash is written key by key for speed; it must stay the hash of ``canonical()``
    encoded as it always was, or records stored earlier would read as changed."""
    import hashlib
    import json

    outcome = check(record(**changes))
    assert isinstance(outcome, ValidRecord), outcome
    text = json.dumps(outcome.canonical(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True)
    assert outcome.content_hash == hashlib.sha256(text.encode("ascii")).hexdigest()
