"""The `/audit precedents` answer against Slack's limits (the sandbox's validator)."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sandbox.blockkit import validate_message_blocks, validate_view
from bot.services.disputes import DisputeView, Review, Settlement
from bot.services.precedent_save import Adjudicated
from bot.services.precedents import (
    MOST,
    DisagreementPrecedent,
    Precedent,
    Precedents,
    SavedPrecedent,
)
from bot.slack.blocks import grade_modal
from bot.slack.payloads import precedent_metadata
from bot.slack.precedent_form import (
    disagreement_offer,
    disagreement_precedent_modal,
    precedent_modal,
    precedent_offer,
)
from bot.slack.precedents_blocks import grading_precedents, precedents_message

WHEN = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
NAMES = {"clinical": "Clinical NLP"}


def _precedent(n: int, *, text: str, settled: bool = False, saved: bool = False) -> Precedent:
    reviews = (Review("U0NURSE01", "major", "Unsafe advice", text),
               Review("U0MDOCTOR", "pass", None, None))
    return Precedent(
        sample_id=n, task_type="clinical", trainer="U0TRAINER1", week="2026-W48",
        position=n % 5, count=5, channel="C0CLINICAL", message_ts=f"1796014396.{n:06d}",
        ruled_at=WHEN, reviews=reviews,
        settlement=Settlement("U0MANAGER1", "minor", text, WHEN) if settled else None,
        saved=_saved(n, text) if saved else None)


def _found(*precedents: Precedent, words: tuple[str, ...] = ("dose",),
           more: bool = False) -> Precedents:
    return Precedents(words=words, task_types=("clinical",), precedents=precedents, more=more)


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=6000), st.booleans())
def test_the_most_precedents_with_long_texts_stay_within_a_messages_limits(text, settled):
    found = _found(*(_precedent(n, text=text, settled=settled, saved=settled)
                     for n in range(MOST)),
                   words=(text[:300],) * 3, more=True)
    _, blocks = precedents_message(found, task_names=NAMES, links={})
    assert validate_message_blocks(blocks) == []
    assert len(blocks) <= 50


def test_a_precedent_links_its_sample_and_shows_the_ruling_and_open_disputes():
    settled = _precedent(1, text="Kidney function was normal: a minor slip.", settled=True)
    disputed = _precedent(2, text="Ibuprofen with CKD <stage 3> & more.")
    links = {("C0CLINICAL", settled.message_ts or ""): "https://slack.test/p1"}
    text, blocks = precedents_message(_found(settled, disputed, more=True), task_names=NAMES,
                                      links=links)
    body = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert text == "Precedents for “dose”"
    assert "<https://slack.test/p1|2026-W48 · sample 2 of 5>" in body
    assert "⚖️ *Settled* by <@U0MANAGER1>: 🟡 Minor issue — Kidney function" in body
    assert "⚖️ _Disputed" in body and "&lt;stage 3&gt; &amp; more" in body
    assert "add a word to narrow it" in blocks[-1]["elements"][0]["text"]


def test_no_precedents_says_what_was_searched_where():
    text, blocks = precedents_message(_found(words=("50%", "<b>")), task_names=NAMES, links={})
    assert text == "No precedents for “50% &lt;b&gt;”."
    assert "Clinical NLP" in blocks[0]["text"]["text"]


def _saved(n: int, text: str) -> SavedPrecedent:
    return SavedPrecedent(sample_id=n, task_type="clinical", category=text[:100] or "x",
                          ruling=text[:300] or "x", rationale=text or "x", author="U0MANAGER1",
                          saved_at=WHEN)


def _view(n: int, text: str) -> DisputeView:
    reviews = (Review("U0NURSE01", "pass", None, None),
               Review("U0MDOCTOR", "major", "Unsafe advice", text))
    return DisputeView(sample_id=n, task_type="clinical", trainer="U0TRAINER1",
                       week="2026-W48", position=0, count=5, output_id=f"out-{text[:150]}",
                       channel="C0CLINICAL", message_ts="1796014396.000001", reviews=reviews,
                       settlement=Settlement("U0MANAGER1", "major", text, WHEN))


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=6000))
def test_the_grading_modal_with_precedents_of_any_text_stays_within_a_views_limits(text):
    context = grading_precedents([_saved(1, text), _saved(2, text), _saved(3, text)],
                                 task_name=text[:200])
    assert len(context) == 3  # a heading and two precedents
    modal = grade_modal(grade="major", categories=("Unsafe advice",), trainer="U0TRAINER1",
                        output_excerpt=text, private_metadata="{}", context=context)
    assert validate_view(modal) == []


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=6000), st.booleans())
def test_the_offer_and_the_precedent_form_stay_within_slacks_limits(text, saved):
    categories = ("Unsafe advice", text[:200] or "x")
    _, blocks = precedent_offer(_view(1, text), task_name=text[:200] or "x")
    assert validate_message_blocks(blocks) == []
    modal = precedent_modal(_view(1, text), task_name=text[:200] or "x", categories=categories,
                            saved=_saved(1, text) if saved else None,
                            private_metadata=precedent_metadata(sample_id=1,
                                                                task_type="clinical"))
    assert validate_view(modal) == []


def _adjudicated(text: str) -> Adjudicated:
    return Adjudicated(disagreement_id=3, task_type="clinical", item=text[:200] or "i1",
                       week="2026-W48", labels=tuple((f"U0TRAIN{n:03d}", text[:64] or "A")
                                                     for n in range(12)),
                       ruled_by="U0MDOCTOR", ruling_label=text[:64] or "A",
                       ruling_reason=text or "x")


def _disagreement(n: int, text: str, *, relevance: float) -> DisagreementPrecedent:
    view = _adjudicated(text)
    saved = SavedPrecedent(sample_id=None, disagreement_id=n, task_type="clinical",
                           category=text[:100] or "x", ruling=text[:300] or "x",
                           rationale=text or "x", author="U0MDOCTOR", saved_at=WHEN)
    return DisagreementPrecedent(
        disagreement_id=n, task_type="clinical", item=view.item, week=view.week,
        channel="C0CLINICAL", message_ts=f"1796014397.{n:06d}", labels=view.labels,
        ruled_by=view.ruled_by, ruling_label=view.ruling_label,
        ruling_reason=view.ruling_reason, ruled_at=WHEN, saved=saved, relevance=relevance)


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=6000), st.booleans())
def test_a_disagreements_offer_form_and_search_result_stay_within_slacks_limits(text, saved):
    view = _adjudicated(text)
    _, blocks = disagreement_offer(view, task_name=text[:200] or "x")
    assert validate_message_blocks(blocks) == []
    modal = disagreement_precedent_modal(
        view, task_name=text[:200] or "x", categories=("Unsafe advice", text[:200] or "x"),
        saved=_saved(1, text) if saved else None,
        private_metadata=precedent_metadata(disagreement_id=3, task_type="clinical"))
    assert validate_view(modal) == []
    found = Precedents(words=("dose",), task_types=("clinical",), more=True,
                       precedents=tuple(_precedent(n, text=text, saved=True)
                                        for n in range(MOST // 2)),
                       disagreements=tuple(_disagreement(n, text, relevance=n)
                                           for n in range(MOST - MOST // 2)))
    _, blocks = precedents_message(found, task_names=NAMES, links={})
    assert validate_message_blocks(blocks) == []
    assert len(blocks) <= 50


def test_samples_and_disagreements_are_shown_most_relevant_first_and_linked():
    low = _precedent(1, text="Dose of ibuprofen with CKD.", saved=True)
    low = Precedent(**{**low.__dict__, "relevance": 1.0})
    high = _disagreement(7, "Chronic pain is routine.", relevance=2.0)
    found = Precedents(words=("dose",), task_types=("clinical",), precedents=(low,),
                       disagreements=(high,), more=False)
    assert found.ranked() == [high, low]
    links = {("C0CLINICAL", high.message_ts or ""): "https://slack.test/d7"}
    _, blocks = precedents_message(found, task_names=NAMES, links=links)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert "<https://slack.test/d7|2026-W48 · disagreement on item Chronic pain" in sections[0]
    assert "⚖️ *Adjudicated* by <@U0MDOCTOR>" in sections[0]
    assert "sample 2 of 5" in sections[1]
