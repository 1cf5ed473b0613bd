"""The demo's example trainer outputs (bot.demo.data) and the simulated reviewers' grades."""

import json
import random
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bot.demo.data import (
    ERROR_CATEGORIES,
    TEMPLATES,
    TRAINERS,
    WEAK_TRAINER,
    generate_outputs,
    render,
    simulated_grade,
    write_jsonl,
)

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
QUALITIES = ("good", "minor", "major")
REVIEWERS = ("U0NURSE1", "U0MD0002", "U0LAWYER1", "U0CPA0001")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _every_rendering() -> list[tuple[Any, str, int]]:
    return [
        (template, quality, slot)
        for group in TEMPLATES.values()
        for template in group
        for quality in QUALITIES
        for slot in range(len(template.slots))
    ]


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return generate_outputs(now=NOW)


def test_same_seed_and_now_give_identical_records(records: list[dict[str, Any]]) -> None:
    assert generate_outputs(now=NOW, seed=7) == records
    assert generate_outputs(now=NOW, seed=8) != records


def test_default_trainers_and_counts(records: list[dict[str, Any]]) -> None:
    assert TRAINERS["U0TRAINER1"] == ("clinical",)
    assert WEAK_TRAINER == "U0TRAINER2"
    assert sorted(TRAINERS["U0TRAINER6"]) == ["finance", "legal"]
    counts = Counter((r["trainer"], r["task_type"]) for r in records)
    expected = {(t, task) for t, tasks in TRAINERS.items() for task in tasks}
    assert set(counts) == expected
    assert set(counts.values()) == {10}
    assert len(generate_outputs(now=NOW, per_trainer=3)) == 3 * len(expected)


def test_ids_are_unique_sequential_and_chronological(records: list[dict[str, Any]]) -> None:
    ids = [r["id"] for r in records]
    assert ids == [f"out-{n:06d}" for n in range(1, len(records) + 1)]
    stamps = [r["created_at"] for r in records]
    assert stamps == sorted(stamps)


def test_timestamps_lie_strictly_within_the_last_seven_days(
    records: list[dict[str, Any]],
) -> None:
    for record in records:
        assert TIMESTAMP.match(record["created_at"]), record["created_at"]
        moment = _parse(record["created_at"])
        assert NOW - timedelta(days=6, hours=12) <= moment < NOW
        assert moment > NOW - timedelta(days=7)
    # spread over the window, not bunched at one end
    days = {(NOW - _parse(r["created_at"])).days for r in records}
    assert days == set(range(7))


def test_now_may_be_naive_or_in_another_time_zone(records: list[dict[str, Any]]) -> None:
    assert generate_outputs(now=NOW.replace(tzinfo=None)) == records
    assert generate_outputs(now=NOW.astimezone(timezone(timedelta(hours=-5)))) == records
    # microseconds are dropped: records keep seconds precision
    assert generate_outputs(now=NOW + timedelta(microseconds=999)) == records


def test_every_field_is_present_and_json_serialisable(
    records: list[dict[str, Any]], tmp_path: Any
) -> None:
    for record in records:
        assert {"id", "trainer", "task_type", "prompt", "output", "created_at", "metadata"} <= (
            set(record)
        )
        assert set(record) <= {"id", "trainer", "task_type", "prompt", "output", "created_at",
                               "metadata", "gold"}
        assert record["task_type"] in TRAINERS[record["trainer"]]
        assert record["prompt"].strip() and record["output"].strip()
        assert "{" not in record["prompt"] + record["output"]
        metadata = record["metadata"]
        assert re.fullmatch(rf"{record['task_type']}-[a-z]+-v2", metadata["project"])
        assert metadata["demo_quality"] in QUALITIES
    path = tmp_path / "out" / "demo.jsonl"
    write_jsonl(records, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == records


def test_texts_are_varied(records: list[dict[str, Any]]) -> None:
    for task_type, group in TEMPLATES.items():
        assert 8 <= len(group) <= 12
        prompts = {r["prompt"] for r in records if r["task_type"] == task_type}
        assert len(prompts) >= 8
    assert len({r["output"] for r in records}) >= 0.6 * len(records)


def test_short_outputs_have_two_to_six_sentences() -> None:
    for template, quality, slot in _every_rendering():
        if template.long:
            continue
        output = render(template, quality, slot)[1]
        sentences = len(re.findall(r"[.!?](?=\s|$)", output))
        assert 2 <= sentences <= 6, (template.key, quality, sentences)


def test_two_long_outputs_per_domain(records: list[dict[str, Any]]) -> None:
    for task_type, group in TEMPLATES.items():
        long_ones = [template for template in group if template.long]
        assert len(long_ones) == 2, task_type
        for template in long_ones:
            for quality in QUALITIES:
                for slot in range(len(template.slots)):
                    assert len(render(template, quality, slot)[1]) > 3000
        assert any(
            len(r["output"]) > 3000 for r in records if r["task_type"] == task_type
        ), task_type


def test_flawed_outputs_really_differ_from_the_good_answer() -> None:
    for template, quality, slot in _every_rendering():
        if quality != "good":
            assert render(template, quality, slot)[1] != render(template, "good", slot)[1]


def test_flaws_are_in_the_text() -> None:
    by_key = {t.key: t for group in TEMPLATES.values() for t in group}
    prompt, output = render(by_key["clinical.ckd_pain"], "major", 0)
    assert "chronic kidney disease" in prompt and "Ibuprofen 400 mg" in output
    prompt, output = render(by_key["legal.termination_notice"], "major", 0)
    assert "90 days' written notice" in prompt and "30 days' written notice" in output
    output = render(by_key["finance.liquidity"], "major", 0)[1]
    assert "/ current assets" in output
    assert "/ current liabilities" in render(by_key["finance.liquidity"], "good", 0)[1]


def test_calibration_items(records: list[dict[str, Any]]) -> None:
    gold = [r for r in records if "gold" in r]
    per_domain = Counter(r["task_type"] for r in gold)
    assert set(per_domain) == set(TEMPLATES)
    assert all(1 <= n <= 2 for n in per_domain.values())
    grade_of = {"good": "pass", "minor": "minor", "major": "major"}
    for record in gold:
        assert record["gold"]["grade"] == grade_of[record["metadata"]["demo_quality"]]
        assert len(record["gold"]["note"]) >= 20
        assert record["task_type"] in TRAINERS[record["trainer"]]
    planted = [r for r in gold if r["gold"]["grade"] != "pass"]
    assert {r["task_type"] for r in planted} == set(TEMPLATES)
    ckd = [r for r in planted if "ibuprofen" in r["gold"]["note"]]
    assert ckd and "CKD" in ckd[0]["gold"]["note"]


def test_hidden_quality_mix(records: list[dict[str, Any]]) -> None:
    flawed: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for record in records:
        key = (record["trainer"], record["task_type"])
        flawed[key].append(record["metadata"]["demo_quality"] != "good")
    for (trainer, _), marks in flawed.items():
        share = sum(marks) / len(marks)
        if trainer == WEAK_TRAINER:
            assert 0.5 <= share <= 0.7
        else:
            assert share <= 0.2


def test_weak_trainer_gets_clearly_more_non_pass_grades(records: list[dict[str, Any]]) -> None:
    rng = random.Random(11)
    graded: dict[bool, list[bool]] = defaultdict(list)
    for record in records:
        for reviewer in REVIEWERS:
            grade, _, _ = simulated_grade(record, reviewer=reviewer, rng=rng)
            graded[record["trainer"] == WEAK_TRAINER].append(grade != "pass")
    weak = sum(graded[True]) / len(graded[True])
    others = sum(graded[False]) / len(graded[False])
    assert weak >= 0.45
    assert others <= 0.2
    assert weak - others >= 0.3


def test_simulated_grades_have_valid_categories_and_explanations() -> None:
    assert ERROR_CATEGORIES == {
        "clinical": ("Clinical reasoning", "Factual error", "Unsafe advice",
                     "Instruction not followed", "Other"),
        "legal": ("Misstated law", "Missed clause or risk", "Jurisdiction error",
                  "Instruction not followed", "Other"),
        "finance": ("Calculation error", "Misread statement", "Unsupported claim",
                    "Instruction not followed", "Other"),
    }
    rng = random.Random(3)
    seen: Counter[str] = Counter()
    for template, quality, slot in _every_rendering():
        record = {
            "task_type": template.domain,
            "metadata": {"demo_quality": quality, "demo_template": template.key,
                         "demo_slot": slot},
        }
        for _ in range(20):
            reviewer = rng.choice(REVIEWERS)
            grade, category, explanation = simulated_grade(record, reviewer=reviewer, rng=rng)
            seen[f"{quality}->{grade}"] += 1
            assert grade in ("pass", "minor", "major")
            if grade == "pass":
                assert category is None and explanation is None
                assert quality != "major"
                continue
            assert quality != "good"
            assert category in ERROR_CATEGORIES[template.domain]
            assert explanation is not None and len(explanation) >= 20
            assert "{" not in explanation
    assert seen["good->pass"] > 0 and seen["minor->minor"] > seen["minor->pass"] > 0
    assert seen["major->major"] > seen["major->minor"] > 0


def test_simulated_grade_is_reproducible_with_the_same_rng(
    records: list[dict[str, Any]],
) -> None:
    first = [simulated_grade(r, reviewer="U0NURSE1", rng=random.Random(5)) for r in records]
    again = [simulated_grade(r, reviewer="U0NURSE1", rng=random.Random(5)) for r in records]
    assert first == again


def test_explanations_name_the_flaw_of_the_record(records: list[dict[str, Any]]) -> None:
    ckd = next(
        r for r in records
        if r["metadata"]["demo_template"] == "clinical.ckd_pain"
        and r["metadata"]["demo_quality"] == "major"
    )
    grades = {simulated_grade(ckd, reviewer="U0MD0002", rng=random.Random(n)) for n in range(30)}
    for _, category, explanation in grades:
        assert category == "Unsafe advice"
        assert explanation is not None and "ibuprofen" in explanation


def test_records_without_a_demo_label() -> None:
    rng = random.Random(1)
    plain = {"id": "x", "task_type": "legal", "metadata": {"project": "p"}}
    assert simulated_grade(plain, reviewer="U0A", rng=rng) == ("pass", None, None)
    gold = {**plain, "gold": {"grade": "major", "note": "Misses the 90-day notice period"}}
    assert simulated_grade(gold, reviewer="U0A", rng=rng) == (
        "major", "Other", "Misses the 90-day notice period"
    )
    short = {**plain, "gold": {"grade": "minor", "note": "typo"}}
    grade, category, explanation = simulated_grade(short, reviewer="U0A", rng=rng)
    assert (grade, category) == ("minor", "Other")
    assert explanation is not None and len(explanation) >= 20


def test_custom_roster_and_edge_cases() -> None:
    roster = {"U0SOLO0001": ("finance",)}
    records = generate_outputs(now=NOW, per_trainer=6, trainers=roster, weak_trainers=())
    assert len(records) == 6
    assert {r["trainer"] for r in records} == {"U0SOLO0001"}
    assert 1 <= sum("gold" in r for r in records) <= 2
    assert generate_outputs(now=NOW, per_trainer=0) == []
    with pytest.raises(ValueError):
        generate_outputs(now=NOW, per_trainer=-1)
    with pytest.raises(ValueError, match="radiology"):
        generate_outputs(now=NOW, trainers={"U0X": ("radiology",)})
