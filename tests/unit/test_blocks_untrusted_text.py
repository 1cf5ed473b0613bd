"""Text the bot does not control (pipeline ids and metadata, notes people type, config names,
long rosters) cannot break a message Slack would otherwise accept, nor ping anyone."""

import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.blockkit import validate_message_blocks, validate_view
from bot.services.consistency import ReviewerAgreement, TaskAgreement
from bot.services.disputes import DisputeView, Review, Settlement
from bot.slack.blocks import SampleCard, audit_parent, escape_cut, full_output_modal, sample_reply
from bot.slack.consistency_blocks import agreement_alert
from bot.slack.dispute_blocks import settlement_dm
from bot.slack.escalation_blocks import (
    EscalationCard,
    WorstLine,
    escalation_closed,
    escalation_notice,
    watch_fyi,
)

WHEN = datetime(2026, 11, 23, 14, tzinfo=UTC)
# A note at the modals' 2,000-character limit that doubles in length once escaped.
MARKUP_NOTE = ("Q&A <ul>/<li> lists & R&D refs. " * 70)[:2000]
SPECIAL = re.compile(r"[&<>]")


def _text(blocks: list[dict]) -> str:
    return str(blocks)


def _card(**changes) -> SampleCard:
    fields = dict(sample_id=7, position=0, count=5, output_id="out-1", trainer="U0TRAINER1",
                  task_name="Clinical NLP", prompt="p", output="o", created_at="2026-11-20",
                  project=None, needs_double_review=False, grades=())
    fields.update(changes)
    return SampleCard(**fields)


def _escalation(**changes) -> EscalationCard:
    fields = dict(
        escalation_id=1, trainer="U0TRAINER1", task_name="Clinical NLP", status="resolved",
        score=0.4, lower=0.2, upper=0.6, threshold=0.85, confidence=0.95, graded=10,
        weekly=[("2026-W48", 0.4, 10)], reason="below the threshold", worst=[], level=0,
        levels=2, notified=[(0, "U0LEAD0001", WHEN)], acknowledged_by=None,
        acknowledged_at=None, closed_by="U0LEAD0001", closed_at=WHEN, close_note=None)
    fields.update(changes)
    return EscalationCard(**fields)


def test_an_id_or_project_from_the_pipeline_cannot_ping_or_break_the_sample_post():
    wards = [f"ward-{i:03d}" for i in range(300)]  # metadata.project may be any JSON
    _, blocks = sample_reply(_card(output_id="run-42` <!channel> `x", project=str(wards)))
    assert validate_message_blocks(blocks) == []
    assert "<!channel>" not in _text(blocks) and "&lt;!channel&gt;" in _text(blocks)
    assert "ward-000" in blocks[0]["text"]["text"] and "ward-299" not in _text(blocks)


def test_a_task_name_with_markup_and_a_huge_roster_keep_the_thread_parent_valid():
    reviewers = [f"U0REV{i:05d}" for i in range(200)]
    text, blocks = audit_parent(trainer="U0TRAINER1", task_name="Q&A <Legal>",
                                iso_week="2026-W48", sample_count=5, reviewers=reviewers)
    assert validate_message_blocks(blocks) == []
    assert "Q&amp;A &lt;Legal&gt;" in text and "<Legal>" not in _text(blocks)
    assert "and 180 more" in _text(blocks)


def test_notes_at_the_modal_limit_fit_once_escaped():
    closed = escalation_closed(_escalation(close_note=MARKUP_NOTE))
    view = DisputeView(
        sample_id=7, task_type="clinical", trainer="U0TRAINER1", week="2026-W48", position=1,
        count=5, output_id="out-1", channel="C0CLINICAL", message_ts="1.2",
        reviews=(Review("U0NURSE01", "pass", None, None),
                 Review("U0MDOCTOR", "major", "Unsafe advice", "Wrong dose.")),
        settlement=Settlement("U0MANAGER1", "major", MARKUP_NOTE, WHEN))
    settled = settlement_dm(view, task_name="Clinical NLP", reviewer="U0NURSE01")
    for text, blocks in (closed, settled):
        assert validate_message_blocks(blocks) == [], text[:80]
        assert "<ul>" not in _text(blocks) and "&lt;ul&gt;" in _text(blocks)


def test_escalation_messages_escape_sample_labels_and_task_names():
    worst = [WorstLine("Sample 1 of 5 · 2026-W48 · batch-7 <!channel>", "https://x/1", []),
             WorstLine("Sample 2 of 5 · 2026-W48 · a>b", None, [])]
    _, blocks = escalation_notice(_escalation(status="open", worst=worst, closed_by=None,
                                              task_name="Q&A <Legal>"))
    assert validate_message_blocks(blocks) == []
    assert "<!channel>" not in _text(blocks) and "a&gt;b" in _text(blocks)
    for text, _ in (escalation_closed(_escalation(status="recovered",
                                                       task_name="Q&A <Legal>")),
                         watch_fyi(trainer="U0TRAINER1", task_name="Q&A <Legal>", score=0.7,
                                   threshold=0.85, graded=8)):
        assert "<Legal>" not in text and "Q&amp;A" in text


def test_an_agreement_alert_for_a_large_team_stays_valid():
    reviewers = tuple(ReviewerAgreement(f"U0REV{i:05d}", 30, 12) for i in range(150))
    agreement = TaskAgreement("clinical", "Clinical NLP", ("2026-W45", "2026-W48"), 300, 0.41,
                              0.5, reviewers, 0.667, 20)
    _, blocks = agreement_alert(agreement)
    assert validate_message_blocks(blocks) == []
    assert "and 125 more" in _text(blocks)


def test_a_huge_prompt_leaves_the_output_in_the_full_view():
    view = full_output_modal(output_id="out-1", prompt="context " * 50_000,
                             output="The trainer's answer.")
    assert validate_view(view) == []
    shown = [b["text"]["text"] for b in view["blocks"] if b["type"] in ("header", "section")]
    assert "Trainer's output" in shown and "The trainer's answer." in shown
    assert "Prompt cut here" in _text(view["blocks"])


@given(text=st.text(alphabet=st.sampled_from("ab &<>;\n"), max_size=400),
       limit=st.integers(min_value=2, max_value=300))
def test_escape_cut_fits_and_never_leaves_half_an_entity(text, limit):
    shown = escape_cut(text, limit)
    assert len(shown) <= limit
    assert not SPECIAL.search(re.sub(r"&(amp|lt|gt);", "", shown))
