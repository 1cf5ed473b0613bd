"""Deciding whether a raw record is a trainer output we can store (pure, no database).

Usage::

    roster = roster_from_workspace(workspace)
    checked = validate_record(data, **roster._asdict())
    if isinstance(checked, str):
        ...  # the reason, naming the field: "missing field `prompt`"
    else:
        checked.content_hash  # what idempotent ingest compares

A record is the contract's JSON object: ``id``, ``trainer``, ``task_type``, ``prompt``,
``output``, ``created_at`` (ISO 8601 with a timezone), optional ``metadata`` (an object) and
``gold`` (``{"grade": "pass" | "minor" | "major", "note": "..."}``), and the trainer's own
side: ``item`` (an id shared by the outputs that answer the same task, at most 200
characters), ``label`` (the trainer's verdict: a string of at most 64 characters or a
number; checked against the task type's ``label_scale`` when given ``label_scales``) and
``reasoning`` (their written explanation, at most 10,000 characters). ``null`` for an
optional field means absent. Prompts and outputs are stored whole, however long.
"""

import hashlib
import json
import math
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from bot.grades import scale_in_force
from bot.services.ingest_read import json_kind

MAX_ID_LENGTH = 200
TEXT_FIELDS = ("id", "trainer", "task_type", "prompt", "output", "created_at")
OPTIONAL_FIELDS = ("metadata", "gold", "item", "label", "reasoning")
GOLD_FIELDS = ("grade", "note")
MAX_ITEM_LENGTH = 200
MAX_LABEL_LENGTH = 64
MAX_REASONING_LENGTH = 10_000


class Roster(NamedTuple):
    """Who may appear in records: trainer user id → the task type keys they work on."""

    known_trainers: Mapping[str, frozenset[str]]
    known_task_types: frozenset[str]


def roster_from_workspace(workspace: Any) -> Roster:
    """The roster of a ``bot.workspace.Workspace`` (duck-typed: ``.trainers``, ``.task_types``)."""
    return Roster(
        known_trainers={t.user: frozenset(t.task_types) for t in workspace.trainers},
        known_task_types=frozenset(t.key for t in workspace.task_types),
    )


def label_scales_of(workspace: Any) -> dict[str, Any]:
    """Task type key → its ``LabelScale``, for checking records' labels."""
    return {t.key: t.label_scale for t in workspace.task_types}


@dataclass(frozen=True, slots=True)
class ValidRecord:
    """A record that passed validation; ``created_at`` is aware UTC, ``gold_note`` never ''."""

    id: str
    trainer: str
    task_type: str
    prompt: str
    output: str
    created_at: datetime
    metadata: dict[str, Any] | None = None
    gold_grade: str | None = None
    gold_note: str | None = None
    item: str | None = None
    label: str | None = None
    reasoning: str | None = None
    # ``metadata_json`` as validation wrote it (the same text), so it is not encoded twice.
    metadata_text: str | None = field(default=None, repr=False, compare=False)

    @property
    def metadata_json(self) -> str | None:
        """``metadata`` as stored: JSON text (ASCII-escaped, so any store can hold it)."""
        if self.metadata is None:
            return None
        return self.metadata_text if self.metadata_text is not None else json.dumps(self.metadata)

    @property
    def content_hash(self) -> str:
        """sha256 of the record's canonical JSON: same content, same hash, whatever the file."""
        gold = (
            None if self.gold_grade is None else {"grade": self.gold_grade, "note": self.gold_note}
        )
        canonical = {
            "id": self.id,
            "trainer": self.trainer,
            "task_type": self.task_type,
            "prompt": self.prompt,
            "output": self.output,
            "created_at": self.created_at.astimezone(UTC).isoformat(),
            "metadata": self.metadata,
            "gold": gold,
        }
        # Only when present: a record without them keeps the hash it always had.
        for name in ("item", "label", "reasoning"):
            if getattr(self, name) is not None:
                canonical[name] = getattr(self, name)
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode("ascii")).hexdigest()


def validate_record(
    data: Mapping[str, Any],
    *,
    known_trainers: Mapping[str, AbstractSet[str]],
    known_task_types: AbstractSet[str],
    label_scales: Mapping[str, Any] | None = None,
) -> ValidRecord | str:
    """The record checked and normalised, or the first reason it is refused (naming the field).

    ``label_scales``: task type key → ``bot.workspace.LabelScale``; a ``label`` is checked
    against its task type's scale (absent: any short label)."""
    unknown = [key for key in data if key not in TEXT_FIELDS + OPTIONAL_FIELDS]
    if unknown:
        names = ", ".join(f"`{key}`" for key in unknown)
        return f"unknown field{'s' if len(unknown) > 1 else ''} {names}"
    texts: dict[str, str] = {}
    for name in TEXT_FIELDS:
        text = _text(data, name, label=name)
        if not isinstance(text, _Text):
            return text
        texts[name] = text.value
    if texts["id"] != texts["id"].strip():
        return "field `id` has leading or trailing spaces"
    if len(texts["id"]) > MAX_ID_LENGTH:
        return f"field `id` is longer than {MAX_ID_LENGTH} characters ({len(texts['id'])})"
    created_at = _timestamp(texts["created_at"])
    if isinstance(created_at, str):
        return created_at
    metadata = _metadata(data.get("metadata"))
    if isinstance(metadata, str):
        return metadata
    gold = _gold(data.get("gold"))
    if isinstance(gold, str):
        return gold
    roster_problem = _roster_problem(
        texts["trainer"], texts["task_type"], known_trainers, known_task_types
    )
    if roster_problem is not None:
        return roster_problem
    trainer_side = _trainer_side(data, (label_scales or {}).get(texts["task_type"]))
    if isinstance(trainer_side, str):
        return trainer_side
    item, label, reasoning = trainer_side
    return ValidRecord(
        id=texts["id"],
        trainer=texts["trainer"],
        task_type=texts["task_type"],
        prompt=texts["prompt"],
        output=texts["output"],
        created_at=created_at,
        metadata=None if metadata is None else metadata[0],
        gold_grade=gold[0],
        gold_note=gold[1],
        item=item,
        label=label,
        reasoning=reasoning,
        metadata_text=None if metadata is None else metadata[1],
    )


def _trainer_side(data: Mapping[str, Any],
                  scale: Any) -> tuple[str | None, str | None, str | None] | str:
    """``item``, ``label`` and ``reasoning`` checked (``None`` when absent or blank)."""
    found: dict[str, str | None] = {}
    for name, limit in (("item", MAX_ITEM_LENGTH), ("reasoning", MAX_REASONING_LENGTH)):
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            found[name] = None
            continue
        checked = _text(data, name, label=name)
        if isinstance(checked, str):
            return checked
        text = checked.value.strip() if name == "item" else checked.value
        if len(text) > limit:
            return f"field `{name}` is longer than {limit:,} characters ({len(text):,})"
        found[name] = text
    label = _label(data.get("label"), scale)
    if label is not None and label.startswith("!"):
        return label[1:]
    return found["item"], label, found["reasoning"]


def number_label(value: float) -> str:
    """A numeric label as stored: ``4``, ``4.0`` and ``"4"`` are all ``4``; ``2.5`` stays."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def as_number(label: str) -> float | None:
    """A label read as a number (``None`` when it is not one, or not finite)."""
    try:
        value = float(label)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _label(value: Any, scale: Any) -> str | None:
    """The label as stored, ``None`` when absent, or ``"!"`` + the reason it is refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return f"!field `label` must be a string or a number, got {json_kind(value)}"
    if isinstance(value, str):
        checked = _text({"label": value}, "label", label="label")
        if isinstance(checked, str):
            return "!" + checked
        label = checked.value.strip()
        if len(label) > MAX_LABEL_LENGTH:
            return (f"!field `label` is longer than {MAX_LABEL_LENGTH} characters "
                    f"({len(label)})")
    else:
        if isinstance(value, float) and not math.isfinite(value):
            return "!field `label` must be a finite number"
        label = number_label(value)
    number = as_number(label)
    if scale is None:
        return label
    if scale.labels:
        if label in scale.labels:
            return label
        shown = ", ".join(scale.labels[:10]) + (" …" if len(scale.labels) > 10 else "")
        return f"!field `label` {label!r} is not one of this task type's labels ({shown})"
    if scale.level in ("ordinal", "interval") and scale.declared:
        if number is None:
            return (f"!field `label` must be a number for this task type's {scale.level} "
                    f"scale (got {label!r})")
        return number_label(number)
    return label


@dataclass(frozen=True, slots=True)
class _Text:
    value: str


def _text(data: Mapping[str, Any], name: str, *, label: str) -> _Text | str:
    """A string field that is present, non-blank and storable anywhere (no NUL, no surrogate)."""
    if name not in data:
        return f"missing field `{label}`"
    value = data[name]
    if not isinstance(value, str):
        return f"field `{label}` must be a string, got {json_kind(value)}"
    if not value.strip():
        return f"empty `{label}`"
    if "\x00" in value:
        return f"field `{label}` contains a NUL character"
    if value.isascii():
        return _Text(value)  # no surrogate in it: the common case, checked in C
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"field `{label}` contains an unpaired surrogate at character {error.start + 1}"
    return _Text(value)


def _timestamp(text: str) -> datetime | str:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return f"bad `created_at` {text!r}: expected ISO 8601 like 2026-11-20T14:03:00Z"
    if moment.utcoffset() is None:
        return f"bad `created_at` {text!r}: needs a timezone (`Z` or an offset like +01:00)"
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return f"bad `created_at` {text!r}: out of range in UTC"


def _metadata(value: Any) -> tuple[dict[str, Any], str] | str | None:
    """The metadata object and its stored JSON text, the reason it is refused, or None."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return f"`metadata` must be an object, got {json_kind(value)}"
    try:
        text = json.dumps(value, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        return "`metadata` must be plain JSON (no NaN or Infinity, not nested too deeply)"
    return value, text


def _gold(value: Any) -> tuple[str | None, str | None] | str:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        return f"`gold` must be an object, got {json_kind(value)}"
    unknown = [key for key in value if key not in GOLD_FIELDS]
    if unknown:
        return "unknown field " + ", ".join(f"`gold.{key}`" for key in unknown)
    grade = value.get("grade")
    grades = scale_in_force().keys  # the workspace's (bot.context.use_grade_scale)
    if grade not in grades:
        shown = "missing" if grade is None else repr(grade)
        return f"`gold.grade` must be one of {', '.join(grades)} (got {shown})"
    note = value.get("note")
    if note is None or (isinstance(note, str) and not note.strip()):
        return grade, None
    checked = _text(value, "note", label="gold.note")
    return checked if isinstance(checked, str) else (grade, checked.value)


def _roster_problem(
    trainer: str,
    task_type: str,
    known_trainers: Mapping[str, AbstractSet[str]],
    known_task_types: AbstractSet[str],
) -> str | None:
    if trainer not in known_trainers:
        return f"unknown trainer `{trainer}`"
    if task_type not in known_task_types:
        return f"unknown task type `{task_type}`"
    if task_type not in known_trainers[trainer]:
        return f"trainer `{trainer}` is not assigned to task type `{task_type}`"
    return None
