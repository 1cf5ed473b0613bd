"""`POST /api/outputs` over HTTP against the running app: the contract's answers, and what
each one stored."""

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

from bot.fronts.web_ingest import INGEST_PATH, MAX_BODY_BYTES
from bot.store.models import TrainerOutput
from tests.support.busy_store import impatient, store_locked
from tests.support.factories import TRAINER1, TRAINER2, week_of_records
from tests.support.harness import RunningBot

TOKEN = "ingest-token-for-tests"


@pytest.fixture
def api(bot: RunningBot) -> Iterator[RunningBot]:
    """The running bot with INGEST_TOKEN set."""
    bot.ctx.settings = bot.ctx.settings.model_copy(update={"ingest_token": TOKEN})
    yield bot


def post(bot: RunningBot, body: bytes | Any, *, token: str | None = TOKEN,
         headers: dict[str, str] | None = None, chunked: bool = False) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    address = urlsplit(bot.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        if chunked:
            sent["Transfer-Encoding"] = "chunked"
            connection.request("POST", INGEST_PATH, body=iter([data]), headers=sent,
                               encode_chunked=True)
        else:
            connection.request("POST", INGEST_PATH, body=data, headers=sent)
        answer = connection.getresponse()
        raw = answer.read()
    finally:
        connection.close()
    try:
        return answer.status, json.loads(raw)
    except json.JSONDecodeError:
        return answer.status, raw.decode("utf-8", "replace")


def stored_ids(bot: RunningBot) -> set[str]:
    with Session(bot.ctx.engine) as session:
        return set(session.exec(select(TrainerOutput.id)).all())


def test_all_good_records_are_stored_with_counts_and_a_resend_changes_nothing(api):
    records = week_of_records(api.ctx.clock.now(), count=3)
    status, body = post(api, records)
    assert (status, body) == (200, {"read": 3, "stored": 3, "unchanged": 0, "rejected": []})
    assert stored_ids(api) == {r["id"] for r in records}

    status, body = post(api, records)
    assert (status, body["stored"], body["unchanged"]) == (200, 0, 3)


def test_bad_records_are_listed_by_index_and_reason_and_the_good_ones_stored(api):
    good = week_of_records(api.ctx.clock.now(), trainer=TRAINER2, task_type="legal", count=2)
    stranger = {**good[0], "id": "out-stranger", "trainer": "U0NOBODY01"}
    status, body = post(api, [good[0], stranger, "not a record", good[1]])
    assert status == 422
    assert (body["read"], body["stored"]) == (4, 2)
    assert [(r["index"], r["id"]) for r in body["rejected"]] == [
        (1, "out-stranger"), (2, None)]
    assert "U0NOBODY01" in body["rejected"][0]["reason"]
    assert "object" in body["rejected"][1]["reason"]
    assert stored_ids(api) == {good[0]["id"], good[1]["id"]}


@pytest.mark.parametrize("token, headers", [
    (None, {}),
    ("wrong-token", {}),
    (None, {"Authorization": f"Basic {TOKEN}"}),
    (None, {"Authorization": f"Bearer {TOKEN}x"}),
])
def test_without_the_right_bearer_token_the_answer_is_401_and_nothing_is_stored(
        api, token, headers):
    status, body = post(api, week_of_records(api.ctx.clock.now(), count=1), token=token,
                        headers=headers)
    assert status == 401
    assert "Bearer" in body["error"]
    assert stored_ids(api) == set()


def test_without_an_ingest_token_configured_the_endpoint_does_not_exist(bot):
    status, _ = post(bot, week_of_records(bot.ctx.clock.now(), count=1))
    assert status == 404
    assert stored_ids(bot) == set()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_past_the_limit_is_refused_with_413(api, chunked):
    record = json.dumps(week_of_records(api.ctx.clock.now(), count=1)[0])
    copies = MAX_BODY_BYTES // len(record) + 1
    body = ("[" + ",".join([record] * copies) + "]").encode()
    assert len(body) > MAX_BODY_BYTES
    status, answer = post(api, body, chunked=chunked)
    assert status == 413
    assert "10 MB" in answer["error"]
    assert stored_ids(api) == set()


@pytest.mark.parametrize("body, reason", [
    (b'{"id": "out-1"}', "expected a JSON array of records, got an object"),
    (b"[{]", "invalid JSON"),
    (b'[{"id": "a", "id": "b"}]', "duplicate key"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_a_body_that_is_not_a_json_array_is_a_bad_request(api, body, reason):
    status, answer = post(api, body)
    assert status == 400
    assert reason in answer["error"]
    assert stored_ids(api) == set()


def test_records_pushed_over_http_are_audited_like_ingested_ones(api):
    post(api, week_of_records(api.ctx.clock.now(), trainer=TRAINER1, count=2))
    summary = api.run_audit()
    assert [(r.trainer, r.samples) for r in summary.posted] == [(TRAINER1, 2)]


def test_a_record_past_the_per_record_limit_is_refused_by_its_index(api):
    api.ctx.settings = api.ctx.settings.model_copy(update={"ingest_max_record_bytes": 4096})
    records = week_of_records(api.ctx.clock.now(), count=3)
    records[1]["output"] = "x" * 10_000
    status, body = post(api, records)
    assert status == 422
    assert (body["read"], body["stored"]) == (3, 2)
    [refused] = body["rejected"]
    assert refused["index"] == 1 and "INGEST_MAX_RECORD_BYTES" in refused["reason"]
    assert stored_ids(api) == {records[0]["id"], records[2]["id"]}


def test_a_store_that_stays_busy_is_answered_503_with_retry_after_and_nothing_stored(api):
    api.ctx.engine = impatient(api.ctx.engine)
    records = week_of_records(api.ctx.clock.now(), count=2)
    with store_locked(api.ctx.engine, table="trainer_output"):
        status, body = post(api, records)
    assert status == 503 and "busy" in body["error"]
    assert stored_ids(api) == set()
    status, body = post(api, records)
    assert (status, body["stored"]) == (200, 2)
