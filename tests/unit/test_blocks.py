"""Block Kit builders against Slack's limits (checked by the sandbox's validator)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sandbox.blockkit import validate_message_blocks, validate_view
from bot.slack.blocks import (
    GradeLine,
    SampleCard,
    audit_parent,
    full_output_modal,
    grade_modal,
    sample_reply,
    split_text,
)


def _card(**changes) -> SampleCard:
    fields = dict(
        sample_id=7, position=0, count=5, output_id="out-000123", trainer="U0TRAINER1",
        task_name="Clinical NLP", prompt="Can I take ibuprofen?", output="Ask your doctor.",
        created_at="2026-11-20 14:03 UTC", project="triage-v2", needs_double_review=False,
        grades=(),
    )
    fields.update(changes)
    return SampleCard(**fields)


def _buttons(blocks: list[dict]) -> list[str]:
    return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_sample_reply_has_the_three_grade_buttons_and_is_valid():
    text, blocks = sample_reply(_card())
    assert _buttons(blocks) == ["Pass", "Minor issue", "Major error"]
    assert "Sample 1 of 5" in text
    assert validate_message_blocks(blocks) == []


def test_a_long_output_is_cut_with_a_way_to_see_it_whole():
    _, blocks = sample_reply(_card(output="word " * 20_000, prompt="why? " * 1000))
    assert validate_message_blocks(blocks) == []
    assert _buttons(blocks)[-1] == "Show full"
    assert any("Show full" in e.get("text", "") for b in blocks if b["type"] == "context"
               for e in b["elements"])


def test_trainer_text_cannot_ping_a_channel_or_inject_markup():
    _, blocks = sample_reply(_card(output="<!channel> *bold* <@U0MANAGER1>",
                                   project="<!here>"))
    output_block = blocks[4]
    assert output_block["text"]["type"] == "plain_text"
    header = blocks[0]["text"]["text"]
    assert "<!here>" not in header and "&lt;!here&gt;" in header


def test_grades_show_who_graded_what_with_long_explanations_kept_valid():
    grades = [GradeLine(f"U0REVIEW{i}", "major", "Unsafe advice" * 5, "x" * 5000)
              for i in range(12)]
    _, blocks = sample_reply(_card(grades=grades))
    assert validate_message_blocks(blocks) == []
    assert "<@U0REVIEW0>" in blocks[-1]["elements"][0]["text"]


def test_double_review_shows_how_many_reviews_are_in():
    _, blocks = sample_reply(_card(needs_double_review=True,
                                   grades=[GradeLine("U0NURSE01", "pass", None, None)]))
    assert any("1 of 2 reviews" in e.get("text", "") for b in blocks if b["type"] == "context"
               for e in b["elements"])


def test_audit_parent_names_trainer_week_and_count():
    text, blocks = audit_parent(trainer="U0TRAINER1", task_name="Clinical NLP",
                                iso_week="2026-W48", sample_count=5, reviewers=["U0NURSE01"])
    assert "<@U0TRAINER1>" in text and "2026-W48" in text and "5 samples" in text
    assert validate_message_blocks(blocks) == []


def test_grade_modal_is_a_valid_view_with_category_and_explanation():
    categories = [f"Category {i} " + "x" * 80 for i in range(120)]
    view = grade_modal(grade="major", categories=categories, trainer="U0TRAINER1",
                       output_excerpt="y" * 10_000, private_metadata="{}")
    assert validate_view(view) == []
    assert view["title"]["text"] == "Major error"


def test_full_output_modal_holds_100k_characters_within_slack_limits():
    output = ("A sentence of a long discharge summary. " * 2500)[:100_000]
    view = full_output_modal(output_id="out-000123", prompt="p" * 5000, output=output)
    assert validate_view(view) == []
    shown = "".join(b["text"]["text"] for b in view["blocks"][3:] if b["type"] == "section")
    assert len(shown) >= 99_000


def test_an_output_longer_than_a_view_holds_says_where_it_was_cut():
    view = full_output_modal(output_id="out-1", prompt="p", output="z" * 400_000)
    assert validate_view(view) == []
    assert "Cut here" in view["blocks"][-1]["elements"][0]["text"]


@settings(max_examples=60)
@given(st.text(max_size=9000))
def test_split_text_keeps_every_character_in_section_sized_parts(text):
    parts = split_text(text)
    assert all(0 < len(p) <= 2999 for p in parts)
    squeeze = "".join(text.split())
    assert "".join("".join(p.split()) for p in parts) == squeeze or not squeeze
