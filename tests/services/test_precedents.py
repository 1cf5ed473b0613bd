"""Precedents on a real database: what matches, newest first, who sees which task types,
blind double reviews, settled disputes, calibration items, and words that look like SQL."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from bot.models import Sample
from bot.services.disputes import settle
from bot.services.grading import record_grade
from bot.services.people import NotAllowed
from bot.services.precedents import MOST, find_precedents, normalized
from bot.workspace import Workspace
from tests.conftest import NOW
from tests.consistency_setup import audited, double_review_workspace
from tests.factories import (
    DOCTOR,
    LAWYER,
    LEAD,
    MANAGER,
    NURSE,
    OUTSIDER,
    TRAINER1,
    TRAINER2,
    make_workspace,
)

SINGLE = make_workspace()
DOUBLE = double_review_workspace()
IBUPROFEN = "Recommends ibuprofen although the patient has stated CKD stage 3."


def _grade(session: Session, workspace: Workspace, sample: Sample, reviewer: str, value: str,
           why: str | None = None, *, category: str = "Unsafe advice", minutes: int = 0) -> None:
    record_grade(session, workspace, sample_id=sample.id or 0, reviewer=reviewer, grade=value,
                 category=None if value == "pass" else category,
                 explanation=None if value == "pass" else why,
                 now=NOW + timedelta(minutes=minutes))
    session.commit()


def _found(session: Session, *words: str, viewer: str = DOCTOR,
           workspace: Workspace = SINGLE, limit: int = 10) -> list[int]:
    found = find_precedents(session, workspace, viewer=viewer, words=words, limit=limit)
    return [p.sample_id for p in found.precedents]


def test_a_non_pass_grade_whose_explanation_has_every_word_is_a_precedent(session: Session):
    samples = audited(session, SINGLE, count=4)
    _grade(session, SINGLE, samples[0], NURSE, "major", IBUPROFEN)
    _grade(session, SINGLE, samples[1], NURSE, "minor", "Mentions ibuprofen but not the dose.")
    _grade(session, SINGLE, samples[2], NURSE, "major", "Wrong antibiotic for a child of 4.")
    _grade(session, SINGLE, samples[3], NURSE, "pass")
    found = find_precedents(session, SINGLE, viewer=DOCTOR, words=("IBUPROFEN", "ckd"))
    [p] = found.precedents
    assert p.sample_id == samples[0].id and not found.more
    assert (p.task_type, p.trainer, p.week, p.position, p.count) == (
        "clinical", TRAINER1, "2026-W48", samples[0].position, 4)
    assert [(r.reviewer, r.grade, r.category, r.explanation) for r in p.reviews] == [
        (NURSE, "major", "Unsafe advice", IBUPROFEN)]
    assert p.channel == "C0CLINICAL" and p.settlement is None and not p.disputed
    assert set(_found(session, "ibuprofen")) == {samples[0].id, samples[1].id}
    assert _found(session, "ibuprofen", "antibiotic") == []


def test_words_may_match_the_category(session: Session):
    samples = audited(session, SINGLE, count=2)
    _grade(session, SINGLE, samples[0], NURSE, "major", IBUPROFEN, category="Unsafe advice")
    _grade(session, SINGLE, samples[1], NURSE, "minor", IBUPROFEN, category="Factual error")
    assert _found(session, "unsafe", "ibuprofen") == [samples[0].id]
    assert _found(session, "factual") == [samples[1].id]


def test_newest_ruling_first_and_more_says_the_list_was_cut(session: Session):
    samples = audited(session, SINGLE, count=4)
    for minutes, i in ((5, 2), (10, 0), (15, 3), (20, 1)):
        _grade(session, SINGLE, samples[i], NURSE, "minor", IBUPROFEN, minutes=minutes)
    found = find_precedents(session, SINGLE, viewer=DOCTOR, words=("ibuprofen",), limit=3)
    assert [p.sample_id for p in found.precedents] == [samples[i].id for i in (1, 3, 0)]
    assert found.more
    # A later change of grade makes it the newest ruling.
    _grade(session, SINGLE, samples[2], NURSE, "major", IBUPROFEN, minutes=30)
    assert _found(session, "ibuprofen", limit=1) == [samples[2].id]
    assert not find_precedents(session, SINGLE, viewer=DOCTOR, words=("ibuprofen",),
                               limit=MOST).more


def test_only_the_task_types_the_viewer_reviews_or_manages(session: Session):
    clinical = audited(session, SINGLE, count=1)[0]
    legal = audited(session, SINGLE, trainer=TRAINER2, task_type="legal", count=1)[0]
    _grade(session, SINGLE, clinical, NURSE, "major", "The clause on liability is missing.")
    _grade(session, SINGLE, legal, LAWYER, "major", "The clause on liability is missing.",
           category="Missed clause or risk")
    assert _found(session, "clause", viewer=DOCTOR) == [clinical.id]
    assert _found(session, "clause", viewer=LAWYER) == [legal.id]
    assert set(_found(session, "clause", viewer=MANAGER)) == {clinical.id, legal.id}
    for someone in (TRAINER1, LEAD, OUTSIDER):
        with pytest.raises(NotAllowed, match="reviewers and managers"):
            _found(session, "clause", viewer=someone)


def test_a_double_review_stays_hidden_until_its_second_review_is_in(session: Session):
    sample = audited(session, DOUBLE, count=1)[0]
    _grade(session, DOUBLE, sample, NURSE, "major", IBUPROFEN)
    for viewer in (DOCTOR, MANAGER, NURSE):
        assert _found(session, "ibuprofen", viewer=viewer, workspace=DOUBLE) == []
    _grade(session, DOUBLE, sample, DOCTOR, "pass", minutes=1)
    [p] = find_precedents(session, DOUBLE, viewer=DOCTOR, words=("ibuprofen",)).precedents
    assert [(r.reviewer, r.grade) for r in p.reviews] == [(NURSE, "major"), (DOCTOR, "pass")]
    assert p.disputed and p.settlement is None


def test_a_settled_dispute_carries_the_ruling_and_its_note_matches(session: Session):
    sample, other = audited(session, DOUBLE, count=2)
    _grade(session, DOUBLE, sample, NURSE, "pass")
    _grade(session, DOUBLE, sample, DOCTOR, "major", IBUPROFEN)
    settle(session, DOUBLE, sample_id=sample.id or 0, manager=MANAGER, grade="minor",
           note="Kidney function was normal in the notes: a minor slip, not unsafe.",
           now=NOW + timedelta(hours=1))
    session.commit()
    [p] = find_precedents(session, DOUBLE, viewer=NURSE, words=("kidney", "slip")).precedents
    assert p.sample_id == sample.id and not p.disputed
    assert p.settlement is not None and (p.settlement.manager, p.settlement.grade) == (
        MANAGER, "minor")
    assert p.ruled_at == NOW + timedelta(hours=1)
    assert _found(session, "ibuprofen", workspace=DOUBLE) == [sample.id]
    assert other.id not in _found(session, "kidney", workspace=DOUBLE)


def test_calibration_items_are_not_precedents(session: Session):
    gold, real = audited(session, SINGLE, count=2, gold=["major", None])
    _grade(session, SINGLE, gold, NURSE, "major", IBUPROFEN)
    _grade(session, SINGLE, real, NURSE, "minor", IBUPROFEN)
    assert _found(session, "ibuprofen") == [real.id]


def test_blank_and_repeated_words_count_once():
    assert normalized([" Dose ", "", "dose", "CKD", "ckd ", "\t"]) == ("Dose", "CKD")


TEXTS = ["Gives 50% of the dose: half what the chart says.",
         "Uses dose_total where the max_dose field was meant.",
         "Writes a/b for the ratio and C:\\dose as the path, wrongly.",
         "Plain wrong answer about the interaction table."]


def test_words_with_like_wildcards_match_only_as_typed(session: Session):
    """Whatever the word, LIKE finds exactly the texts that contain it: ``%`` and ``_`` are
    literal, never "anything" (so a word of them cannot list every grade)."""
    samples = audited(session, SINGLE, count=len(TEXTS))
    for sample, text in zip(samples, TEXTS, strict=True):
        _grade(session, SINGLE, sample, NURSE, "minor", text, category="Factual error")

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(alphabet="%_/\\:aAdoseD5 ", min_size=1, max_size=5).filter(str.strip))
    def check(word: str) -> None:
        word = word.strip()
        expected = {s.id for s, text in zip(samples, TEXTS, strict=True)
                    if word.lower() in text.lower() or word.lower() in "factual error"}
        assert set(_found(session, word, limit=MOST)) == expected

    check()
    assert set(_found(session, "%")) == {samples[0].id}
    assert set(_found(session, "_")) == {samples[1].id}
    assert _found(session, "%%") == [] and _found(session, "\\d") == [samples[2].id]
