"""Block Kit for disputes, the grader's note and the alerts, against Slack's limits."""

from datetime import UTC, datetime

from bot.sandbox.blockkit import validate_message_blocks, validate_view
from bot.services.calibration import CalibrationReveal, GraderFeedback, ReviewerCalibration
from bot.services.consistency import ReviewerAgreement, TaskAgreement
from bot.services.disputes import DisputeView, Review, Settlement
from bot.slack.blocks import GradeLine, SampleCard, sample_reply
from bot.slack.consistency_blocks import agreement_alert, calibration_alert, grader_note
from bot.slack.dispute_blocks import (
    LIST_SHOWN,
    dispute_opened,
    dispute_status_line,
    disputes_list,
    settle_modal,
    settlement_dm,
)
from bot.slack.payloads import parse_settlement, settle_metadata

LONG = "<!channel> *loud* " + "x" * 5000
WHEN = datetime(2026, 11, 23, 14, tzinfo=UTC)


def _view(sample_id: int = 7, *, settled: bool = False, text: str = "Wrong dose for CKD.") -> \
        DisputeView:
    return DisputeView(
        sample_id=sample_id, task_type="clinical", trainer="U0TRAINER1", week="2026-W48",
        position=1, count=5, output_id="out-<1>", channel="C0CLINICAL", message_ts="1.2",
        reviews=(Review("U0NURSE01", "pass", None, None),
                 Review("U0MDOCTOR", "major", "Unsafe advice" * 10, text)),
        settlement=Settlement("U0MANAGER1", "major", text, WHEN) if settled else None)


def _card(**changes) -> SampleCard:
    fields = dict(sample_id=7, position=0, count=5, output_id="out-1", trainer="U0TRAINER1",
                  task_name="Clinical NLP", prompt="p", output="o", created_at="2026-11-20",
                  project=None, needs_double_review=True, grades=())
    fields.update(changes)
    return SampleCard(**fields)


def _context(blocks: list[dict]) -> str:
    return " ".join(e.get("text", "") for b in blocks if b["type"] == "context"
                    for e in b["elements"])


def test_a_double_review_shows_no_grade_until_both_are_in():
    one = [GradeLine("U0NURSE01", "major", "Unsafe advice", "Wrong dose for CKD stage 3.")]
    _, blocks = sample_reply(_card(grades=one))
    shown = _context(blocks)
    assert "1 of 2 reviews in" in shown and "hidden" in shown
    assert "U0NURSE01" not in shown and "Major" not in shown and "Wrong dose" not in shown
    two = [*one, GradeLine("U0MDOCTOR", "pass", None, None)]
    _, blocks = sample_reply(_card(grades=two))
    assert "2 of 2 reviews in" in _context(blocks) and "Wrong dose" in _context(blocks)
    assert "U0MDOCTOR" in _context(blocks)


def test_a_sample_shows_its_dispute_and_its_settlement():
    grades = [GradeLine("U0NURSE01", "pass", None, None),
              GradeLine("U0MDOCTOR", "major", "Unsafe advice", "Wrong dose.")]
    _, blocks = sample_reply(_card(grades=grades, dispute=dispute_status_line(_view())))
    assert "Disputed" in _context(blocks) and validate_message_blocks(blocks) == []
    line = dispute_status_line(_view(settled=True, text=LONG))
    _, blocks = sample_reply(_card(grades=grades, dispute=line))
    assert "Settled" in _context(blocks) and validate_message_blocks(blocks) == []
    assert "<!channel>" not in _context(blocks)
    assert dispute_status_line(None) is None


def test_the_disputes_list_stays_within_a_messages_limits():
    text, blocks = disputes_list([_view(i, text=LONG) for i in range(30)],
                                 task_names={"clinical": "Clinical NLP"}, can_settle=True)
    assert text == "30 open disputes" and validate_message_blocks(blocks) == []
    settles = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(settles) == LIST_SHOWN and "22 more not shown" in _context(blocks)
    assert "<!channel>" not in str(blocks)


def test_the_empty_list_and_the_read_only_list():
    text, blocks = disputes_list([], task_names={}, can_settle=True)
    assert text == "No open disputes." and validate_message_blocks(blocks) == []
    _, blocks = disputes_list([_view()], task_names={}, can_settle=False)
    assert not [b for b in blocks if b["type"] == "actions"]


def test_the_settle_modal_is_valid_and_its_submission_parses():
    view = settle_modal(_view(text=LONG), task_name="Clinical NLP",
                        private_metadata=settle_metadata(sample_id=7, channel="D0MANAGER"))
    assert validate_view(view) == []
    body = {"user": {"id": "U0MANAGER1"}, "view": {
        "private_metadata": view["private_metadata"], "state": {"values": {
            "settle_grade": {"settle_grade": {"selected_option": {"value": "minor"}}},
            "settle_note": {"settle_note": {"value": "Half right, half wrong."}}}}}}
    parsed = parse_settlement(body)
    assert (parsed.sample_id, parsed.grade, parsed.note, parsed.channel) == (
        7, "minor", "Half right, half wrong.", "D0MANAGER")


def test_the_dms_are_valid():
    for text, blocks in (dispute_opened(_view(text=LONG), task_name="Clinical NLP"),
                         settlement_dm(_view(settled=True, text=LONG), task_name="Clinical NLP",
                                       reviewer="U0NURSE01")):
        assert text and validate_message_blocks(blocks) == []
    _, blocks = settlement_dm(_view(settled=True), task_name="Clinical NLP",
                              reviewer="U0NURSE01")
    assert "differs from the decision" in _context(blocks)


def test_the_grader_note_says_only_what_applies():
    reveal = CalibrationReveal("major", LONG, "pass", "missed", "pass")
    text, blocks = grader_note(GraderFeedback(7, "U0NURSE01", "pass", reveal, "waiting"))
    assert "Calibration item" in text and validate_message_blocks(blocks) == []
    assert "missed" in blocks[0]["text"]["text"] and "stay hidden" in blocks[0]["text"]["text"]
    assert grader_note(GraderFeedback(7, "U0NURSE01", "pass", None, None)) is None


def test_the_alerts_are_valid():
    agreement = TaskAgreement("clinical", "Clinical NLP", ("2026-W45", "2026-W48"), 24, 0.41,
                              0.5, (ReviewerAgreement("U0NURSE01", 24, 12),), 0.667, 20)
    text, blocks = agreement_alert(agreement)
    assert "0.41" in text and validate_message_blocks(blocks) == []
    calibration = ReviewerCalibration("U0NURSE01", "clinical", 10, 5, 3, 4, 1, 0.7, 10)
    text, blocks = calibration_alert(calibration, task_name="Clinical NLP")
    assert "50%" in text and validate_message_blocks(blocks) == []
