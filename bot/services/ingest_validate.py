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
import operator
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from bot.common.grades import scale_in_force
from bot.services.ingest_read import json_kind

MAX_ID_LENGTH = 200
TEXT_FIELDS = ("id", "trainer", "task_type", "prompt", "output", "created_at")
OPTIONAL_FIELDS = ("metadata", "gold", "item", "label", "reasoning")
GOLD_FIELDS = ("grade", "note")
MAX_ITEM_LENGTH = 200
MAX_LABEL_LENGTH = 64
MAX_REASONING_LENGTH = 10_000
_FIELDS = frozenset(TEXT_FIELDS + OPTIONAL_FIELDS)
_TEXT_VALUES = operator.itemgetter(*TEXT_FIELDS)
# How the encoders below write a string (``ensure_ascii``): C-accelerated in CPython.
_ASCII_STRING = json.encoder.encode_basestring_ascii
# Built once: ``json.dumps`` with options builds a new encoder for every call (every record).
_STORED_ENCODER = json.JSONEncoder(allow_nan=False)
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _reused(encoder: json.JSONEncoder) -> Callable[[dict[str, Any]], str]:
    """``encoder.encode`` for a dict, without the C encoder ``encode`` builds anew on every
    call (two-thirds of its time on a small ``metadata``). The encoder's own options; no
    circular-reference markers: a parsed JSON value has no cycles, and nesting too deep still
    raises ``RecursionError``. Plain ``encode`` where CPython's C encoder is missing."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    chunks = make(None, encoder.default, _ASCII_STRING, None, encoder.key_separator,
                  encoder.item_separator, encoder.sort_keys, encoder.skipkeys,
                  encoder.allow_nan)
    join = "".join

    def encode(value: dict[str, Any]) -> str:
        return join(chunks(value, 0))

    return encode


_STORED_JSON = _reused(_STORED_ENCODER)
_CANONICAL_JSON = _reused(_CANONICAL_ENCODER)


class _Refused(Exception):
    """Why a record is refused, naming the field; raised deep in a check, caught once."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


# Not frozen: a frozen dataclass sets each field through ``object.__setattr__``, five times
# the cost of building one, paid for every record of a file of millions. Nothing changes it.
@dataclass(slots=True)
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

    def canonical(self) -> dict[str, Any]:
        """What ``content_hash`` hashes, as JSON with sorted keys, no spaces, ASCII only."""
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
        return canonical

    @property
    def content_hash(self) -> str:
        """sha256 of the record's canonical JSON: same content, same hash, whatever the file."""
        return hashlib.sha256(self._canonical_text().encode("ascii")).hexdigest()

    def _canonical_text(self) -> str:
        """``canonical()`` encoded, written key by key in sorted order (the encoder's own
        string escaping; ``metadata`` through the canonical encoder): the same text as
        encoding the dict, without building it and sorting its keys for every record. One
        f-string: the common record has no gold and none of the trainer's own side."""
        text = _ASCII_STRING
        if self.gold_grade is None:
            gold = "null"
        else:
            note = "null" if self.gold_note is None else text(self.gold_note)
            gold = f'{{"grade":{text(self.gold_grade)},"note":{note}}}'
        item = "" if self.item is None else f',"item":{text(self.item)}'
        label = "" if self.label is None else f',"label":{text(self.label)}'
        reasoning = "" if self.reasoning is None else f',"reasoning":{text(self.reasoning)}'
        metadata = "null" if self.metadata is None else _CANONICAL_JSON(self.metadata)
        return (f'{{"created_at":{text(self.created_at.astimezone(UTC).isoformat())},'
                f'"gold":{gold},"id":{text(self.id)}{item}{label},"metadata":{metadata},'
                f'"output":{text(self.output)},"prompt":{text(self.prompt)}{reasoning},'
                f'"task_type":{text(self.task_type)},"trainer":{text(self.trainer)}}}')


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
    try:
        return _validated(data, known_trainers, known_task_types, label_scales)
    except _Refused as refused:
        return refused.reason


def _validated(
    data: Mapping[str, Any],
    known_trainers: Mapping[str, AbstractSet[str]],
    known_task_types: AbstractSet[str],
    label_scales: Mapping[str, Any] | None,
) -> ValidRecord:
    # Runs once per record of files of millions: the checks raise ``_Refused`` rather than
    # return wrapped values, so an accepted record allocates nothing on the way.
    if not _FIELDS.issuperset(data):
        unknown = [key for key in data if key not in _FIELDS]
        names = ", ".join(f"`{key}`" for key in unknown)
        raise _Refused(f"unknown field{'s' if len(unknown) > 1 else ''} {names}")
    id_, trainer, task_type, prompt, output, created_text = _texts(data)
    if id_ != id_.strip():
        raise _Refused("field `id` has leading or trailing spaces")
    if len(id_) > MAX_ID_LENGTH:
        raise _Refused(f"field `id` is longer than {MAX_ID_LENGTH} characters ({len(id_)})")
    created_at = _timestamp(created_text)
    metadata, metadata_text = _metadata(data.get("metadata"))
    gold_grade, gold_note = _gold(data.get("gold"))
    _check_roster(trainer, task_type, known_trainers, known_task_types)
    if data.get("item") is None and data.get("label") is None and data.get("reasoning") is None:
        item = label = reasoning = None  # most records: none of the trainer's own side
    else:
        item, label, reasoning = _trainer_side(data, (label_scales or {}).get(task_type))
    # Positional (the fields' order): keywords cost as much again as the building.
    return ValidRecord(id_, trainer, task_type, prompt, output, created_at, metadata,
                       gold_grade, gold_note, item, label, reasoning, metadata_text)


def _texts(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``TEXT_FIELDS``' values, each checked as ``_text`` does: for the common record (all
    present, ASCII, no NUL, none blank) in a few passes in C over all six at once; for any
    other, field by field, to name the first one refused."""
    try:
        values = _TEXT_VALUES(data)
        joined = "".join(values)
    except (KeyError, TypeError):  # one missing, one not a string
        return tuple(_text(data, name) for name in TEXT_FIELDS)
    if joined.isascii() and "\x00" not in joined and all(map(str.strip, values)):
        return values
    return tuple(_text(data, name) for name in TEXT_FIELDS)


def _trainer_side(data: Mapping[str, Any],
                  scale: Any) -> tuple[str | None, str | None, str | None]:
    """``item``, ``label`` and ``reasoning`` checked (``None`` when absent or blank)."""
    found: dict[str, str | None] = {}
    for name, limit in (("item", MAX_ITEM_LENGTH), ("reasoning", MAX_REASONING_LENGTH)):
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            found[name] = None
            continue
        text = _text(data, name)
        text = text.strip() if name == "item" else text
        if len(text) > limit:
            raise _Refused(f"field `{name}` is longer than {limit:,} characters ({len(text):,})")
        found[name] = text
    label = _label(data.get("label"), scale)
    if label is not None and label.startswith("!"):
        raise _Refused(label[1:])
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
        try:
            label = _text({"label": value}, "label").strip()
        except _Refused as refused:
            return "!" + refused.reason
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


def _text(data: Mapping[str, Any], name: str, *, label: str | None = None) -> str:
    """A string field that is present, non-blank and storable anywhere (no NUL, no surrogate);
    else ``_Refused`` naming it (as ``label``, by default its name)."""
    value = data.get(name)
    if type(value) is str and value.isascii() and "\x00" not in value and not value.isspace() \
            and value:
        return value  # the common case, checked in C: ASCII has no surrogate
    label = label or name
    if name not in data:
        raise _Refused(f"missing field `{label}`")
    if not isinstance(value, str):
        raise _Refused(f"field `{label}` must be a string, got {json_kind(value)}")
    if not value.strip():
        raise _Refused(f"empty `{label}`")
    if "\x00" in value:
        raise _Refused(f"field `{label}` contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise _Refused(f"field `{label}` contains an unpaired surrogate at character "
                       f"{error.start + 1}") from None
    return value


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _Refused(f"bad `created_at` {text!r}: expected ISO 8601 like "
                       "2026-11-20T14:03:00Z") from None
    if moment.utcoffset() is None:
        raise _Refused(f"bad `created_at` {text!r}: needs a timezone (`Z` or an offset like "
                       "+01:00)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise _Refused(f"bad `created_at` {text!r}: out of range in UTC") from None


def _metadata(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The metadata object and its stored JSON text (both ``None`` when absent)."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise _Refused(f"`metadata` must be an object, got {json_kind(value)}")
    try:
        text = _STORED_JSON(value)
    except (ValueError, TypeError, RecursionError):
        raise _Refused("`metadata` must be plain JSON (no NaN or Infinity, not nested too "
                       "deeply)") from None
    return value, text


def _gold(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise _Refused(f"`gold` must be an object, got {json_kind(value)}")
    unknown = [key for key in value if key not in GOLD_FIELDS]
    if unknown:
        raise _Refused("unknown field " + ", ".join(f"`gold.{key}`" for key in unknown))
    grade = value.get("grade")
    grades = scale_in_force().keys  # the workspace's (bot.wiring.context.use_grade_scale)
    if grade not in grades:
        shown = "missing" if grade is None else repr(grade)
        raise _Refused(f"`gold.grade` must be one of {', '.join(grades)} (got {shown})")
    note = value.get("note")
    if note is None or (isinstance(note, str) and not note.strip()):
        return grade, None
    return grade, _text(value, "note", label="gold.note")


def _check_roster(
    trainer: str,
    task_type: str,
    known_trainers: Mapping[str, AbstractSet[str]],
    known_task_types: AbstractSet[str],
) -> None:
    if trainer not in known_trainers:
        raise _Refused(f"unknown trainer `{trainer}`")
    if task_type not in known_task_types:
        raise _Refused(f"unknown task type `{task_type}`")
    if task_type not in known_trainers[trainer]:
        raise _Refused(f"trainer `{trainer}` is not assigned to task type `{task_type}`")
