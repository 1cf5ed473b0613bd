"""The hostile suite: what anyone on the internet can send to /slack/events, through the real
HTTP stack into the running bot. For every case: no 5xx, no traceback in the log, nothing
from an unverified request (no Web API call, no response_url post, no outbound request, no
row), a signed but malformed request changes nothing and, where a person waits, answers.
"""

import json
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.factories import CLINICAL_CHANNEL, NURSE, OUTSIDER
from tests.support.harness import RunningBot
from tests.web.hostile import (
    FORM,
    JSON,
    Outbound,
    Watch,
    form,
    outbound,  # noqa: F401  (fixture)
    payload_form,
    post,
    quiet_logs,
    signed,
)

HOSTILE = settings(max_examples=40, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])
REFUSED = {"error": "invalid request"}
CONTENT_TYPES = st.sampled_from([FORM, JSON, "text/plain", None,
                                 "application/json; charset=utf-8", "multipart/form-data"])


def forged_bodies(internal: str) -> st.SearchStrategy[bytes]:
    """Bodies that name a real person, channel and an internal response_url, as JSON, as a
    form, as an interaction; and bodies Bolt's parser chokes on."""
    person = {"user": {"id": NURSE}, "user_id": NURSE, "channel": {"id": CLINICAL_CHANNEL},
              "channel_id": CLINICAL_CHANNEL, "response_url": internal, "command": "/audit"}
    click = {"type": "block_actions", "user": {"id": NURSE}, "response_url": internal,
             "channel": {"id": CLINICAL_CHANNEL}, "trigger_id": "1.2.3",
             "actions": [{"action_id": "grade_pass", "value": "1"}]}
    return st.one_of(
        st.just(json.dumps(person).encode()),
        st.just(form({k: v for k, v in person.items() if isinstance(v, str)}
                     | {"text": "status"})),
        st.just(payload_form(click)),
        st.just(payload_form({**click, "type": "view_submission", "view": {"id": "V1"}})),
        st.just(form({"command": "/audit", "user_id": NURSE, "channel_id": CLINICAL_CHANNEL,
                      "response_url": internal, "text": "payload"})),
        st.just(b"payload=%7Bnot json"),            # payload= with malformed JSON
        st.just(b"{not json at all"),               # starts with { but is not JSON
        st.just(b"token=x&user_id=U1"),             # a form body sent as JSON
        st.just(b"\xff\xfe{\x80payload=\xc3("),     # not UTF-8
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
    )


NON_NUMERIC_TIMESTAMPS = st.one_of(
    st.sampled_from(["", " 1764000000", "1764000000 ", "1.7e9", "+1764000000", "0x69",
                     "1_764_000_000", "NaN", "-", "9" * 40, "١٧٦٤٠٠٠٠٠٠"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=20)
    .filter(lambda s: not s.isascii() or not s.isdigit()),
)


@st.composite
def broken_signatures(draw: st.DrawFn, body: bytes) -> dict[str, str | bytes]:
    """Headers that do not prove Slack sent ``body`` now."""
    now = int(time.time())
    kind = draw(st.sampled_from(["missing", "no signature", "wrong secret", "stale", "future",
                                 "non-numeric timestamp", "replayed, body changed",
                                 "malformed signature", "non-latin signature"]))
    if kind == "missing":
        return {}
    if kind == "no signature":
        return {"X-Slack-Request-Timestamp": str(now)}
    if kind == "wrong secret":
        return signed(body, secret="not-the-secret")
    if kind in ("stale", "future"):
        return signed(body, timestamp=str(now + (-1 if kind == "stale" else 1) *
                                          draw(st.integers(301, 10**9))))
    if kind == "non-numeric timestamp":
        timestamp = draw(NON_NUMERIC_TIMESTAMPS)
        headers: dict[str, str | bytes] = dict(signed(body, timestamp=timestamp))
        headers["X-Slack-Request-Timestamp"] = timestamp.encode("utf-8")
        return headers
    if kind == "replayed, body changed":
        return signed(body + b"&text=run", timestamp=str(now - draw(st.integers(0, 200))))
    if kind == "malformed signature":
        return {**signed(body), "X-Slack-Signature": draw(st.sampled_from(
            ["v0=", "v0=zz", "v1=" + "0" * 64, "v0=" + "0" * 63, "0" * 67, "v0=" + "A" * 64]))}
    return {**signed(body), "X-Slack-Signature": "v0=ää".encode()}


@given(data=st.data(), content_type=CONTENT_TYPES)
@HOSTILE
def test_an_unverified_request_gets_401_and_nothing_else(
        bot: RunningBot, outbound: Outbound, caplog: pytest.LogCaptureFixture,  # noqa: F811
        data: st.DataObject, content_type: str | None) -> None:
    quiet_logs(caplog)
    body = data.draw(forged_bodies(outbound.url), label="body")
    headers = data.draw(broken_signatures(body), label="headers")
    with Watch(bot, caplog, outbound) as watch:
        status, answer = post(bot, body, headers=headers, content_type=content_type)
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    if status == 400:  # a header HTTP does not allow (a control character): waitress refused
        assert refusals == []
    else:
        assert (status, json.loads(answer)) == (401, REFUSED)
        assert len(refusals) == len(caplog.records) == 1
    watch.assert_no_outside_effect()
    watch.assert_store_unchanged()
    watch.assert_no_traceback()
    assert all(len(r.getMessage()) < 200 for r in caplog.records)


@pytest.mark.parametrize("content_type", [FORM, JSON])
def test_a_non_numeric_timestamp_reaches_nobody(
        bot: RunningBot, outbound: Outbound, caplog: pytest.LogCaptureFixture,  # noqa: F811
        content_type: str) -> None:
    """slack_sdk's verifier raises on it; the error path used to answer whoever the body
    named: an ephemeral in the channel and a POST to its response_url."""
    quiet_logs(caplog)
    fields = {"command": "/audit", "text": "status", "user_id": NURSE,
              "channel_id": CLINICAL_CHANNEL, "response_url": outbound.url}
    interaction = {"type": "block_actions", "user": {"id": NURSE}, "trigger_id": "1.2",
                   "channel": {"id": CLINICAL_CHANNEL}, "response_url": outbound.url,
                   "actions": [{"action_id": "grade_pass", "value": "1"}]}
    for body in (form(fields), payload_form(interaction), json.dumps(fields).encode()):
        with Watch(bot, caplog, outbound) as watch:
            status, _ = post(bot, body, headers={"X-Slack-Request-Timestamp": "now",
                                                 "X-Slack-Signature": "v0=00"},
                             content_type=content_type)
        assert status == 401
        watch.assert_no_outside_effect()
        watch.assert_no_traceback()


def signed_malformed_payloads(internal: str) -> st.SearchStrategy[tuple[bytes, str]]:
    """Signed (so from Slack, as far as anyone can tell) but not what auditbot sent out."""
    ids = st.one_of(st.sampled_from([" 1", "1 ", "٣", "١", "²", "+1", "-1", "1_0", "0x1",
                                     str(10**30), "", "1.0", "1e3", "99999999999999999999"]),
                    st.integers(min_value=10**18), st.none(), st.booleans(), st.lists(st.text()))
    junk = st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers()),
                     st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
    user = st.one_of(st.just({"id": NURSE}), st.just({"id": OUTSIDER}), junk)
    actions = st.builds(lambda a, v: [{"action_id": a, "value": v, "type": "button"}],
                        st.sampled_from(["grade_pass", "grade_minor", "escalation_ack",
                                         "escalation_resolve", "show_full", "dispute_settle",
                                         "home_page-queue-next", "show_chart",
                                         "precedent_save"]), ids)
    click = st.fixed_dictionaries(
        {"type": st.just("block_actions"), "user": user,
         "actions": st.one_of(actions, junk, st.just([]), st.just([None]))},
        optional={"channel": junk, "container": junk, "message": junk, "trigger_id": junk})
    metadata = st.one_of(
        st.just("{damaged"), st.just("[]"), st.just('"x"'), st.just("null"),
        st.builds(lambda i: json.dumps({"sample_id": i, "grade": "minor",
                                        "task_type": "clinical"}), ids),
        st.builds(lambda i: json.dumps({"escalation_id": i}), ids), junk)
    submission = st.fixed_dictionaries({
        "type": st.just("view_submission"), "user": user,
        "view": st.fixed_dictionaries({
            "callback_id": st.sampled_from(["grade_modal", "resolve_modal",
                                            "dispute_settle_modal", "precedent_modal"]),
            "private_metadata": metadata,
            "state": st.one_of(junk, st.builds(
                lambda block, value: {"values": {block: {block: {
                    "type": "plain_text_input", "value": value,
                    "selected_option": value}}}},
                st.sampled_from(["explanation", "note", "category", "settle_grade", "settle_note",
                                 "precedent_category", "precedent_ruling",
                                 "precedent_rationale"]),
                st.one_of(st.just("x" * 30), junk))),
            "blocks": st.just([{"type": "input", "block_id": "explanation",
                                "element": {"type": "plain_text_input",
                                            "action_id": "explanation"},
                                "label": {"type": "plain_text", "text": "Why"}}])})})
    event = st.fixed_dictionaries({
        "type": st.just("event_callback"), "team_id": st.just("T0SANDBOX"),
        "event": st.one_of(junk, st.fixed_dictionaries({
            "type": st.just("app_home_opened"), "user": junk, "tab": junk}))})
    top = st.one_of(junk, st.lists(junk, max_size=3), click, submission)
    return st.one_of(
        st.builds(lambda p: (payload_form(p), FORM), top),
        st.builds(lambda e: (json.dumps(e).encode(), JSON), st.one_of(event, junk)),
        st.just((b"payload=%7Bnot json", FORM)),
        st.just((b"payload=%5B1%2C2%5D", FORM)),
        st.just((b"{not json", JSON)),
        st.just((b"\xff\xfepayload=\xc3(", FORM)),
        st.just((b"a=%ff%fe", FORM)),
        st.just((b"[1, 2]", JSON)),
        st.just((payload_form({"type": "block_actions", "user": {"id": NURSE},
                               "response_url": internal, "actions": [{
                                   "action_id": "grade_pass", "value": "1"}]}), FORM)),
        st.just((form({"command": "/audit", "text": "status", "response_url": internal}),
                 FORM)),
    )


@given(data=st.data())
@HOSTILE
def test_a_signed_malformed_request_is_never_a_5xx_and_changes_nothing(
        bot: RunningBot, outbound: Outbound, caplog: pytest.LogCaptureFixture,  # noqa: F811
        data: st.DataObject) -> None:
    quiet_logs(caplog)
    body, content_type = data.draw(signed_malformed_payloads(outbound.url), label="body")
    with Watch(bot, caplog, outbound) as watch:
        status, _ = post(bot, body, headers=signed(body), content_type=content_type)
    assert status in (200, 400, 404)
    watch.assert_store_unchanged()
    watch.assert_no_traceback()
    assert outbound.hits == []


def test_a_body_over_the_cap_gets_413_and_stays_out_of_the_log(
        bot: RunningBot, outbound: Outbound, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    quiet_logs(caplog)
    huge = b"payload=" + b"A" * (10 * 1024 * 1024)
    with Watch(bot, caplog, outbound) as watch:
        unsigned = post(bot, huge, headers={"X-Slack-Request-Timestamp": "x"})
        signed_big = post(bot, huge, headers=signed(huge))
    assert [unsigned[0], signed_big[0]] == [413, 413]
    watch.assert_no_outside_effect()
    assert len(watch.log_text()) < 2000
    watch.assert_no_traceback()


FIELD_LIKE = st.sampled_from([
    "payload", "payload=%7B%7D", 'payload={"type":"block_actions"}', "&command=/other",
    "token=x&user_id=U0MANAGER1", '{"type": "event_callback"}', "{", "response_url=http://x",
    "status payload", "precedents payload { [", "help&text=run", "status <@U0NOBODY|payload>",
])
SLASH_TEXTS = st.one_of(
    FIELD_LIKE,
    st.lists(st.one_of(FIELD_LIKE, st.text(min_size=1, max_size=30)), max_size=6).map(" ".join),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=4000),
)


@given(text=SLASH_TEXTS)
@example(text="x" * 4000)
@example(text="٣" * 4000)
@example(text="status " + "<@U0TRAINER1|payload>" * 150)
@HOSTILE
def test_whatever_a_slash_command_says_it_reaches_audit_and_gets_an_answer(
        bot: RunningBot, caplog: pytest.LogCaptureFixture, text: str) -> None:
    answers_before = len(bot.sandbox.responses())
    response = bot.driver.slash_command(NURSE, text)
    assert response.status == 200
    assert response.delivery_error is None
    if not response.body.strip():  # answered after the ack, through the response_url
        bot.wait_listeners()
        answers = bot.sandbox.responses()[answers_before:]
        assert [a.status for a in answers] == [200]
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


def test_a_signed_request_nobody_handles_is_logged_in_one_short_line(
        bot: RunningBot, outbound: Outbound, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    quiet_logs(caplog)
    body = payload_form({"type": "block_actions", "user": {"id": NURSE},
                         "actions": [{"action_id": "no_such_" + "A" * 200_000}]})
    with Watch(bot, caplog, outbound) as watch:
        status, _ = post(bot, body, headers=signed(body))
    assert status == 404  # Bolt's answer when no listener matches: Slack shows nothing
    watch.assert_store_unchanged()
    assert max(len(r.getMessage()) for r in caplog.records) < 1200
