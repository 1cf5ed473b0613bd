"""Deterministic example trainer outputs for the demo, and simulated reviewers to grade them.

``generate_outputs(now=...)`` returns records in the ingest format of PRODUCT.md ("Trainer
outputs"): per (trainer, task type) ``per_trainer`` outputs created over the 6.5 days before
``now``, with ids ``out-000001``... in chronological order. The same ``now`` and ``seed`` give
identical records.

Every record carries a hidden quality label in ``metadata`` (``demo_quality``: ``good``,
``minor`` or ``major``) together with the template and slot it was rendered from, so that
``simulated_grade`` can decide like a domain reviewer would and explain the flaw specifically.
The flawed outputs really contain their flaw. The texts are data, one TOML file per task type
in ``bot/demo/texts/`` (prose is edited there, not in Python). The weak
trainer (``WEAK_TRAINER``) gets about 60% flawed outputs, everybody else about 10%.

A few records per domain are calibration items (they carry ``gold``): a planted error or a
known-good answer, assigned to a fixed trainer. They count towards that trainer's
``per_trainer`` outputs and use up one of their flawed (or good) slots, so calibration does not
change how good a trainer looks.

Usage::

    records = generate_outputs(now=clock.now())
    write_jsonl(records, "demo-outputs.jsonl")
    grade, category, explanation = simulated_grade(records[0], reviewer="U0NURSE1", rng=rng)
"""

import json
import random
import re
import tomllib
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.common.clock import as_utc
from bot.common.text import visible_length
from bot.services.grading import MIN_EXPLANATION

__all__ = [
    "CALIBRATION",
    "ERROR_CATEGORIES",
    "TEMPLATES",
    "TRAINERS",
    "WEAK_TRAINER",
    "generate_outputs",
    "render",
    "simulated_grade",
    "write_jsonl",
]

TEXTS = Path(__file__).parent / "texts"  # <task type>.toml: the templates below
DOMAINS = ("clinical", "legal", "finance")


@dataclass(frozen=True)
class Flaw:
    grade: str  # "minor" | "major"
    category: str
    output: str
    explanation: str


@dataclass(frozen=True)
class Template:
    """A prompt, a good answer and two flawed ones; ``str.format`` patterns over ``slots``."""

    key: str  # "<domain>.<name>"
    project: str
    prompt: str
    good: str
    good_note: str  # why the good answer is right (gold note of a known-good calibration item)
    minor: Flaw
    major: Flaw
    slots: tuple[dict[str, str], ...]
    long: bool = False  # over 3000 characters: the bot's "Show full" has something to show

    @property
    def domain(self) -> str:
        return self.key.split(".", 1)[0]


def fill(pattern: str, values: Mapping[str, str]) -> str:
    """``pattern`` with its slots filled; "Foods's" becomes "Foods'"."""
    return _POSSESSIVE.sub("s'", pattern.format_map(values))


_POSSESSIVE = re.compile(r"(?<=[a-z])s's\b")


def _load(domain: str) -> tuple[tuple[str, ...], tuple[Template, ...]]:
    """A task type's error categories and templates, read from its TOML file."""
    with (TEXTS / f"{domain}.toml").open("rb") as handle:
        data = tomllib.load(handle)
    templates = tuple(
        Template(
            key=raw["key"], project=raw["project"], prompt=raw["prompt"], good=raw["good"],
            good_note=raw["good_note"],
            minor=Flaw("minor", **raw["minor"]), major=Flaw("major", **raw["major"]),
            slots=tuple(raw["slots"]), long=raw.get("long", False),
        )
        for raw in data["templates"]
    )
    return tuple(data["error_categories"]), templates


_LOADED = {domain: _load(domain) for domain in DOMAINS}
ERROR_CATEGORIES: dict[str, tuple[str, ...]] = {d: cats for d, (cats, _) in _LOADED.items()}
TEMPLATES: dict[str, tuple[Template, ...]] = {d: found for d, (_, found) in _LOADED.items()}

TRAINERS: dict[str, tuple[str, ...]] = {
    "U0TRAINER1": ("clinical",),
    "U0TRAINER2": ("clinical",),
    "U0TRAINER3": ("legal",),
    "U0TRAINER4": ("legal",),
    "U0TRAINER5": ("finance",),
    "U0TRAINER6": ("finance", "legal"),  # one trainer on two task types
}
WEAK_TRAINER = "U0TRAINER2"

WINDOW = timedelta(days=6, hours=12)  # outputs are created within this span before ``now``
WEAK_NON_PASS_SHARE = 0.6
NON_PASS_SHARE = 0.1
QUALITY_TO_GRADE = {"good": "pass", "minor": "minor", "major": "major"}


@dataclass(frozen=True)
class Calibration:
    task_type: str
    trainer: str  # used when in the roster; otherwise the first trainer of the task type
    template: str
    quality: str  # "good" (known-good answer) | "minor" | "major" (planted error)
    slot: int


CALIBRATION: tuple[Calibration, ...] = (
    Calibration("clinical", "U0TRAINER2", "clinical.ckd_pain", "major", 0),
    Calibration("clinical", "U0TRAINER1", "clinical.stroke", "good", 0),
    Calibration("legal", "U0TRAINER3", "legal.termination_notice", "major", 0),
    Calibration("legal", "U0TRAINER4", "legal.gdpr_breach", "good", 1),
    Calibration("finance", "U0TRAINER5", "finance.liquidity", "major", 1),
    Calibration("finance", "U0TRAINER6", "finance.organic_growth", "good", 0),
)

_TEMPLATES_BY_KEY: dict[str, Template] = {
    template.key: template for group in TEMPLATES.values() for template in group
}


def render(template: Template, quality: str, slot: int) -> tuple[str, str]:
    """(prompt, output) of ``template`` at ``quality`` ("good" | "minor" | "major")."""
    values = template.slots[slot]
    output = template.good if quality == "good" else _flaw(template, quality).output
    return fill(template.prompt, values), fill(output, values)


def generate_outputs(
    *,
    now: datetime,
    seed: int = 7,
    per_trainer: int = 10,
    trainers: Mapping[str, Sequence[str]] | None = None,
    weak_trainers: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Example outputs for every (trainer, task type) of ``trainers`` (default ``TRAINERS``)."""
    if per_trainer < 0:
        raise ValueError("per_trainer must be 0 or more")
    roster = TRAINERS if trainers is None else trainers
    weak = {WEAK_TRAINER} if weak_trainers is None else set(weak_trainers)
    for trainer, task_types in roster.items():
        unknown = [task_type for task_type in task_types if task_type not in TEMPLATES]
        if unknown:
            raise ValueError(f"no demo texts for task type {unknown[0]!r} (trainer {trainer})")
    now = as_utc(now).replace(microsecond=0)
    rng = random.Random(seed)
    calibration = _assign_calibration(roster)
    drafts: list[dict[str, Any]] = []
    for trainer, task_types in roster.items():
        for task_type in task_types:
            drafts.extend(_drafts_for(
                trainer, task_type, per_trainer=per_trainer, weak=trainer in weak,
                calibration=calibration.get((trainer, task_type), []), now=now, rng=rng,
            ))
    drafts.sort(key=lambda draft: (draft["created_at"], draft["trainer"], draft["task_type"]))
    return [{"id": f"out-{number:06d}", **draft} for number, draft in enumerate(drafts, 1)]


def write_jsonl(records: Iterable[Mapping[str, Any]], path: str | Path) -> None:
    """Writes one JSON object per line (UTF-8), creating the parent directory if needed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def simulated_grade(
    record: Mapping[str, Any], *, reviewer: str, rng: random.Random
) -> tuple[str, str | None, str | None]:
    """What a simulated reviewer decides: (grade, error category, explanation).

    Good outputs pass. A flawed output is usually graded at its true severity with the flaw's
    category and explanation; sometimes a minor flaw is missed (graded pass) or escalated to
    major, and a major one downgraded to minor. How often depends on the reviewer (some are
    stricter than others) and on ``rng``, which is drawn from exactly once.
    """
    roll = rng.random()
    metadata = record.get("metadata") or {}
    template = _TEMPLATES_BY_KEY.get(str(metadata.get("demo_template")))
    quality = metadata.get("demo_quality")
    if template is None or quality not in QUALITY_TO_GRADE:
        return _grade_from_gold(record)
    if quality == "good":
        return "pass", None, None
    flaw = _flaw(template, quality)
    slot = int(metadata.get("demo_slot", 0)) % len(template.slots)
    explanation = fill(flaw.explanation, template.slots[slot])
    strictness = (zlib.crc32(reviewer.encode()) % 1000) / 1000  # 0 lenient .. 1 strict
    if quality == "minor":
        if roll < 0.06 + 0.10 * (1 - strictness):
            return "pass", None, None
        if roll > 1 - 0.04 * strictness:
            return "major", flaw.category, explanation
        return "minor", flaw.category, explanation
    if roll < 0.03 + 0.07 * (1 - strictness):
        return "minor", flaw.category, explanation
    return "major", flaw.category, explanation


# --------------------------------------------------------------------------------------------


def _flaw(template: Template, quality: str) -> Flaw:
    if quality == "minor":
        return template.minor
    if quality == "major":
        return template.major
    raise ValueError(f"no flaw for quality {quality!r}")


def _assign_calibration(
    roster: Mapping[str, Sequence[str]],
) -> dict[tuple[str, str], list[Calibration]]:
    assigned: dict[tuple[str, str], list[Calibration]] = {}
    for item in CALIBRATION:
        owners = [trainer for trainer, types in roster.items() if item.task_type in types]
        if not owners:
            continue
        owner = item.trainer if item.trainer in owners else owners[0]
        assigned.setdefault((owner, item.task_type), []).append(item)
    return assigned


def _quality_plan(count: int, *, weak: bool, rng: random.Random) -> list[str]:
    flawed = round(count * (WEAK_NON_PASS_SHARE if weak else NON_PASS_SHARE))
    major = flawed // 2 if weak else sum(1 for _ in range(flawed) if rng.random() < 0.25)
    return ["major"] * major + ["minor"] * (flawed - major) + ["good"] * (count - flawed)


def _take(plan: list[str], quality: str) -> None:
    """Removes the plan entry a calibration item of ``quality`` stands in for."""
    same_kind = [q for q in plan if (q == "good") == (quality == "good")]
    if quality in plan:
        plan.remove(quality)
    elif same_kind:
        plan.remove(same_kind[0])
    elif plan:
        plan.pop()


def _drafts_for(
    trainer: str,
    task_type: str,
    *,
    per_trainer: int,
    weak: bool,
    calibration: list[Calibration],
    now: datetime,
    rng: random.Random,
) -> list[dict[str, Any]]:
    plan = _quality_plan(per_trainer, weak=weak, rng=rng)
    chosen: list[tuple[Template, int, str, Calibration | None]] = []
    if per_trainer >= 2:
        for gold in calibration[: per_trainer // 2]:
            _take(plan, gold.quality)
            chosen.append((_TEMPLATES_BY_KEY[gold.template], gold.slot, gold.quality, gold))
    used = {template.key for template, *_ in chosen}
    pool = TEMPLATES[task_type]
    templates = [template for template in pool if template.key not in used] or list(pool)
    rng.shuffle(templates)
    rng.shuffle(plan)
    for index, quality in enumerate(plan):
        template = templates[index % len(templates)]
        chosen.append((template, rng.randrange(len(template.slots)), quality, None))
    rng.shuffle(chosen)
    drafts = []
    for (template, slot, quality, item), moment in zip(
        chosen, _timestamps(len(chosen), now=now, rng=rng), strict=True
    ):
        prompt, output = render(template, quality, slot)
        draft: dict[str, Any] = {
            "trainer": trainer,
            "task_type": task_type,
            "prompt": prompt,
            "output": output,
            "created_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "metadata": {
                "project": template.project,
                "demo_quality": quality,
                "demo_template": template.key,
                "demo_slot": slot,
            },
        }
        if item is not None:
            draft["gold"] = {
                "grade": QUALITY_TO_GRADE[quality],
                "note": _gold_note(template, quality, slot),
            }
        drafts.append(draft)
    return drafts


def _gold_note(template: Template, quality: str, slot: int) -> str:
    pattern = template.good_note if quality == "good" else _flaw(template, quality).explanation
    return fill(pattern, template.slots[slot])


def _timestamps(count: int, *, now: datetime, rng: random.Random) -> list[datetime]:
    """``count`` moments spread over ``WINDOW`` before ``now``, ascending, whole seconds."""
    start = now - WINDOW
    step = WINDOW / max(count, 1)
    moments = []
    for index in range(count):
        moment = (start + step * (index + 0.1 + 0.8 * rng.random())).replace(microsecond=0)
        moments.append(min(max(moment, start + timedelta(seconds=1)), now - timedelta(seconds=1)))
    return moments


def _grade_from_gold(record: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """Records without a demo label: a calibration item is graded as its gold, others pass."""
    gold = record.get("gold") or {}
    grade = gold.get("grade")
    if grade not in ("minor", "major"):
        return "pass", None, None
    note = str(gold.get("note") or "").strip()
    if visible_length(note) < MIN_EXPLANATION:
        note = f"Planted error in this calibration item: {note or 'see the reference answer'}"
    return grade, "Other", note
