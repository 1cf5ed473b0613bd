"""Reading JSON Lines and CSV files into raw records: numbering, per-line errors, CSV shape."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services.ingest_read import (
    RawRecord,
    UnsupportedFormat,
    parse_json_object,
    read_records,
    records_from_json_array,
)

HEADER = "id,trainer,task_type,prompt,output,created_at"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def outcomes(path: Path) -> list[tuple[int, str]]:
    """Each record as (number, id or error)."""
    return [(r.number, r.data["id"] if r.data else f"ERROR {r.error}") for r in read_records(path)]


# JSON Lines


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", '{"id": "a"}\n\n   \n{"id": "b"}\r\n\n')
    assert outcomes(path) == [(1, "a"), (4, "b")]


@pytest.mark.parametrize("name", ["a.jsonl", "a.ndjson", "a.json", "A.JSONL"])
def test_json_lines_extensions(tmp_path: Path, name: str) -> None:
    assert outcomes(write(tmp_path, name, '{"id": "a"}')) == [(1, "a")]


def test_json_line_errors_name_their_line(tmp_path: Path) -> None:
    lines = [
        '{"id": "ok"}',
        '{"id": "a",',
        '["not", "an", "object"]',
        '"text"',
        "null",
        '{"id": "a", "id": "b"}',
        '{"id": "a", "n": NaN}',
        '{"id": "after"}',
    ]
    path = write(tmp_path, "a.jsonl", "\n".join(lines))
    assert outcomes(path) == [
        (1, "ok"),
        (2, "ERROR invalid JSON: Expecting property name enclosed in double quotes at column 12"),
        (3, "ERROR expected a JSON object, got an array"),
        (4, "ERROR expected a JSON object, got a string"),
        (5, "ERROR expected a JSON object, got null"),
        (6, "ERROR invalid JSON: duplicate key `id`"),
        (7, "ERROR invalid JSON: NaN is not allowed"),
        (8, "after"),
    ]


def test_invalid_utf8_spoils_only_its_line(tmp_path: Path) -> None:
    content = b'{"id": "a"}\n{"id": "b\xff\xfe"}\n{"id": "\xc3\xa9"}\n'
    assert outcomes(write(tmp_path, "a.jsonl", content)) == [
        (1, "a"),
        (2, "ERROR invalid UTF-8 at byte 10"),
        (3, "é"),
    ]


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    assert outcomes(write(tmp_path, "a.jsonl", b'\xef\xbb\xbf{"id": "a"}\n')) == [(1, "a")]


def test_unicode_line_separators_inside_strings_do_not_split_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", '{"id": "a\u2028b\u0085c"}\n{"id": "d"}\n')
    assert outcomes(path) == [(1, "a\u2028b\u0085c"), (2, "d")]


def test_hostile_json_becomes_an_error_not_a_crash() -> None:
    assert parse_json_object("[" * 100_000) in {
        "invalid JSON: nested too deeply",
        "invalid JSON: Expecting value at column 100001",
    }
    assert parse_json_object('{"n": ' + "9" * 5000 + "}").startswith("invalid JSON: Exceeds")


def test_a_pretty_printed_json_array_file_gets_one_answer_saying_what_it_is(
        tmp_path: Path) -> None:
    records = [{"id": "a"}, {"id": "b"}]
    path = write(tmp_path, "outputs.json", json.dumps(records, indent=2))
    [(number, error)] = outcomes(path)
    assert number == 1 and "JSON array" in error and "/api/outputs" in error
    # A JSON Lines file that merely starts with a broken line is still read line by line.
    broken = write(tmp_path, "broken.jsonl", '[1, 2\n{"id": "x"}\n')
    assert [n for n, _ in outcomes(broken)] == [1, 2]


def test_an_error_in_a_multi_line_document_names_its_line() -> None:
    assert parse_json_object('{\n  "id": "a"\n  "trainer": "U1"\n}') == \
        "invalid JSON: Expecting ',' delimiter at line 3, column 3"


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormat, match=r"a\.txt.*\.jsonl"):
        read_records(write(tmp_path, "a.txt", "{}"))


def test_json_array_records_are_numbered_by_index() -> None:
    records = list(records_from_json_array([{"id": "a"}, 3, {"id": "b"}]))
    assert records == [
        RawRecord(0, {"id": "a"}),
        RawRecord(1, None, "expected a JSON object, got a number"),
        RawRecord(2, {"id": "b"}),
    ]


# CSV


def test_csv_rows_are_numbered_from_line_2(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", f"{HEADER}\nout-1,U1,t,p,o,c\nout-2,U1,t,p,o,c\n")
    assert outcomes(path) == [(2, "out-1"), (3, "out-2")]


def test_csv_rows_have_the_json_record_shape(tmp_path: Path) -> None:
    header = f"{HEADER},metadata,gold_grade,gold_note"
    rows = [
        'out-1,U1,clinical,p,o,2026-11-20T14:03:00Z,"{""project"": ""triage-v2""}",major,Bad',
        "out-2,U1,clinical,p,o,2026-11-20T14:03:00Z,,,",
        "out-3,U1,clinical,p,o,2026-11-20T14:03:00Z,,,only a note",
    ]
    records = list(read_records(write(tmp_path, "a.csv", "\n".join([header, *rows]))))
    base = {
        "trainer": "U1",
        "task_type": "clinical",
        "prompt": "p",
        "output": "o",
        "created_at": "2026-11-20T14:03:00Z",
    }
    assert [r.data for r in records] == [
        {
            "id": "out-1",
            **base,
            "metadata": {"project": "triage-v2"},
            "gold": {"grade": "major", "note": "Bad"},
        },
        {"id": "out-2", **base},
        {"id": "out-3", **base, "gold": {"grade": "", "note": "only a note"}},
    ]


def test_csv_multi_line_fields_number_rows_by_their_first_line(tmp_path: Path) -> None:
    content = (
        f"{HEADER}\n"
        'out-1,U1,t,"line one\nline two\r\nline three",o,c\r\n'
        "out-2,U1,t,p,o,c\n"
        '"out-3",U1,t,p,"a\n\nb",c\n'
        "out-4,U1,t,p,o,c\n"
    )
    records = list(read_records(write(tmp_path, "a.csv", content)))
    assert [(r.number, r.data and r.data["id"]) for r in records] == [
        (2, "out-1"),
        (5, "out-2"),
        (6, "out-3"),
        (9, "out-4"),
    ]
    assert records[0].data and records[0].data["prompt"] == "line one\nline two\r\nline three"


def test_csv_bad_rows_are_reported_and_the_rest_loaded(tmp_path: Path) -> None:
    content = (
        f"{HEADER},metadata\n"
        "out-1,U1,t,p,o\n"
        "out-2,U1,t,p,o,c,{not json}\n"
        ",,,,,,\n"
        "\n"
        "out-3,U1,t,p,o,c,\n"
        'out-4,U1,t,"unbalanced,o,c,\n'
        "out-5,U1,t,p,o,c,\n"
    )
    assert outcomes(write(tmp_path, "a.csv", content)) == [
        (2, "ERROR expected 7 fields, got 5"),
        (
            3,
            "ERROR column `metadata` is not valid JSON: "
            "Expecting property name enclosed in double quotes at column 2",
        ),
        (6, "out-3"),
        (7, "ERROR expected 7 fields, got 4 (the row runs to line 8: an unbalanced quote?)"),
    ]


def test_csv_invalid_utf8_spoils_only_its_row(tmp_path: Path) -> None:
    content = (
        f"{HEADER}\n".encode()
        + b"out-1,U1,t,p\xff,o,c\n"
        + b'out-2,U1,t,"two\nlines \xc0 here",o,c\n'
        + b"out-3,U1,t,p,o,c\n"
    )
    assert outcomes(write(tmp_path, "a.csv", content)) == [
        (2, "ERROR invalid UTF-8 at byte 13"),
        (3, "ERROR invalid UTF-8 at byte 7 of line 4"),
        (5, "out-3"),
    ]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("id,trainer,task_type,output,created_at", "missing required column `prompt`"),
        (f"{HEADER},notes", "unknown column `notes`"),
        (f"{HEADER},id", "duplicate column `id`"),
        (
            "id,trainer,task_type,promt,output,created_at",
            "missing required column `prompt`; unknown column `promt`",
        ),
    ],
)
def test_csv_bad_header_rejects_the_whole_file_at_line_1(
    tmp_path: Path, header: str, reason: str
) -> None:
    records = list(read_records(write(tmp_path, "a.csv", f"{header}\nout-1,U1,t,p,o,c\n")))
    assert len(records) == 1
    assert records[0].number == 1
    assert records[0].error and records[0].error.startswith(reason + " (the header must name: id")


def test_csv_header_tolerates_spaces_bom_and_any_column_order(tmp_path: Path) -> None:
    content = "\ufeffoutput, id ,trainer,task_type,prompt,created_at\no,out-1,U1,t,p,c\n"
    assert outcomes(write(tmp_path, "a.csv", content)) == [(2, "out-1")]


def test_csv_accepts_fields_longer_than_the_csv_module_default(tmp_path: Path) -> None:
    long = "x" * 300_000
    records = list(read_records(write(tmp_path, "a.csv", f"{HEADER}\nout-1,U1,t,p,{long},c\n")))
    assert records[0].data and records[0].data["output"] == long


def test_empty_files_have_no_records(tmp_path: Path) -> None:
    assert outcomes(write(tmp_path, "a.csv", "")) == []
    assert outcomes(write(tmp_path, "a.jsonl", "")) == []


# Properties

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)
lines = st.one_of(
    json_values.map(json.dumps).map(str.encode),
    st.text().map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(),
).map(lambda line: line.replace(b"\n", b" "))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.lists(lines, max_size=8))
def test_any_json_lines_file_reads_as_data_or_error(tmp_path: Path, content: list[bytes]) -> None:
    path = write(tmp_path, "p.jsonl", b"\n".join(content))
    records = list(read_records(path))
    assert len(records) <= len(content)
    assert [r.number for r in records] == sorted({r.number for r in records})
    for record in records:
        assert 1 <= record.number <= len(content)
        assert (record.data is None) != (record.error is None)
        if record.data is not None:
            assert record.data == json.loads(content[record.number - 1])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.lists(st.binary() | st.text().map(str.encode), max_size=8))
def test_any_csv_file_reads_as_data_or_error(tmp_path: Path, content: list[bytes]) -> None:
    path = write(tmp_path, "p.csv", f"{HEADER}\n".encode() + b"\n".join(content))
    last_line = path.read_bytes().count(b"\n") + 1
    for record in read_records(path):
        assert (record.data is None) != (record.error is None)
        assert 2 <= record.number <= last_line


@given(value=json_values)
def test_json_objects_round_trip_and_other_values_are_refused(value: object) -> None:
    parsed = parse_json_object(json.dumps(value))
    if isinstance(value, dict):
        assert parsed == value
    else:
        assert isinstance(parsed, str) and parsed.startswith("expected a JSON object")


# The per-record limit (INGEST_MAX_RECORD_BYTES)


def test_a_json_line_past_the_limit_is_refused_by_its_line_and_the_rest_is_read(
        tmp_path: Path) -> None:
    long = json.dumps({"id": "long", "output": "x" * 5000})
    path = write(tmp_path, "a.jsonl", f'{{"id": "a"}}\n{long}\n{{"id": "b"}}\n')
    read = [(r.number, r.data["id"] if r.data else r.error)
            for r in read_records(path, max_record_bytes=1024)]
    assert read[0] == (1, "a") and read[2] == (3, "b")
    assert read[1][0] == 2
    assert "4.9 kB" in str(read[1][1]) and "1.0 kB" in str(read[1][1])
    assert "INGEST_MAX_RECORD_BYTES" in str(read[1][1])


def test_a_huge_line_is_never_held_in_memory_whole(tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "big.jsonl"
    with path.open("w") as file:
        file.write('{"id": "a"}\n{"id": "huge", "output": "')
        for _ in range(64):
            file.write("y" * (1024 * 1024))
        file.write('"}\n{"id": "b"}\n')
    tracemalloc.start()
    try:
        read = [(r.number, r.data["id"] if r.data else "refused")
                for r in read_records(path, max_record_bytes=64 * 1024)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == [(1, "a"), (2, "refused"), (3, "b")]
    assert peak < 8 * 1024 * 1024  # the 64 MB line was read in chunks, not whole


def test_a_csv_row_past_the_limit_is_refused_by_its_line(tmp_path: Path) -> None:
    rows = [HEADER, "a,U1,clinical,p,o,2026-11-20T10:00:00Z",
            "big,U1,clinical,p," + "z" * 4000 + ",2026-11-20T10:00:00Z",
            '"multi",U1,clinical,p,"' + ("w" * 600 + "\n") * 4 + '",2026-11-20T10:00:00Z',
            "b,U1,clinical,p,o,2026-11-20T10:00:00Z"]
    path = write(tmp_path, "a.csv", "\n".join(rows) + "\n")
    read = [(r.number, r.data["id"] if r.data else r.error)
            for r in read_records(path, max_record_bytes=1024)]
    assert [number for number, _ in read] == [2, 3, 4, 9]
    assert read[0] == (2, "a") and read[3] == (9, "b")
    assert "more than the 1.0 kB" in str(read[1][1])
    assert "more than the 1.0 kB" in str(read[2][1])  # over several lines, counted together


def test_an_array_element_past_the_limit_is_refused_by_its_index() -> None:
    items = [{"id": "a"}, {"id": "big", "output": "x" * 3000}, {"id": "b"}]
    read = [(r.number, r.data["id"] if r.data else r.error)
            for r in records_from_json_array(items, max_record_bytes=1024)]
    assert read[0] == (0, "a") and read[2] == (2, "b")
    assert read[1][0] == 1 and "INGEST_MAX_RECORD_BYTES" in str(read[1][1])
