"""Ingesting files into a real database: reports, idempotence, conflicts, races, big inputs."""

import csv
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, func, select

from bot.services.ingest import (
    IngestReport,
    Rejection,
    batches,
    check_records,
    ingest,
    insert_new_outputs,
    read_ahead,
    read_records,
    records_from_json_array,
    store_checked,
    validate_record,
)
from bot.services.ingest_validate import ValidRecord
from bot.store.db import end_bulk_writes, for_bulk_writes, make_engine, upgrade
from bot.store.models import TrainerOutput

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ROSTER: dict[str, Any] = {
    "known_trainers": {"U0TRAINER1": frozenset({"clinical"}), "U0TRAINER2": frozenset({"legal"})},
    "known_task_types": frozenset({"clinical", "legal"}),
}


def output(id_: str, **changes: Any) -> dict[str, Any]:
    data = {
        "id": id_,
        "trainer": "U0TRAINER1",
        "task_type": "clinical",
        "prompt": f"prompt of {id_}",
        "output": f"output of {id_}",
        "created_at": "2026-11-20T14:03:00Z",
    }
    return data | changes


def jsonl(tmp_path: Path, *lines: dict[str, Any] | str, name: str = "outputs.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(ln if isinstance(ln, str) else json.dumps(ln) for ln in lines))
    return path


def run(session: Session, path: Path, **options: Any) -> IngestReport:
    report = ingest(session, read_records(path), **ROSTER, now=NOW, **options)
    session.commit()
    return report


def stored_ids(session: Session) -> list[str]:
    return sorted(session.exec(select(TrainerOutput.id)).all())


def test_good_records_are_stored_with_every_field(session: Session, tmp_path: Path) -> None:
    record = output(
        "out-1",
        created_at="2026-11-20T15:03:00+01:00",
        metadata={"project": "triage-v2", "tags": ["é", 1]},
        gold={"grade": "major", "note": "Recommends ibuprofen despite stated CKD"},
    )
    report = run(session, jsonl(tmp_path, record, output("out-2")))
    assert (report.read, report.stored, report.unchanged, report.rejected) == (2, 2, 0, [])
    assert report.ok
    assert report.summary_line() == "read 2, stored 2, unchanged 0, rejected 0"
    session.expire_all()
    row = session.get(TrainerOutput, "out-1")
    assert row is not None
    assert (row.trainer, row.task_type, row.prompt, row.output) == (
        "U0TRAINER1",
        "clinical",
        "prompt of out-1",
        "output of out-1",
    )
    assert row.created_at == datetime(2026, 11, 20, 14, 3, tzinfo=UTC)
    assert row.ingested_at == NOW
    assert json.loads(row.metadata_json or "") == {"project": "triage-v2", "tags": ["é", 1]}
    assert (row.gold_grade, row.gold_note) == ("major", "Recommends ibuprofen despite stated CKD")
    valid = validate_record(record, **ROSTER)
    assert isinstance(valid, ValidRecord) and row.content_hash == valid.content_hash
    plain = session.get(TrainerOutput, "out-2")
    assert plain is not None
    assert (plain.metadata_json, plain.gold_grade, plain.gold_note) == (None, None, None)


def test_bad_records_are_reported_by_line_and_the_good_ones_stored(
    session: Session, tmp_path: Path
) -> None:
    path = jsonl(
        tmp_path,
        output("ok-1"),
        output("bad-2", prompt=None),
        "",
        {k: v for k, v in output("bad-4").items() if k != "prompt"},
        output("bad-5", output="   "),
        output("bad-6", trainer="U0NOBODY"),
        output("bad-7", task_type="finance"),
        output("bad-8", task_type="legal"),
        output("bad-9", created_at="2026-11-20 14:03"),
        output("bad-10", created_at="20 Nov 2026"),
        output("bad-11", metadata=["x"]),
        output("bad-12", gold={"grade": "fail"}),
        output("bad-13", gold={"grade": "pass", "note": 7}),
        output("bad-14", reviewer="U0X"),
        output("x" * 201),
        "{broken",
        "[1, 2]",
        output("ok-18"),
    )
    report = run(session, path)
    assert report.rejected == [
        Rejection(2, "bad-2", "field `prompt` must be a string, got null"),
        Rejection(4, "bad-4", "missing field `prompt`"),
        Rejection(5, "bad-5", "empty `output`"),
        Rejection(6, "bad-6", "unknown trainer `U0NOBODY`"),
        Rejection(7, "bad-7", "unknown task type `finance`"),
        Rejection(8, "bad-8", "trainer `U0TRAINER1` is not assigned to task type `legal`"),
        Rejection(
            9,
            "bad-9",
            "bad `created_at` '2026-11-20 14:03': needs a timezone (`Z` or an offset like +01:00)",
        ),
        Rejection(
            10,
            "bad-10",
            "bad `created_at` '20 Nov 2026': expected ISO 8601 like 2026-11-20T14:03:00Z",
        ),
        Rejection(11, "bad-11", "`metadata` must be an object, got an array"),
        Rejection(12, "bad-12", "`gold.grade` must be one of pass, minor, major (got 'fail')"),
        Rejection(13, "bad-13", "field `gold.note` must be a string, got a number"),
        Rejection(14, "bad-14", "unknown field `reviewer`"),
        Rejection(15, None, "field `id` is longer than 200 characters (201)"),
        Rejection(
            16, None, "invalid JSON: Expecting property name enclosed in double quotes at column 2"
        ),
        Rejection(17, None, "expected a JSON object, got an array"),
    ]
    assert (report.read, report.stored, report.unchanged) == (17, 2, 0)
    assert not report.ok
    assert report.summary_line() == "read 17, stored 2, unchanged 0, rejected 15"
    assert stored_ids(session) == ["ok-1", "ok-18"]
    assert report.rejected[0].describe() == (
        "line 2 (bad-2): field `prompt` must be a string, got null"
    )


def test_csv_records_are_checked_and_stored_like_json_lines(
    session: Session, tmp_path: Path
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "id",
            "trainer",
            "task_type",
            "prompt",
            "output",
            "created_at",
            "metadata",
            "gold_grade",
            "gold_note",
        ]
    )
    good = ["U0TRAINER1", "clinical", "Dose?\nFor a child.", "250 mg", "2026-11-20T14:03:00Z"]
    writer.writerow(["out-1", *good, '{"project": "triage-v2"}', "minor", "Too vague"])
    writer.writerow(["out-2", *good, "", "", ""])
    writer.writerow(["bad-3", *good[:4], "2026-11-20T14:03:00", "", "", ""])
    writer.writerow(["bad-4", *good, '"just text"', "", ""])
    writer.writerow(["bad-5", *good, "{oops", "", ""])
    writer.writerow(["bad-6", *good, "", "", "a note without a grade"])
    writer.writerow(
        ["bad-7", "U0TRAINER1", "clinical", "", "x", "2026-11-20T14:03:00Z", "", "", ""]
    )
    path = tmp_path / "outputs.csv"
    path.write_text(buffer.getvalue(), newline="")
    report = run(session, path)
    assert [(r.number, r.id, r.reason.split(":")[0]) for r in report.rejected] == [
        (6, "bad-3", "bad `created_at` '2026-11-20T14"),
        (8, "bad-4", "`metadata` must be an object, got a string"),
        (10, None, "column `metadata` is not valid JSON"),
        (12, "bad-6", "`gold.grade` must be one of pass, minor, major (got '')"),
        (14, "bad-7", "empty `prompt`"),
    ]
    assert report.stored == 2
    row = session.get(TrainerOutput, "out-1")
    assert row is not None
    assert row.prompt == "Dose?\nFor a child."
    assert json.loads(row.metadata_json or "") == {"project": "triage-v2"}
    assert (row.gold_grade, row.gold_note) == ("minor", "Too vague")


def test_same_records_from_csv_and_json_lines_are_the_same_content(
    session: Session, tmp_path: Path
) -> None:
    record = output("out-1", metadata={"project": "x"}, gold={"grade": "pass"})
    run(session, jsonl(tmp_path, record))
    path = tmp_path / "outputs.csv"
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([*list(output("h"))[:6], "metadata", "gold_grade"])
        writer.writerow([*list(output("out-1").values()), '{"project": "x"}', "pass"])
    report = run(session, path)
    assert (report.stored, report.unchanged, report.rejected) == (0, 1, [])


def test_a_bad_csv_header_rejects_the_whole_file(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "outputs.csv"
    path.write_text("id,trainer,task_type,output,created_at\nout-1,U0TRAINER1,clinical,o,c\n")
    report = run(session, path)
    assert report.summary_line() == "read 1, stored 0, unchanged 0, rejected 1"
    assert report.rejected[0].number == 1
    assert report.rejected[0].reason.startswith("missing required column `prompt`")


def test_invalid_utf8_on_one_line_does_not_stop_the_others(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "outputs.jsonl"
    lines = [json.dumps(output(f"out-{n}")).encode() for n in range(1, 4)]
    lines[1] = lines[1].replace(b"prompt of", b"prompt \xe9 of")
    path.write_bytes(b"\n".join(lines))
    report = run(session, path)
    bad_byte = lines[1].index(b"\xe9") + 1
    assert report.rejected == [Rejection(2, None, f"invalid UTF-8 at byte {bad_byte}")]
    assert stored_ids(session) == ["out-1", "out-3"]


def test_second_ingest_of_a_file_stores_nothing_new(session: Session, tmp_path: Path) -> None:
    path = jsonl(tmp_path, *(output(f"out-{n}") for n in range(5)), "{bad")
    first, second = run(session, path), run(session, path)
    assert first.summary_line() == "read 6, stored 5, unchanged 0, rejected 1"
    assert second.summary_line() == "read 6, stored 0, unchanged 5, rejected 1"
    assert session.exec(select(func.count()).select_from(TrainerOutput)).one() == 5


def test_same_id_with_other_content_is_rejected_and_the_first_kept(
    session: Session, tmp_path: Path
) -> None:
    run(session, jsonl(tmp_path, output("out-1")))
    changed = output("out-1", output="a corrected answer")
    report = run(session, jsonl(tmp_path, output("out-2"), changed, name="second.jsonl"))
    assert report.rejected == [
        Rejection(2, "out-1", "id out-1 was already ingested with different content")
    ]
    assert report.stored == 1
    session.expire_all()
    kept = session.get(TrainerOutput, "out-1")
    assert kept is not None and kept.output == "output of out-1"


@pytest.mark.parametrize("batch_size", [1, 2, 500])
def test_duplicates_within_a_file_follow_the_same_rule(
    session: Session, tmp_path: Path, batch_size: int
) -> None:
    path = jsonl(
        tmp_path,
        output("out-1"),
        output("out-2"),
        output("out-1"),
        output("out-1", prompt="other"),
        output("out-2"),
    )
    report = run(session, path, batch_size=batch_size)
    assert (report.stored, report.unchanged) == (2, 2)
    assert report.rejected == [
        Rejection(4, "out-1", "id out-1 was already ingested with different content")
    ]


def test_a_100k_character_output_is_stored_whole(session: Session, tmp_path: Path) -> None:
    text = "".join(chr(0x20 + n % 0x2000) for n in range(150_000)).replace("\x7f", "x")
    prompt = "p\u2028" * 60_000
    run(session, jsonl(tmp_path, output("long", output=text, prompt=prompt)))
    session.expire_all()
    row = session.get(TrainerOutput, "long")
    assert row is not None
    assert row.output == text
    assert row.prompt == prompt


def test_existing_ids_are_looked_up_once_per_batch(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    path = jsonl(tmp_path, *(output(f"out-{n}") for n in range(1_200)))
    run(session, path)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    report = run(session, path, batch_size=500)
    assert report.unchanged == 1_200
    lookups = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(lookups) == 3  # batches of 500, 500 and 200


def test_nothing_is_kept_unless_the_caller_commits(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        report = ingest(session, read_records(jsonl(tmp_path, output("out-1"))), **ROSTER, now=NOW)
        assert report.stored == 1
        session.rollback()
        assert stored_ids(session) == []


def test_http_records_are_reported_by_array_index(session: Session) -> None:
    items: list[Any] = [output("out-0"), "nope", output("out-2", output="")]
    report = ingest(session, records_from_json_array(items), **ROSTER, now=NOW)
    assert report.rejected == [
        Rejection(1, None, "expected a JSON object, got a string"),
        Rejection(2, "out-2", "empty `output`"),
    ]
    assert report.rejected[1].describe("index") == "index 2 (out-2): empty `output`"


def test_a_row_inserted_by_someone_else_meanwhile_is_compared_not_duplicated(
    engine: Engine, session: Session
) -> None:
    """The race two concurrent ingests run: the lookup saw nothing, yet the insert clashes."""
    rows = [_row("out-1", "hash-1"), _row("out-2", "hash-2"), _row("out-3", "hash-3")]
    with Session(engine) as other:
        insert_new_outputs(other, [rows[1]])
        other.commit()
    assert insert_new_outputs(session, rows) == {"out-2": "hash-2"}
    session.commit()
    assert stored_ids(session) == ["out-1", "out-2", "out-3"]


def test_two_ingests_of_one_file_at_once_store_each_record_once(
    engine: Engine, tmp_path: Path
) -> None:
    path = jsonl(tmp_path, *(output(f"out-{n}") for n in range(300)))
    reports: list[IngestReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            with Session(engine) as session:
                start.wait()
                reports.append(run(session, path, batch_size=50))
        except BaseException as error:  # surfaced below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted((r.stored, r.unchanged, len(r.rejected)) for r in reports) == [
        (0, 300, 0),
        (300, 0, 0),
    ]
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(TrainerOutput)).one() == 300


def _row(id_: str, digest: str) -> dict[str, Any]:
    return {
        "id": id_,
        "trainer": "U0TRAINER1",
        "task_type": "clinical",
        "prompt": "p",
        "output": "o",
        "created_at": NOW,
        "content_hash": digest,
        "ingested_at": NOW,
    }


def test_bad_lines_in_the_middle_of_a_batch_are_named_and_the_rest_of_it_stored(
    session: Session, tmp_path: Path
) -> None:
    lines: list[dict[str, Any] | str] = [output(f"out-{n}") for n in range(12)]
    lines[3] = '{"id": "out-3", "trainer": '  # broken JSON
    lines[5] = output("out-5", prompt=None)
    lines[6] = output("out-6", output="ça\x00")  # outside ASCII: checked field by field
    lines[7] = output("out-7", output="ça va, 五百毫克")  # fine
    lines[9] = output("out-9", created_at="2026-11-20")
    report = run(session, jsonl(tmp_path, *lines), batch_size=4)
    assert [(r.number, r.id, r.reason) for r in report.rejected] == [
        (4, None, "invalid JSON: Expecting value at column 28"),
        (6, "out-5", "field `prompt` must be a string, got null"),
        (7, "out-6", "field `output` contains a NUL character"),
        (10, "out-9", "bad `created_at` '2026-11-20': needs a timezone (`Z` or an offset "
                      "like +01:00)"),
    ]
    assert report.summary_line() == "read 12, stored 8, unchanged 0, rejected 4"
    assert stored_ids(session) == sorted(f"out-{n}" for n in (0, 1, 2, 4, 7, 8, 10, 11))
    kept = session.get(TrainerOutput, "out-7")
    assert kept is not None and kept.output == "ça va, 五百毫克"


def test_a_file_committed_in_batches_counts_a_repeat_across_them_once(
    engine: Engine, tmp_path: Path
) -> None:
    """What `auditbot ingest` does: each batch checked, then stored in its own transaction."""
    path = jsonl(tmp_path, output("out-1"), output("out-2"), output("out-3"),
                 output("out-2"), output("out-4"), output("out-1", prompt="changed"),
                 output("out-5"))
    total = IngestReport()
    for batch in batches(read_records(path), size=3):
        checked = check_records(batch, **ROSTER)
        with Session(engine) as session:
            total.add(store_checked(session, checked, now=NOW))
            session.commit()
    assert total.summary_line() == "read 7, stored 5, unchanged 1, rejected 1"
    assert total.rejected == [
        Rejection(6, "out-1", "id out-1 was already ingested with different content")]
    with Session(engine) as session:
        assert stored_ids(session) == [f"out-{n}" for n in range(1, 6)]


def test_a_batch_meeting_a_stored_id_keeps_the_batches_before_it_in_its_transaction(
    session: Session, tmp_path: Path
) -> None:
    """On PostgreSQL a batch of new ids is copied straight in, and one meeting a stored id
    is taken back (to its savepoint) and goes through the staging table: the batches stored
    before it in the same transaction stay, and nothing is doubled."""
    run(session, jsonl(tmp_path, output("out-4")))
    path = jsonl(tmp_path, *(output(f"out-{n}") for n in range(6)), name="all.jsonl")
    report = run(session, path, batch_size=3)  # out-0..2 all new, then out-3..5 with out-4
    assert report.summary_line() == "read 6, stored 5, unchanged 1, rejected 0"
    assert stored_ids(session) == [f"out-{n}" for n in range(6)]


def test_a_run_stopped_after_some_batches_is_completed_by_running_it_again(
    engine: Engine, tmp_path: Path
) -> None:
    path = jsonl(tmp_path, *(output(f"out-{n}") for n in range(10)))
    first, second, _ = batches(read_records(path), size=4)
    with Session(engine) as session:  # committed before the "crash"
        store_checked(session, check_records(first, **ROSTER), now=NOW)
        session.commit()
    with Session(engine) as session:  # under way when it stopped: never committed
        store_checked(session, check_records(second, **ROSTER), now=NOW)
        session.rollback()
    with Session(engine) as session:
        report = run(session, path)
        assert report.summary_line() == "read 10, stored 6, unchanged 4, rejected 0"
        assert stored_ids(session) == sorted(f"out-{n}" for n in range(10))


def test_a_transaction_past_its_time_stops_after_a_batch_and_leaves_the_rest(
    engine: Engine, tmp_path: Path
) -> None:
    """A slow machine: `auditbot ingest` commits what it has stored when its time is up and
    goes on in the next transaction, so nobody waits for a whole batch of the file."""
    lines = [output(f"out-{n}") for n in range(7)] + ["{bad"]
    checked = check_records(read_records(jsonl(tmp_path, *lines)), **ROSTER)
    reports = []
    while checked.read or checked.good:
        with Session(engine) as session:
            reports.append(store_checked(session, checked, now=NOW, batch_size=3, until=0.0))
            session.commit()
    assert [(r.read, r.stored, len(r.rejected)) for r in reports] == [
        (8, 3, 1), (0, 3, 0), (0, 1, 0)]
    with Session(engine) as session:
        assert stored_ids(session) == sorted(f"out-{n}" for n in range(7))


def test_read_ahead_produces_the_next_item_while_the_caller_holds_this_one() -> None:
    second_made = threading.Event()
    makers: list[str] = []

    def items() -> Iterator[int]:
        for n in range(3):
            makers.append(threading.current_thread().name)
            if n == 1:
                second_made.set()
            yield n

    seen = []
    for item in read_ahead(items()):
        if item == 0:  # without reading ahead, item 1 is made only after this returns
            assert second_made.wait(timeout=10)
        seen.append(item)
    assert seen == [0, 1, 2]
    assert all(name.startswith("ingest-read") for name in makers)


def test_read_ahead_raises_an_error_in_the_place_of_its_item() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise OSError("unreadable")

    seen = []
    with pytest.raises(OSError, match="unreadable"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1]


def test_a_bulk_ingest_on_sqlite_leaves_the_wal_checkpointed(tmp_path: Path) -> None:
    """Its commits leave the WAL be (the pause between transactions checkpoints it); after
    the last, ``end_bulk_writes`` copies it into the database file, so the next writer (a
    grade, in another process that keeps the store open) has none of it to do."""
    database = tmp_path / "bulk.db"
    upgrade(make_engine(f"sqlite:///{database}"))
    keeps_it_open = make_engine(f"sqlite:///{database}").connect()  # no checkpoint on close
    engine = for_bulk_writes(make_engine(f"sqlite:///{database}"))
    path = jsonl(tmp_path, *(output(f"out-{n}", output="words " * 400) for n in range(300)))
    with Session(engine) as session:
        run(session, path)
    before = database.stat().st_size
    end_bulk_writes(engine)
    assert database.stat().st_size > before + 300 * 2000  # the outputs are in the file now
    keeps_it_open.close()
