"""Reading trainer-output files into raw records, one per line or CSV row, never failing whole.

Usage::

    for record in read_records(Path("outputs.jsonl"), max_record_bytes=1024 * 1024):
        record.number, record.data, record.error   # data xor error

The format follows the extension: ``.jsonl``, ``.ndjson`` and ``.json`` are JSON Lines (one
object per line), ``.csv`` is CSV with the contract's columns. A record that cannot be read
(invalid UTF-8, broken JSON, a row with the wrong number of fields) carries an ``error`` and
the rest of the file still loads. ``number`` is the 1-based line number (for CSV, the line a
row starts on; the header is line 1). The HTTP ingest uses :func:`records_from_json_array`,
where ``number`` is the 0-based array index. Whether a readable record is *valid* is decided
later, by ``bot.services.ingest.validate_record``.

A record longer than ``max_record_bytes`` (the same limit on every ingest path) is refused by
its line number, and is never held in memory whole: lines are read up to the limit, and the
rest of an overlong line is skipped in chunks.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)
CSV_REQUIRED = ("id", "trainer", "task_type", "prompt", "output", "created_at")
CSV_OPTIONAL = ("metadata", "gold_grade", "gold_note", "item", "label", "reasoning")
_BOM = b"\xef\xbb\xbf"
# Outputs are long texts; the csv module's default cap (128 KiB per field) would reject them.
_CSV_FIELD_LIMIT = 2**31 - 1
# 2 MiB: a 100,000-character output written with \u escapes is 1.3 MB of JSON.
DEFAULT_MAX_RECORD_BYTES = 2 * 1024 * 1024
_SKIP_CHUNK = 1024 * 1024


# Not frozen: one is built for every line of a file of millions, and a frozen dataclass sets
# each field through ``object.__setattr__`` (twice the cost). Nothing changes one once read.
@dataclass(slots=True)
class RawRecord:
    """One record as read: ``data`` (a JSON object) or ``error`` (why it could not be read)."""

    number: int
    data: dict[str, Any] | None
    error: str | None = None
    size: int = 0  # characters of text it was read from (0: unknown), to bound a batch


class UnsupportedFormat(ValueError):
    """The file's extension names no format that ingest reads."""


def read_records(path: Path, *,
                 max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Iterator[RawRecord]:
    """The records of a JSON Lines or CSV file, lazily, in file order.

    Raises :class:`UnsupportedFormat` for other extensions and ``OSError`` if the file
    cannot be opened; everything wrong *inside* the file becomes a record's ``error``.
    """
    suffix = path.suffix.lower()
    if suffix in JSON_LINES_SUFFIXES:
        return _read_json_lines(path, max_record_bytes)
    if suffix in CSV_SUFFIXES:
        return _read_csv(path, max_record_bytes)
    known = ", ".join(JSON_LINES_SUFFIXES + CSV_SUFFIXES)
    raise UnsupportedFormat(f"cannot tell the format of {path.name}: use one of {known}")


ARRAY_FILE = ("the file is a JSON array spread over several lines: ingest reads JSON Lines, one "
              "object per line (convert it with `jq -c '.[]'`, or POST the array to "
              "/api/outputs)")


def _is_a_spread_array(path: Path, first_line: str) -> bool:
    """Whether the file is one JSON array over several lines. (An array on one line is a
    record like any other, refused as not an object.)"""
    if _parse_json(first_line)[1] is None:
        return False
    try:
        value, problem = _parse_json(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError):
        return False
    return problem is None and isinstance(value, list)


def too_long(size: int, limit: int) -> str:
    """The one wording of the per-record limit, on every ingest path."""
    return (f"the record is {_bytes(size)}, more than the {_bytes(limit)} a record may "
            "have (INGEST_MAX_RECORD_BYTES)")


def _bytes(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} kB"
    return f"{size} bytes"


def records_from_json_array(items: list[Any], *,
                            max_record_bytes: int | None = None) -> Iterator[RawRecord]:
    """Records of an already parsed JSON array (the HTTP ingest); ``number`` is the index.
    With ``max_record_bytes``, a record longer than that (as compact JSON) is refused."""
    for index, item in enumerate(items):
        if max_record_bytes is not None:
            size = len(json.dumps(item, ensure_ascii=False, separators=(",", ":"))
                       .encode("utf-8"))
            if size > max_record_bytes:
                yield RawRecord(index, None, too_long(size, max_record_bytes))
                continue
        if isinstance(item, dict):
            yield RawRecord(index, item)
        else:
            yield RawRecord(index, None, f"expected a JSON object, got {json_kind(item)}")


def parse_json_object(text: str) -> dict[str, Any] | str:
    """``text`` parsed as one JSON object, or the reason it is not one.

    Stricter than ``json.loads``: duplicate keys, ``NaN`` and ``Infinity`` are refused, and
    no input raises (too deep nesting and oversized numbers become reasons too).
    """
    value, problem = _parse_json(text)
    if problem is not None:
        return f"invalid JSON: {problem}"
    if not isinstance(value, dict):
        return f"expected a JSON object, got {json_kind(value)}"
    return value


def parse_json(text: str) -> tuple[Any, str | None]:
    """Any JSON document, strictly (as ``parse_json_object``): ``(value, None)`` or
    ``(None, reason)``. The HTTP ingest reads its body with it."""
    return _parse_json(text)


def _parse_json(text: str) -> tuple[Any, str | None]:
    if text[:1] == "{":
        # The common line, an object from its first character to its last: the C scanner
        # alone, without the two Python calls and two regex matches ``decode`` wraps around
        # it. Anything else, any error included, goes the whole way below, which words it.
        try:
            value, end = _SCAN(text, 0)
        except (ValueError, StopIteration, RecursionError):
            pass
        else:
            if end == len(text) or not text[end:].strip(_JSON_SPACE):
                return value, None
    if text.startswith("\ufeff"):  # what json.loads says; the decoder itself does not check
        return None, "Unexpected UTF-8 BOM (decode using utf-8-sig) at column 1"
    try:
        return _DECODER.decode(text), None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}" if error.lineno > 1 \
            else f"column {error.colno}"
        return None, f"{error.msg} at {where}"
    except RecursionError:
        return None, "nested too deeply"
    except ValueError as error:  # ours, or an integer with more digits than Python converts
        return None, str(error)


class _JsonProblem(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Called for every object of every record: built in C, the pairs walked only when a key
    # repeats (to name it).
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _JsonProblem(f"duplicate key `{key}`")
            seen.add(key)
    return result


def _no_constant(name: str) -> Any:
    raise _JsonProblem(f"{name} is not allowed")


# Built once: ``json.loads`` with hooks builds a new decoder for every call (every line).
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant)
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]  # (set by its __init__)
_JSON_SPACE = " \t\n\r"  # the whitespace JSON allows around a value (RFC 8259)


def json_kind(value: Any) -> str:
    """How a parsed JSON value reads in an error message: "an array", "null", ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _decoded_lines(path: Path, limit: int) -> Iterator[tuple[int, str, str | None]]:
    """``(line number, text, problem)`` per physical line, line endings kept.

    A line that is not valid UTF-8 comes with its problem (the 1-based position of its first
    bad byte) and its text decoded with ``surrogateescape``, so it keeps its shape for a CSV
    parser. A line longer than ``limit`` bytes is read no further than that: it comes as a
    bare line ending with the problem and its length, the rest skipped in chunks.
    """
    with path.open("rb") as file:
        number = 0
        while raw := file.readline(limit + 1):
            number += 1
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            if len(raw) > limit and not raw.endswith(b"\n"):
                size = len(raw) + _skip_line(file)
                yield number, "\n", too_long(size, limit)
                continue
            try:
                yield number, raw.decode("utf-8"), None
            except UnicodeDecodeError as error:
                yield (number, raw.decode("utf-8", "surrogateescape"),
                       f"invalid UTF-8 at byte {error.start + 1}")


def _skip_line(file: BinaryIO) -> int:
    """Read past the rest of a line without keeping it; how many bytes it had."""
    skipped = 0
    while chunk := file.readline(_SKIP_CHUNK):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def _read_json_lines(path: Path, limit: int) -> Iterator[RawRecord]:
    first = True
    for number, text, problem in _decoded_lines(path, limit):
        if problem is not None:
            yield RawRecord(number, None, problem)
            first = False
            continue
        if not text or text.isspace():  # as ``not text.strip()``, without copying the line
            continue
        if first and text.lstrip().startswith("[") and _is_a_spread_array(path, text):
            # A pretty-printed JSON array (the body /api/outputs takes): one clear answer
            # instead of a JSON error on every line.
            yield RawRecord(number, None, ARRAY_FILE)
            return
        first = False
        parsed = parse_json_object(text.rstrip("\r\n"))
        if isinstance(parsed, str):
            yield RawRecord(number, None, parsed, len(text))
        else:
            yield RawRecord(number, parsed, None, len(text))


def _read_csv(path: Path, limit: int) -> Iterator[RawRecord]:
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    bad_lines: dict[int, str] = {}  # line number -> its problem, until its row is read
    sizes: dict[int, int] = {}  # line number -> bytes, until its row is read

    def texts() -> Iterator[str]:
        for number, text, problem in _decoded_lines(path, limit):
            if problem is not None:
                bad_lines[number] = problem
            sizes[number] = len(text)
            yield text

    reader = csv.reader(texts())
    header: list[str] | None = None
    last_line = 0
    while True:
        try:
            row = next(reader, None)
            error = None
        except csv.Error as csv_error:
            row, error = [], f"unreadable CSV row: {csv_error}"
        start, last_line = last_line + 1, reader.line_num
        if row is None:
            return
        decode_error = _first_bad_line(bad_lines, start, last_line)
        size = sum(sizes.pop(n, 0) for n in range(start, last_line + 1))
        if decode_error is None and size > limit:  # a row over several lines
            decode_error = too_long(size, limit)
        error = decode_error or error
        if error is None and not any(cell.strip() for cell in row):
            continue  # blank line, or a spreadsheet's empty trailing row
        if header is None:
            problem = error or _header_problem(row)
            if problem is not None:
                yield RawRecord(start, None, problem)
                return  # without a usable header no row can be understood
            header = [name.strip() for name in row]
            continue
        if error is None and len(row) != len(header):
            error = f"expected {len(header)} fields, got {len(row)}"
            if last_line > start:
                error += f" (the row runs to line {last_line}: an unbalanced quote?)"
        if error is not None:
            yield RawRecord(start, None, error)
        else:
            yield _csv_record(start, dict(zip(header, row, strict=True)), size)


def _first_bad_line(bad_lines: dict[int, str], start: int, end: int) -> str | None:
    """The problem of a row spanning lines ``start..end``, if any of its lines had one."""
    found = [
        (number, bad_lines.pop(number)) for number in range(start, end + 1) if number in bad_lines
    ]
    if not found:
        return None
    number, problem = found[0]
    if number == start:
        return problem
    if problem.startswith("invalid UTF-8"):
        return f"{problem} of line {number}"
    return f"line {number} of the row: {problem}"


def _header_problem(row: Iterable[str]) -> str | None:
    names = [name.strip() for name in row]
    allowed = CSV_REQUIRED + CSV_OPTIONAL
    problems = [f"missing required column `{name}`" for name in CSV_REQUIRED if name not in names]
    problems += [f"unknown column `{name}`" for name in dict.fromkeys(names) if name not in allowed]
    problems += [
        f"duplicate column `{name}`" for name in dict.fromkeys(names) if names.count(name) > 1
    ]
    if not problems:
        return None
    expected = ", ".join(CSV_REQUIRED) + ", and optionally " + ", ".join(CSV_OPTIONAL)
    return "; ".join(problems) + f" (the header must name: {expected})"


def _csv_record(number: int, cells: dict[str, str], size: int) -> RawRecord:
    """A CSV row in the JSON record shape: ``metadata`` parsed, ``gold_*`` folded into ``gold``."""
    data: dict[str, Any] = {name: cells[name] for name in CSV_REQUIRED}
    metadata = cells.get("metadata", "")
    if metadata.strip():
        value, problem = _parse_json(metadata)
        if problem is not None:
            return RawRecord(number, None, f"column `metadata` is not valid JSON: {problem}")
        data["metadata"] = value
    grade, note = cells.get("gold_grade", "").strip(), cells.get("gold_note", "")
    if grade or note.strip():
        data["gold"] = {"grade": grade} | ({"note": note} if note.strip() else {})
    for name in ("item", "label", "reasoning"):  # an empty cell is an absent field
        if cells.get(name, "").strip():
            data[name] = cells[name]
    return RawRecord(number, data, None, size)
