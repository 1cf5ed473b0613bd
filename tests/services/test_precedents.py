"""Precedents on a real database, searched with the store's full-text index (FTS5, tsvector):
what matches, ranking, who sees which task types, blind double reviews, settled disputes,
saved precedents, calibration items, and words that look like query syntax or SQL."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, func, select

from bot.services.disputes import settle
from bot.services.grading import record_grade
from bot.services.people import NotAllowed
from bot.services.precedent_save import (
    InvalidPrecedent,
    NotSettled,
    NotTheSettler,
    precedent_for,
    save_precedent,
)
from bot.services.precedents import MOST, find_precedents, normalized, precedents_for_grading
from bot.services.search import (
    GRADES,
    PRECEDENTS,
    SETTLEMENTS,
    Source,
    matching,
    plain_words,
)
from bot.store.models import Grade, Sample
from bot.store.models.consistency import DisputeSettlement
from bot.store.models.precedents import Precedent as SavedRow
from bot.workspace import Workspace
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace
from tests.support.factories import (
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


def test_equal_relevance_newest_ruling_first_and_more_says_the_list_was_cut(session: Session):
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


def test_more_relevant_texts_come_first_whatever_their_age(session: Session):
    """Ranked by the store's relevance (bm25, ts_rank): the explanation about ibuprofen
    comes before the one that mentions it in passing, though that one is newer."""
    about, passing = audited(session, SINGLE, count=2)
    _grade(session, SINGLE, about, NURSE, "major",
           "Ibuprofen again: ibuprofen is wrong here, and ibuprofen at this dose is worse.")
    _grade(session, SINGLE, passing, NURSE, "minor",
           "The summary lists the history, the allergies, the current medication including "
           "ibuprofen, the vitals and the plan, but puts the plan before the findings.",
           category="Factual error", minutes=30)
    found = find_precedents(session, SINGLE, viewer=DOCTOR, words=("ibuprofen",)).precedents
    assert [p.sample_id for p in found] == [about.id, passing.id]
    assert found[0].relevance > found[1].relevance


def test_english_stems_match(session: Session):
    sample = audited(session, SINGLE, count=1)[0]
    _grade(session, SINGLE, sample, NURSE, "major", IBUPROFEN)
    assert _found(session, "recommend", "patients") == [sample.id]


def _settled(session: Session) -> Sample:
    sample, _other = audited(session, DOUBLE, count=2)
    _grade(session, DOUBLE, sample, NURSE, "pass")
    _grade(session, DOUBLE, sample, DOCTOR, "major", IBUPROFEN)
    settle(session, DOUBLE, sample_id=sample.id or 0, manager=MANAGER, grade="major",
           note="Kidney function was normal in the notes.", now=NOW + timedelta(hours=1))
    session.commit()
    return sample


RULING = "NSAIDs for a patient with stated kidney disease are a Major error."
RATIONALE = "Even a single dose risks acute kidney injury; the output must warn or refuse."


def test_a_saved_precedent_is_found_by_its_ruling_and_shown_once_with_its_sample(
        session: Session):
    sample = _settled(session)
    save_precedent(session, DOUBLE, sample_id=sample.id or 0, author=MANAGER,
                   category="Unsafe advice", ruling=RULING, rationale=RATIONALE,
                   now=NOW + timedelta(hours=2))
    session.commit()
    [p] = find_precedents(session, DOUBLE, viewer=NURSE, words=("nsaids", "injury")).precedents
    assert p.sample_id == sample.id and p.saved is not None
    assert (p.saved.ruling, p.saved.rationale, p.saved.author, p.saved.category) == (
        RULING, RATIONALE, MANAGER, "Unsafe advice")
    assert p.ruled_at == NOW + timedelta(hours=2)
    # "kidney" is in the ruling, the rationale and the settlement note: still one result.
    found = find_precedents(session, DOUBLE, viewer=NURSE, words=("kidney",)).precedents
    assert [q.sample_id for q in found] == [sample.id]
    # Other task types' reviewers do not see it.
    assert _found(session, "nsaids", viewer=LAWYER, workspace=DOUBLE) == []


def test_saving_a_precedent_is_for_whoever_settled_it(session: Session):
    sample = _settled(session)
    open_ = audited(session, DOUBLE, count=1, now=NOW + timedelta(weeks=1))[0]
    args = {"category": "Unsafe advice", "ruling": RULING, "rationale": RATIONALE,
            "now": NOW + timedelta(hours=2)}
    with pytest.raises(NotTheSettler, match="settled this sample"):
        save_precedent(session, DOUBLE, sample_id=sample.id or 0, author=DOCTOR, **args)
    with pytest.raises(NotSettled, match="has not been settled"):
        save_precedent(session, DOUBLE, sample_id=open_.id or 0, author=MANAGER, **args)
    with pytest.raises(InvalidPrecedent, match="at least 15"):
        save_precedent(session, DOUBLE, sample_id=sample.id or 0, author=MANAGER,
                       **{**args, "ruling": "Major." + "\u200b" * 12})
    with pytest.raises(InvalidPrecedent, match="error categories"):
        save_precedent(session, DOUBLE, sample_id=sample.id or 0, author=MANAGER,
                       **{**args, "category": "Not a category"})
    session.rollback()
    assert precedent_for(session, sample.id or 0) is None
    first = save_precedent(session, DOUBLE, sample_id=sample.id or 0, author=MANAGER, **args)
    edited = save_precedent(session, DOUBLE, sample_id=sample.id or 0, author=MANAGER,
                            **{**args, "ruling": "NSAIDs with kidney disease: Major error.",
                               "now": NOW + timedelta(hours=3)})
    session.commit()
    assert first.ruling == RULING and edited.ruling == "NSAIDs with kidney disease: Major error."
    assert session.exec(select(func.count()).select_from(SavedRow)).one() == 1
    assert precedent_for(session, sample.id or 0) == edited
    assert edited.saved_at == NOW + timedelta(hours=3)


def test_the_index_follows_edits_of_explanations(session: Session):
    sample = audited(session, SINGLE, count=1)[0]
    _grade(session, SINGLE, sample, NURSE, "major", IBUPROFEN)
    _grade(session, SINGLE, sample, NURSE, "major", "Wrong antibiotic for a child of four.",
           minutes=5)
    assert _found(session, "ibuprofen") == []
    assert _found(session, "antibiotic") == [sample.id]


def test_the_index_follows_edits_of_saved_precedents(session: Session):
    settled = _settled(session)
    for ruling in (RULING, "Paracetamol overdoses are always a Major error, whatever the tone."):
        save_precedent(session, DOUBLE, sample_id=settled.id or 0, author=MANAGER,
                       category="Unsafe advice", ruling=ruling, rationale=RATIONALE, now=NOW)
        session.commit()
    assert _found(session, "paracetamol", workspace=DOUBLE) == [settled.id]
    assert _found(session, "nsaids", workspace=DOUBLE) == []


HOSTILE_TEXTS = ["Recommends ibuprofen although the patient has stated CKD, and not once warns.",
                 "Dose near the maximum; the chart says 50% less.",
                 "Verwechselt Zürich mit Genève: falsche Klinik.",
                 "Plain wrong answer about the interaction table."]


@pytest.fixture
def hostile_graded(session: Session) -> list[Sample]:
    samples = audited(session, SINGLE, count=len(HOSTILE_TEXTS))
    for minutes, (sample, text) in enumerate(zip(samples, HOSTILE_TEXTS, strict=True)):
        _grade(session, SINGLE, sample, NURSE, "minor", text, category="Factual error",
               minutes=minutes)
    return samples


@pytest.mark.parametrize(("words", "expected"), [
    (('"',), []), (("*",), []), (("🙂",), []), (("%",), []), (("_",), []),
    (("\\",), []), (('""ibuprofen',), [0]), (('ibuprofen"',), [0]), (("ibuprofen*",), [0]),
    (("ibu*",), []), (("NEAR",), [1]), (("NEAR(ibuprofen",), []), (("-ckd",), [0]),
    (("^ckd",), [0]), (("ckd", "*", '"'), [0]), (("zürich",), [2]), (("genève",), [2]),
    (("'; DROP TABLE grade; --",), []), (("1=1", "OR"), []),
    (("ibuprofen", "AND", "NOT", "ckd"), [0]), (("ibuprofen", "OR", "antibiotic"), []),
])
def test_hostile_words_are_only_words(session: Session, hostile_graded: list[Sample],
                                      words: tuple[str, ...], expected: list[int]):
    """Quotes, ``*``, ``NEAR``, ``-``, ``^``, SQL and unicode are text to look for, never FTS5
    or tsquery syntax and never SQL: the same answers on both stores, no error. (``AND``,
    ``NOT``: SQLite looks for the words, PostgreSQL drops them as stop words; neither negates
    or alternates.)"""
    found = set(_found(session, *words, limit=MOST))
    assert found == {hostile_graded[i].id for i in expected}
    assert session.exec(select(func.count()).select_from(Grade)).one() == len(HOSTILE_TEXTS)


def test_any_text_at_all_is_answered(session: Session, hostile_graded: list[Sample]):
    ids = {s.id for s in hostile_graded}

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.text(alphabet='"*()^:-+{}[]|&!~<>%_\\\'; NEARORAND ibuprofenzü🙂\u200b',
                            min_size=1, max_size=12), min_size=1, max_size=4))
    def check(words: list[str]) -> None:
        if not normalized(words):
            return
        assert set(_found(session, *words, limit=MOST)) <= ids

    check()


@pytest.mark.parametrize("source", [GRADES, SETTLEMENTS, PRECEDENTS], ids=lambda s: s.table)
def test_the_search_reads_through_the_full_text_indexes(session: Session, source: Source):
    """Each source's match goes through FTS5 (SQLite) or the GIN index of migration 0014
    (PostgreSQL): the query's expressions are the indexed ones, so no search has to read
    every explanation."""
    model = {GRADES: Grade, SETTLEMENTS: DisputeSettlement, PRECEDENTS: SavedRow}[source]
    found = matching(session, source, col(model.id), words=("ibuprofen", "ckd"))
    stmt = found.join(select(col(model.id)).select_from(model)).where(found.condition)
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    connection = session.connection()
    if session.get_bind().dialect.name == "sqlite":
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
        shown = " ".join(str(row[-1]) for row in plan)
        assert f"SCAN {source.fts} VIRTUAL TABLE INDEX" in shown, shown
        return
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    shown = " ".join(str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
    assert f"Bitmap Index Scan on ix_{source.fts}" in shown, shown


def test_the_grading_modal_gets_the_two_saved_precedents_most_like_the_sample(
        session: Session):
    """Ranked by the words they share with the sample's texts; only the task type's, never
    a calibration item's, never the sample's own; none when nothing is shared."""
    samples = audited(session, DOUBLE, count=5, gold=[None, None, None, "major", None])
    rulings = ["Combining medicines without the interaction table is a Major error.",
               "Telling a patient to ask a pharmacist is not enough on its own.",
               "Dosing errors for children are always a Major error, whatever the tone.",
               "Interaction table, pharmacist, medicines: a planted calibration ruling."]
    for sample, ruling in zip(samples, rulings, strict=False):
        _grade(session, DOUBLE, sample, NURSE, "pass")
        _grade(session, DOUBLE, sample, DOCTOR, "major", IBUPROFEN)
        settle(session, DOUBLE, sample_id=sample.id or 0, manager=MANAGER, grade="major",
               note="The doctor is right: this output is unsafe for the patient.", now=NOW)
        save_precedent(session, DOUBLE, sample_id=sample.id or 0, author=MANAGER,
                       category="Unsafe advice", ruling=ruling,
                       rationale="Reviewers must grade this the same way every time.", now=NOW)
    session.commit()
    texts = ("Check the interaction table before you combine medicines; ask a pharmacist.",
             "Can I combine these two medicines?")
    found = precedents_for_grading(session, task_type="clinical", sample_id=samples[4].id or 0,
                                   texts=texts)
    assert [p.sample_id for p in found] == [samples[0].id, samples[1].id]
    assert found[0].ruling == rulings[0] and found[0].author == MANAGER
    # The sample's own precedent is not context for itself; other task types see none.
    own = precedents_for_grading(session, task_type="clinical", sample_id=samples[0].id or 0,
                                 texts=texts)
    assert [p.sample_id for p in own] == [samples[1].id]
    assert precedents_for_grading(session, task_type="legal", sample_id=0, texts=texts) == ()
    assert precedents_for_grading(session, task_type="clinical", sample_id=0,
                                  texts=("Zebra quokka.", '"*" NEAR OR')) == ()
    assert precedents_for_grading(session, task_type="clinical", sample_id=0,
                                  texts=("", "a b c")) == ()


def test_plain_words_are_the_longest_distinct_words_bounded():
    text = "The interaction table: check it, CHECK it; 2026 pharmacist's medicines_list ab"
    assert plain_words(text) == ("interaction", "pharmacist", "medicines", "check", "table",
                                 "list")
    assert len(plain_words(" ".join(f"word{i:04d}" for i in range(500)))) == 24
