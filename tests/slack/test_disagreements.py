"""Disagreement threads between trainers, end to end: the weekly audit posts the items the
trainers disagreed on most, each trainer's label and reasoning side by side, and a reviewer
adjudicates which label is right with a written reason."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.sandbox.records import Message
from bot.services.audit import audit_week
from bot.services.disagreements import AlreadyRuled, adjudicate, disagreement_share
from bot.services.precedent_save import NotSettled, NotTheSettler, save_disagreement_precedent
from bot.services.standings import trainer_standing, window_samples
from bot.services.tallies import recount, ruled_verdicts
from bot.slack.consistency_notices import owe_disagreement_precedent_offer
from bot.slack.disagreement_notices import owe_ruling_dms
from bot.slack.precedent_form import save_disagreement_button
from bot.store.models import Sample
from bot.store.models.precedents import Precedent as SavedRow
from bot.store.models.tally import TrainerWeekTally
from bot.store.models.trainer import Disagreement
from bot.workspace import Workspace, parse_workspace
from tests.conftest import NOW
from tests.support.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    LAWYER,
    MANAGER,
    NURSE,
    TRAINER1,
    TRAINER3,
    output_record,
    workspace_data,
)
from tests.support.harness import RunningBot
from tests.support.status_support import ask, shown

# i1: B vs C, every pair differs (1.0); i0: A, A, B: two of three pairs differ; i2, i3 agree.
LABELS = {"i0": {TRAINER1: "A", NURSE: "A", TRAINER3: "B"},
          "i1": {TRAINER1: "B", NURSE: "C"},
          "i2": {TRAINER1: "C", NURSE: "C"},
          "i3": {TRAINER1: "A", TRAINER3: "A"}}
RULING = "C: chronic pain with no red flags is routine, whatever the kidneys."


@pytest.fixture
def workspace() -> Workspace:
    data = workspace_data()
    data["task_types"][0].update(label_scale="ordinal", labels=["A", "B", "C"])
    data["trainers"].append({"user": TRAINER3, "task_types": ["clinical"]})
    return parse_workspace(data)


@pytest.fixture
def posted(bot: RunningBot) -> list[Message]:
    now = bot.ctx.clock.now()
    records = []
    for n, (item, labels) in enumerate(LABELS.items()):
        for trainer, label in labels.items():
            record = output_record(n, trainer=trainer, created_at=now - timedelta(hours=2 + n))
            record.update(item=item, label=label,
                          reasoning=f"{trainer} says {label} on {item}: the dose decides.")
            records.append(record)
    assert bot.ingest(records).ok
    bot.run_audit()
    return [m for m in bot.parents(CLINICAL_CHANNEL) if "Disagreement" in m.text]


def _rows(bot: RunningBot) -> list[Disagreement]:
    with Session(bot.ctx.engine) as session:
        return list(session.exec(select(Disagreement).order_by(Disagreement.id)).all())


def test_the_most_disagreed_items_are_posted_once_side_by_side(bot, posted):
    assert [r.item for r in _rows(bot)] == ["i1", "i0"]  # most disagreement first
    assert len(posted) == 2
    first = shown(posted[0])
    assert "item i1" in first and "100% of their pairs disagree" in first
    assert f"<@{TRAINER1}> labelled *B*" in first and f"<@{NURSE}> labelled *C*" in first
    assert f"{TRAINER1} says B on i1: the dose decides." in first
    assert "67% of their pairs disagree" in shown(posted[1])
    bot.run_audit()  # the same week again (a replica, `/audit run`): nothing twice
    assert len([m for m in bot.parents(CLINICAL_CHANNEL) if "Disagreement" in m.text]) == 2


@pytest.mark.parametrize(("user", "reason"), [
    (TRAINER1, "Only Clinical NLP reviewers and managers can adjudicate"),
    (NURSE, "You labelled this item yourself"),
])
def test_who_may_not_adjudicate_reads_why(bot, posted, user, reason):
    bot.driver.click(user, posted[0], "Adjudicate", channel=CLINICAL_CHANNEL)
    refusal = bot.driver.wait_for(lambda: bot.sandbox.ephemerals(user=user))
    assert reason in refusal[0].text
    assert bot.sandbox.views(user) == []


def test_a_reviewer_adjudicates_with_a_reason_and_the_first_ruling_stands(bot, posted):
    message = posted[0]
    bot.driver.click(DOCTOR, message, "Adjudicate", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(DOCTOR))
    select_block = next(b for b in modal.view["blocks"] if b["block_id"] == "ruling_label")
    assert [o["value"] for o in select_block["element"]["options"]] == ["B", "C"]
    answer = bot.driver.submit_view(DOCTOR, modal, {"ruling_label": "C",
                                                    "ruling_reason": "routine"},
                                    client_checks=False).json()
    assert answer["response_action"] == "errors"
    assert "at least 20 characters (you wrote 7)" in answer["errors"]["ruling_reason"]
    assert _rows(bot)[0].ruled_at is None
    response = bot.driver.submit_view(DOCTOR, modal, {"ruling_label": "C",
                                                      "ruling_reason": RULING})
    assert response.status == 200 and not response.json()
    bot.driver.wait_for(lambda: _rows(bot)[0].ruled_at is not None)
    row = _rows(bot)[0]
    assert (row.ruled_by, row.ruling_label, row.ruling_reason) == (DOCTOR, "C", RULING)
    bot.deliver()
    updated = bot.sandbox.message(CLINICAL_CHANNEL, message.ts)
    assert updated is not None and updated.edited
    assert f"⚖️ *Adjudicated* by <@{DOCTOR}>: *C* is right — {RULING}" in shown(updated)
    assert "Adjudicate" not in [e["text"]["text"] for b in updated.blocks
                                if b["type"] == "actions" for e in b["elements"]]
    # A second ruling (a manager's form opened before the first was in): refused.
    with Session(bot.ctx.engine) as session, pytest.raises(AlreadyRuled) as refused:
        adjudicate(session, bot.ctx.workspace, disagreement_id=row.id or 0, user=MANAGER,
                   label="B", reason="B: the kidney disease makes it time-sensitive.",
                   now=bot.ctx.clock.now())
    assert f"<@{DOCTOR}> adjudicated this already: *C* is right" in refused.value.user_message
    assert _rows(bot)[0].ruling_label == "C"


def test_disagreement_share_by_hand():
    assert disagreement_share([("T1", "A"), ("T2", "A"), ("T3", "B")], level="ordinal") == \
        pytest.approx(2 / 3)
    assert disagreement_share([("T1", "4"), ("T2", "4.0")], level="interval") == 0.0
    assert disagreement_share([("T1", "A"), ("T1", "B")], level="nominal") == 0.0


def _tally(bot: RunningBot, trainer: str, week: str) -> dict[str, int]:
    with Session(bot.ctx.engine) as session:
        rows = session.exec(select(TrainerWeekTally).where(
            TrainerWeekTally.trainer == trainer, TrainerWeekTally.iso_week == week)).all()
        return {r.kind: r.samples for r in rows if r.samples}


def _adjudicate(bot: RunningBot, message: Message, label: str, reason: str) -> None:
    bot.driver.click(DOCTOR, message, "Adjudicate", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(DOCTOR))
    assert bot.driver.submit_view(DOCTOR, modal, {"ruling_label": label,
                                                  "ruling_reason": reason}).status == 200


def test_the_ruling_counts_in_each_trainers_precision_and_is_dmed_once(bot, posted):
    """i0: TRAINER1 and NURSE said A, TRAINER3 said B; the ruling is B. TRAINER3 counts a
    Pass, the others a Minor issue, in the week of the ruling; each is told once, the
    reviewer unnamed (show_reviewer_to_trainer is off)."""
    week = audit_week(bot.ctx.workspace, bot.ctx.clock.now())
    before = {t: _tally(bot, t, week) for t in (TRAINER1, NURSE, TRAINER3)}
    reason = "B: the CKD makes it time-sensitive, so A undersells the risk."
    _adjudicate(bot, posted[1], "B", reason)
    bot.driver.wait_for(lambda: _rows(bot)[1].ruled_at is not None)
    for trainer, grade in ((TRAINER3, "pass"), (TRAINER1, "minor"), (NURSE, "minor")):
        after = _tally(bot, trainer, week)
        assert after.get(grade, 0) == before[trainer].get(grade, 0) + 1, trainer
    with Session(bot.ctx.engine) as session:
        verdicts = ruled_verdicts(session, task_type="clinical", weeks=[week])
        assert sorted((v.trainer, v.grade) for v in verdicts) == sorted(
            [(TRAINER1, "minor"), (NURSE, "minor"), (TRAINER3, "pass")])
        samples, _ = window_samples(session, bot.ctx.workspace, trainer=TRAINER3,
                                    task_type="clinical", weeks=[week])
        assert [s.grades for s in samples if s.sample_id < 0] == [("pass",)]
        standing, _ = trainer_standing(session, bot.ctx.workspace, trainer=TRAINER3,
                                       task_type="clinical", now=bot.ctx.clock.now())
        assert standing.graded >= 1
    bot.deliver()
    right = bot.sandbox.dms(TRAINER3)
    wrong = bot.sandbox.dms(TRAINER1)
    assert len([m for m in right if "adjudicated" in shown(m)]) == 1
    assert "✅ Your label matched the ruling: you labelled *B*" in shown(right[-1])
    assert reason in shown(right[-1]) and f"in {week}" in shown(right[-1])
    assert "❌ Your label did not match: you labelled *A*" in shown(wrong[-1])
    assert "🟡 Minor issue" in shown(wrong[-1])
    assert "A reviewer adjudicated" in shown(wrong[-1]) and DOCTOR not in shown(wrong[-1])
    # Owing the DMs again (a retried follow-up, another replica) owes none twice, and a
    # second ruling is refused before it moves a tally.
    ruled = _rows(bot)[1]
    with Session(bot.ctx.engine) as session:
        assert owe_ruling_dms(session, bot.ctx.workspace, ruled, now=bot.ctx.clock.now()) == 0
        with pytest.raises(AlreadyRuled):
            adjudicate(session, bot.ctx.workspace, disagreement_id=ruled.id or 0,
                       user=MANAGER, label="A", reason=reason, now=bot.ctx.clock.now())
        session.commit()
    bot.deliver()
    assert len([m for m in bot.sandbox.dms(TRAINER1) if "adjudicated" in shown(m)]) == 1
    assert _tally(bot, TRAINER1, week).get("minor", 0) == before[TRAINER1].get("minor", 0) + 1
    # Counted from scratch (migration 0011's recount), the tallies come out the same.
    kept = {t: _tally(bot, t, week) for t in (TRAINER1, NURSE, TRAINER3)}
    with bot.ctx.engine.begin() as connection:
        connection.execute(text("DELETE FROM trainer_week_tally"))
        recount(connection)
    assert {t: _tally(bot, t, week) for t in (TRAINER1, NURSE, TRAINER3)} == kept


def test_verdicts_by_hand():
    """Each trainer's first label against the ruling, at the scale's level: an interval
    scale matches the same number however written; a second label of the same trainer on
    the item is kept but counts nothing."""
    import json

    from bot.services.disagreements import with_verdicts

    row = Disagreement(task_type="clinical", item="i9", iso_week="2026-W48", channel="C",
                       disagreement=1.0, created_at=NOW, labels_json=json.dumps([
                           {"trainer": "T1", "label": "4", "reasoning": None, "output_id": "a"},
                           {"trainer": "T2", "label": "4.0", "reasoning": None, "output_id": "b"},
                           {"trainer": "T3", "label": "5", "reasoning": None, "output_id": "c"},
                           {"trainer": "T1", "label": "5", "reasoning": None, "output_id": "d"},
                       ]))
    marked = with_verdicts(row, label="4", level="interval")
    assert [(e["trainer"], e.get("verdict")) for e in marked] == [
        ("T1", "pass"), ("T2", "pass"), ("T3", "minor"), ("T1", None)]
    nominal = with_verdicts(row, label="4", level="nominal")
    assert [e.get("verdict") for e in nominal] == ["pass", "minor", "minor", None]


# --- Saving an adjudicated disagreement as a precedent -------------------------------------

PRECEDENT_RULING = "Chronic pain without red flags is routine triage, kidneys or not."
PRECEDENT_WHY = ("Stable kidney disease alone does not make a patient's question urgent; "
                 "check the interaction table for the medicines they combine.")


def _offer(bot: RunningBot) -> Message:
    bot.deliver()
    offers = [m for m in bot.sandbox.dms(DOCTOR) if "You adjudicated" in m.text]
    assert len(offers) == 1, [m.text for m in bot.sandbox.dms(DOCTOR)]
    return offers[0]


def _told(bot: RunningBot, user: str, needle: str) -> str:
    """A refusal reaches the person who clicked: ephemeral or DM, whichever Slack allows."""
    def said() -> str | None:
        texts = [e.text for e in bot.sandbox.ephemerals(user=user)]
        texts += [m.text for m in bot.sandbox.dms(user)]
        return next((t for t in texts if needle in t), None)
    return bot.driver.wait_for(said)


def _precedents(bot: RunningBot) -> list[SavedRow]:
    with Session(bot.ctx.engine) as session:
        return list(session.exec(select(SavedRow)).all())


def test_the_adjudicator_saves_the_ruling_as_a_precedent_and_reviewers_find_it(bot, posted):
    row = _rows(bot)[0]
    _adjudicate(bot, posted[0], "C", RULING)
    bot.driver.wait_for(lambda: _rows(bot)[0].ruled_at is not None)
    offer = _offer(bot)
    assert "Save as precedent" in str(offer.blocks) and RULING in shown(offer)
    assert "*C* is right" in shown(offer)
    # Owed once: owing it again (a retried submission, another replica) owes nothing.
    with Session(bot.ctx.engine) as session:
        assert owe_disagreement_precedent_offer(session, bot.ctx.workspace, _rows(bot)[0],
                                                now=bot.ctx.clock.now()) == 0
    assert _offer(bot).ts == offer.ts

    bot.driver.click(DOCTOR, offer, "Save as precedent", channel=offer.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(DOCTOR))
    assert modal.view["callback_id"] == "precedent_modal"
    assert modal.view["title"]["text"] == "Save as precedent"
    assert "Clinical NLP" in str(modal.view["blocks"][0])  # the task type, fixed
    fields = {b["block_id"]: b["element"] for b in modal.view["blocks"] if b["type"] == "input"}
    assert list(fields) == ["precedent_category", "precedent_ruling", "precedent_rationale"]
    assert [o["value"] for o in fields["precedent_category"]["options"]] == list(
        bot.ctx.workspace.task_type("clinical").error_categories)
    short = bot.driver.submit_view(DOCTOR, modal, {
        "precedent_category": "Clinical reasoning", "precedent_ruling": "Routine.",
        "precedent_rationale": "Too short."}, client_checks=False).json()
    assert "at least 15 characters" in short["errors"]["precedent_ruling"]
    assert "at least 20 characters" in short["errors"]["precedent_rationale"]
    assert _precedents(bot) == []
    answer = bot.driver.submit_view(DOCTOR, modal, {
        "precedent_category": "Clinical reasoning", "precedent_ruling": PRECEDENT_RULING,
        "precedent_rationale": PRECEDENT_WHY})
    assert answer.status == 200 and not answer.body.strip()  # stored, then the form closed
    [saved] = _precedents(bot)
    assert (saved.disagreement_id, saved.sample_id, saved.author, saved.task_type,
            saved.category, saved.ruling) == (row.id, None, DOCTOR, "clinical",
                                              "Clinical reasoning", PRECEDENT_RULING)

    # Found by search (reviewers and managers of the task type), linked to the thread.
    found = shown(ask(bot, NURSE, "precedents routine triage"))
    assert "📌 *Precedent* · *Clinical reasoning*: " + PRECEDENT_RULING in found
    assert PRECEDENT_WHY in found and f"saved by <@{DOCTOR}>" in found
    assert "disagreement on item i1" in found
    assert f"<@{TRAINER1}> *B*" in found and f"<@{NURSE}> *C*" in found
    assert f"⚖️ *Adjudicated* by <@{DOCTOR}>: *C* is right" in found
    assert f"https://sandbox.slack.test/archives/{CLINICAL_CHANNEL}/p" \
        f"{posted[0].ts.replace('.', '')}" in found
    assert PRECEDENT_RULING in shown(ask(bot, MANAGER, "precedents kidneys routine"))
    assert "No precedents" in shown(ask(bot, LAWYER, "precedents routine triage"))
    assert "reviewers and managers" in ask(bot, TRAINER1, "precedents routine").text

    # Its author edits it: the form comes back filled in, and saving replaces the text.
    bot.driver.click(DOCTOR, offer, "Save as precedent", channel=offer.channel)
    edit = bot.driver.wait_for(
        lambda: (m := bot.driver.open_modal(DOCTOR)) and m.id != modal.id and m)
    assert edit.view["title"]["text"] == "Edit precedent"
    edited = {b["block_id"]: b["element"] for b in edit.view["blocks"] if b["type"] == "input"}
    assert edited["precedent_ruling"]["initial_value"] == PRECEDENT_RULING
    assert edited["precedent_category"]["initial_option"]["value"] == "Clinical reasoning"
    bot.driver.submit_view(DOCTOR, edit, {
        "precedent_category": "Clinical reasoning",
        "precedent_ruling": "Stable kidney disease alone never makes triage urgent.",
        "precedent_rationale": PRECEDENT_WHY})
    bot.driver.wait_for(lambda: _precedents(bot)[0].ruling.startswith("Stable"))
    assert len(_precedents(bot)) == 1
    assert "never makes triage urgent" in shown(ask(bot, NURSE, "precedents urgent"))
    assert "No precedents" in shown(ask(bot, NURSE, "precedents routine triage"))

    # The grading modal's two most relevant precedents may include it: a sample whose
    # prompt and output share its words ("interaction table", "medicines", "patient").
    sample = next(r for r in bot.thread_replies(CLINICAL_CHANNEL)
                  if "Major error" in str(r.blocks))
    # The modal opens at once (a trigger id lives 3 seconds) and the precedents, searched
    # after, fill it in: views.open without them, then views.update of the same view.
    bot.driver.click(MANAGER, sample, "Major error", channel=CLINICAL_CHANNEL)
    found = "📌 *Precedent* · *Clinical reasoning*: Stable kidney disease alone"
    grading = bot.driver.wait_for(lambda: (m := bot.driver.open_modal(MANAGER))
                                  and found in str(m.view["blocks"]) and m)
    opened = [c for c in bot.sandbox.calls("views.open")
              if c.params.get("view", {}).get("title", {}).get("text") == "Major error"]
    assert opened and found not in str(opened[-1].params["view"])
    updated = [c for c in bot.sandbox.calls("views.update")
               if c.params.get("view_id") == grading.id]
    assert updated and found in str(updated[-1].params["view"])


def test_only_the_adjudicator_may_save_and_only_once_adjudicated(bot, posted):
    rows = _rows(bot)
    _adjudicate(bot, posted[0], "C", RULING)
    bot.driver.wait_for(lambda: _rows(bot)[0].ruled_at is not None)
    offer = _offer(bot)
    bot.driver.click(MANAGER, offer, "Save as precedent", channel=offer.channel)
    assert "only they can save it" in _told(bot, MANAGER, "adjudicated this disagreement")
    assert all(v.callback_id != "precedent_modal" for v in bot.sandbox.views(MANAGER))

    # A button for a disagreement nobody adjudicated yet (a stale or forged message).
    forged = {"ts": "1796000000.000100", "blocks": [
        {"type": "actions", "block_id": "forged",
         "elements": [save_disagreement_button(rows[1].id or 0)]}]}
    bot.driver.click(DOCTOR, forged, "Save as precedent", channel=CLINICAL_CHANNEL)
    _told(bot, DOCTOR, "nobody has adjudicated this one yet")
    assert all(v.callback_id != "precedent_modal" for v in bot.sandbox.views(DOCTOR))
    # The service refuses the same, whoever calls it.
    with Session(bot.ctx.engine) as session:
        with pytest.raises(NotSettled):
            save_disagreement_precedent(
                session, bot.ctx.workspace, disagreement_id=rows[1].id or 0, author=DOCTOR,
                category="Other", ruling=PRECEDENT_RULING, rationale=PRECEDENT_WHY,
                now=bot.ctx.clock.now())
        with pytest.raises(NotTheSettler):
            save_disagreement_precedent(
                session, bot.ctx.workspace, disagreement_id=rows[0].id or 0, author=NURSE,
                category="Other", ruling=PRECEDENT_RULING, rationale=PRECEDENT_WHY,
                now=bot.ctx.clock.now())
    assert _precedents(bot) == []


def test_a_precedent_belongs_to_exactly_one_sample_or_disagreement(bot, posted):
    """The store refuses a precedent of nothing, or of both a sample and a disagreement."""
    row = _rows(bot)[0]
    now = bot.ctx.clock.now()
    fields = {"task_type": "clinical", "category": "Other", "ruling": PRECEDENT_RULING,
              "rationale": PRECEDENT_WHY, "author": DOCTOR, "created_at": now,
              "updated_at": now}
    with Session(bot.ctx.engine) as session:
        sample = session.exec(select(Sample)).first()
        assert sample is not None
        for keys in ({}, {"sample_id": sample.id, "disagreement_id": row.id}):
            with pytest.raises(IntegrityError), session.begin_nested():
                session.add(SavedRow(**keys, **fields))
                session.flush()
        session.add(SavedRow(disagreement_id=row.id, **fields))
        session.commit()
        with pytest.raises(IntegrityError):  # one per disagreement
            session.add(SavedRow(disagreement_id=row.id, **fields))
            session.flush()
