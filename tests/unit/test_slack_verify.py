"""The request gate's pure parts: Slack's signature, the body parser, response_url hosts, ids."""

import hashlib
import hmac
import logging
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.common.logs import ShortLines
from bot.slack.payloads import BadPayload, parse_id
from bot.slack.verify import BadBody, parse_slack_body, signature_problem, slack_response_url

SECRET = "s3cret"
NOW = 1_764_000_000.0


def _sign(body: bytes, timestamp: str) -> str:
    mac = hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + mac.hexdigest()


def test_a_body_slack_signed_now_passes() -> None:
    ts = str(int(NOW) - 10)
    assert signature_problem(SECRET, body=b"a=1", timestamp=ts, signature=_sign(b"a=1", ts),
                             now=NOW) is None


@pytest.mark.parametrize("timestamp", ["", " 1764000000", "1764000000\n", "1.76e9", "+1764000000",
                                       "١٧٦٤٠٠٠٠٠٠", "1_764_000_000", "9" * 40, None])
def test_a_timestamp_that_is_not_ascii_digits_is_refused_without_raising(
        timestamp: str | None) -> None:
    signature = _sign(b"a=1", timestamp or "")
    assert signature_problem(SECRET, body=b"a=1", timestamp=timestamp, signature=signature,
                             now=NOW) == "no whole-number timestamp"


@pytest.mark.parametrize("skew", [-301, 301, -10**9])
def test_a_timestamp_more_than_five_minutes_off_is_stale(skew: int) -> None:
    ts = str(int(NOW) + skew) if int(NOW) + skew >= 0 else "0"
    assert signature_problem(SECRET, body=b"", timestamp=ts, signature=_sign(b"", ts),
                             now=NOW) == "a stale timestamp"


@given(signature=st.text(max_size=80))
def test_any_other_signature_is_refused_without_raising(signature: str) -> None:
    ts = str(int(NOW))
    assert signature_problem(SECRET, body=b"a=1", timestamp=ts, signature=signature,
                             now=NOW) is not None


def test_a_replayed_signature_on_a_changed_body_is_refused() -> None:
    ts = str(int(NOW))
    assert signature_problem(SECRET, body=b"a=2", timestamp=ts, signature=_sign(b"a=1", ts),
                             now=NOW) == "a wrong signature"


@pytest.mark.parametrize("text", ["payload", "payload={}", '{"type": 1}', "{", "&command=/x"])
def test_a_slash_commands_text_stays_its_text(text: str) -> None:
    body = urlencode({"command": "/audit", "text": text, "user_id": "U1"}).encode()
    _, parsed = parse_slack_body(body, "application/x-www-form-urlencoded")
    assert parsed == {"command": "/audit", "text": text, "user_id": "U1"}


@pytest.mark.parametrize(("body", "content_type"), [
    (b"\xff\xfe", "application/json"), (b"[1, 2]", "application/json"),
    (b'"text"', "application/json"), (b"{not json", "application/json"),
    (b"payload=%7Bnot", "application/x-www-form-urlencoded"),
    (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
    (b"a=%ff", "application/x-www-form-urlencoded"),
    (b"a=1", "text/plain"), (b"a=1", None),
])
def test_what_is_not_a_slack_body_is_bad(body: bytes, content_type: str | None) -> None:
    with pytest.raises(BadBody):
        parse_slack_body(body, content_type)


@pytest.mark.parametrize(("url", "ok"), [
    ("https://hooks.slack.com/commands/T1/2/abc", True),
    ("http://127.0.0.1:5000/response/k", True),  # the configured API's host (the sandbox)
    ("http://hooks.slack.com/commands/T1/2/abc", False),
    ("https://hooks.slack.com.evil.example/x", False),
    ("https://user@hooks.slack.com/x", False),
    ("http://127.0.0.1:6000/internal", False),
    ("http://169.254.169.254/latest/meta-data", False),
    ("https://hooks.slack.com:99999/x", False),
    ("https://hooks.slack-gov.com/x", False),
    (None, False), (["https://hooks.slack.com/x"], False),
])
def test_only_slacks_response_urls_are_used(url: object, ok: bool) -> None:
    assert slack_response_url(url, api_url="http://127.0.0.1:5000/api/") is ok


def test_the_hooks_of_the_configured_slack_are_slacks() -> None:
    assert slack_response_url("https://hooks.slack-gov.com/commands/T1/2/x",
                              api_url="https://slack-gov.com/api/")
    assert slack_response_url("https://hooks.slack.com/commands/T1/2/x",
                              api_url="https://slack.com/api/")


@pytest.mark.parametrize("value", [" 1", "1 ", "٣", "²", "+1", "-1", "1_0", "0x1", "",
                                   str(10**30), "1" * 19, 1.0, True, None, [1]])
def test_an_id_is_plain_ascii_digits_of_bounded_length(value: object) -> None:
    with pytest.raises(BadPayload):
        parse_id(value, "a sample id")


def test_plain_ids_are_read() -> None:
    assert [parse_id("17", "x"), parse_id(17, "x"), parse_id("9" * 18, "x")] == [
        17, 17, int("9" * 18)]


def test_a_long_log_line_is_cut() -> None:
    record = logging.LogRecord("bolt", logging.WARNING, __file__, 1, "Unhandled request (%s)",
                               ("x" * 5000,), None)
    assert ShortLines(limit=100).filter(record)
    assert len(record.getMessage()) < 140 and record.getMessage().endswith("characters cut)")
