"""`auditbot demo`: a full audit week in the local Slack sandbox, printed as people saw it.

It runs the real bot (signed HTTP in, or Socket Mode envelopes with ``--socket-mode``; Web
API out) against ``bot.sandbox`` on a fresh SQLite database: loads
``examples/auditbot.toml`` and generated outputs, runs the weekly audit, lets simulated
reviewers click and type, and prints the channel threads, the modal, the refusals and the
week's numbers per trainer (from ``bot.services.standings``); then the trainer's side: a
weekly feedback DM, a dispute overturned by a second reviewer, a disagreement between two
trainers adjudicated, and the scorecard (precision, consistency, clarity) where people read
it.
"""

import logging
import random
import re
import shutil
import tempfile
import textwrap
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlmodel import Session, col, select

from bot.common.clock import FixedClock, SystemClock
from bot.demo.data import WEAK_TRAINER, generate_outputs, simulated_grade, write_jsonl
from bot.demo.local import BOT_TOKEN, LocalBot, start_local_bot
from bot.sandbox.records import Message
from bot.sandbox.render import render_message, render_view
from bot.sandbox.server import SlackSandbox
from bot.services.audit import audit_week
from bot.services.ingest import ingest, label_scales_of, read_records, roster_from_workspace
from bot.services.standings import week_standings
from bot.store.db import make_engine, session_scope, upgrade
from bot.store.models import AuditThread, Escalation, Grade, Sample
from bot.workspace import TaskType, Workspace, load_workspace
from schedules.escalation_check import run_escalation_check

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
NAMES = {
    "U0MANAGER1": "Maya (manager)", "U0NURSE01": "Nora (nurse reviewer)",
    "U0MDOCTOR": "Dr. Dev (clinical reviewer)", "U0LAWYER1": "Lee (lawyer reviewer)",
    "U0ANALYST": "Ana (finance reviewer)", "U0LEAD0001": "Lena (lead)",
    "U0LEAD0002": "Luis (lead)", "U0TRAINER1": "Tara", "U0TRAINER2": "Theo",
    "U0TRAINER3": "Tess", "U0TRAINER4": "Toby", "U0TRAINER5": "Tina", "U0TRAINER6": "Tom",
    "U0OUTSIDER": "Olly (not a reviewer)",
}
OUTPUT_ID = re.compile(r"`(out-[^`]+)`")
WIDTH = 96


def run_demo(*, keep: bool = False, socket_mode: bool = False) -> int:
    started = time.monotonic()
    # The demo prints what people see; the bot's own INFO logs would drown it.
    logging.getLogger().setLevel(logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="auditbot-demo-"))
    workspace = load_workspace(EXAMPLES / "auditbot.toml")
    clock = FixedClock(SystemClock().now())
    engine = make_engine(f"sqlite:///{workdir / 'auditbot.db'}")
    upgrade(engine)
    sandbox = SlackSandbox(bot_token=BOT_TOKEN, users=_people(workspace),
                           channels=_channels(workspace)).start()
    local = start_local_bot(engine=engine, workspace=workspace, clock=clock, sandbox=sandbox,
                            socket_mode=socket_mode)
    try:
        _title("auditbot demo: an audit week in a local Slack sandbox"
               + (" (Socket Mode)" if socket_mode else ""))
        _history(local, workspace, workdir)
        records = _ingest(local, workspace, workdir)
        _audit(local, workspace)
        _show_channel(local, workspace.task_types[0].channel, replies=2)
        _grade_everything(local, workspace, records, verbose=True)
        _refusals(local, workspace)
        _show_graded_sample(local, workspace)
        _tallies(local, workspace)
        _escalation(local, workspace)
        _status(local, workspace, workdir)
        _consistency(local, workspace)
        _trainers_side(local, workspace, workdir)
    finally:
        local.stop()
        engine.dispose()
        if keep:
            print(f"\nThe demo's database is kept at {workdir / 'auditbot.db'}")
        else:  # everything but the chart, which the demo told the user to open
            for path in workdir.iterdir():
                if path.suffix != ".png":
                    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
    print(f"\nDemo finished in {time.monotonic() - started:.1f} s.")
    return 0


# --- steps ------------------------------------------------------------------------------------

def _history(local: LocalBot, workspace: Workspace, workdir: Path) -> None:
    """Two earlier weeks, audited and graded, so scores have a window to stand on."""
    _section("0. Two earlier weeks (audited and graded the same way, shown in brief)")
    clock = local.ctx.clock
    assert isinstance(clock, FixedClock)
    today = clock.now()
    for back in (2, 1):
        clock.set(today - timedelta(weeks=back))
        records = _ingest(local, workspace, workdir, quiet=True)
        summary = local.run_audit()
        graded = _grade_everything(local, workspace, records, verbose=False)
        print(f"{summary.iso_week}: {len(summary.posted)} threads posted, {graded} samples "
              "graded")
    clock.set(today)


def _ingest(local: LocalBot, workspace: Workspace, workdir: Path, *,
            quiet: bool = False) -> dict[str, dict]:
    roster = {t.user: t.task_types for t in workspace.trainers}
    now = local.ctx.clock.now()
    week = audit_week(workspace, now)
    records = generate_outputs(now=now, trainers=roster, weak_trainers=[WEAK_TRAINER],
                               seed=int(week[-2:]))
    for n, record in enumerate(records):
        record["id"] = f"{record['id']}-{week[-3:].lower()}"  # ids stay unique across weeks
        if record["trainer"] == REASONING_TRAINER and not record.get("gold"):
            record["reasoning"] = REASONINGS[n % len(REASONINGS)]  # rated Clear / Unclear
    path = workdir / f"outputs-{week}.jsonl"
    write_jsonl(records, path)
    trainers, task_types = roster_from_workspace(workspace)
    with session_scope(local.ctx.engine) as session:
        report = ingest(session, read_records(path), known_trainers=trainers,
                        known_task_types=task_types, now=now,
                        label_scales=label_scales_of(workspace))
    if quiet:
        return {r["id"]: r for r in records}
    _section("1. This week's trainer outputs arrive")
    gold = sum(1 for r in records if r.get("gold"))
    print(f"$ auditbot ingest outputs.jsonl\n{report.summary_line()}")
    print(f"({len(roster)} trainers over {len(workspace.task_types)} task types; "
          f"{gold} are calibration items with a known answer the reviewers never see)")
    return {r["id"]: r for r in records}


def _audit(local: LocalBot, workspace: Workspace) -> None:
    _section("2. The weekly audit runs")
    # Slack will rate-limit a busy channel now and then; show that the outbox waits it out.
    local.sandbox.ratelimit_next("chat.postMessage", times=1, retry_after=1)
    began = time.monotonic()
    summary = local.run_audit()
    print(summary.describe())
    limited = [c for c in local.sandbox.calls("chat.postMessage") if c.status == 429]
    posted = [c for c in local.sandbox.calls("chat.postMessage") if c.ok]
    print(f"Delivered {len(posted)} messages in {time.monotonic() - began:.1f} s; Slack answered "
          f"HTTP 429 {len(limited)} time(s) and the outbox waited out Retry-After, "
          "without losing or doubling a post.")
    again = local.run_audit()
    print(f"A second run of the job for {again.iso_week}: "
          f"{sum(r.outcome == 'already posted' for r in again.results)} threads already posted, "
          f"{len(local.sandbox.calls('chat.postMessage')) - len(posted) - len(limited)} new posts.")


def _show_channel(local: LocalBot, channel: str, *, replies: int) -> None:
    name = local.sandbox.channel_names.get(channel, channel)
    _section(f"3. What reviewers see in #{name}")
    parents = local.parents(channel)
    for parent in parents[:1]:
        _box(render_message(parent, names=NAMES))
        thread = [m for m in local.thread_replies(channel) if m.thread_ts == parent.ts]
        for reply in thread[:replies]:
            _box(_shorten(render_message(reply, names=NAMES)), indent="    ↳ ")
        print(f"    ↳ … {len(thread) - replies} more samples in this thread")
    print(f"(#{name} has {len(parents)} threads this week, one per trainer)")


def _grade_everything(local: LocalBot, workspace: Workspace, records: dict[str, dict], *,
                      verbose: bool) -> int:
    if verbose:
        _section("4. Reviewers grade in the threads")
    rng = random.Random(11)
    rated = 0  # reasoning rated so far (no draw from ``rng``: the grades stay as they were)
    driver = local.driver
    shown_modal = shown_error = not verbose
    before = _graded(local)
    expected = 0
    for task_type in workspace.task_types:
        for reply in local.thread_replies(task_type.channel):
            record = records.get(_output_id(reply))
            if record is None:
                continue  # an earlier week's sample
            reviewers = [r for r in task_type.reviewers if r != record["trainer"]]
            reviewer = rng.choice(reviewers)
            grade, category, explanation = simulated_grade(record, reviewer=reviewer, rng=rng)
            expected += 1
            if record.get("reasoning"):
                _rate_reasoning(local, reviewer, reply, channel=task_type.channel,
                                clear=rated % 4 != 2)  # one in four Unclear
                rated += 1
            if grade == "pass":
                driver.click(reviewer, reply, "Pass", channel=task_type.channel)
                continue
            label = "Minor issue" if grade == "minor" else "Major error"
            driver.click(reviewer, reply, label, channel=task_type.channel)
            modal = driver.wait_for(partial(driver.open_modal, reviewer))
            if not shown_modal:
                print(f"{NAMES.get(reviewer, reviewer)} clicks [{label}] and gets a modal:")
                _box(_shorten(render_view(modal, names=NAMES), lines=20))
                shown_modal = True
            if not shown_error:
                answer = driver.submit_view(reviewer, modal, {
                    "category": category, "explanation": "wrong dose"},
                    client_checks=False).json()
                print("A too-short explanation is refused on the field, the modal stays open:")
                print(f"    explanation: {answer['errors']['explanation']}")
                shown_error = True
            driver.submit_view(reviewer, modal, {"category": category,
                                                 "explanation": explanation})
    driver.wait_for(lambda: _graded(local) >= before + expected, timeout=30)
    _second_reviews(local, workspace, records, keep_one=verbose)
    local.deliver()
    if verbose:
        how = ("button clicks and modal submissions sent as Socket Mode envelopes"
               if driver.socket is not None else "signed button clicks and modal submissions")
        print(f"\n{expected} samples graded through {how}; every sample message was updated "
              "to show its grade.")
    return expected


# One trainer writes down why they answered as they did (the record's `reasoning`);
# reviewers rate it Clear or Unclear beside the grade: the scorecard's clarity.
REASONING_TRAINER = "U0TRAINER1"
REASONINGS = (
    "I followed the source note's plan step by step and said when to seek urgent care.",
    "Kept to the prompt's facts; the safety advice comes first because the patient asked "
    "about combining medicines.",
    "Routine case, so I gave the standard advice.",
)


def _rate_reasoning(local: LocalBot, reviewer: str, reply: Message, *, channel: str,
                    clear: bool) -> None:
    """The reviewer rates the trainer's reasoning: one click, Unclear asks why."""
    if clear:
        local.driver.click(reviewer, reply, "Clear", channel=channel)
        return
    local.driver.click(reviewer, reply, "Unclear", channel=channel)
    modal = local.driver.wait_for(partial(local.driver.open_modal, reviewer))
    local.driver.submit_view(reviewer, modal, {
        "clarity_reason": "Says what was done, not why this case calls for it."})


def _second_reviews(local: LocalBot, workspace: Workspace, records: dict[str, dict], *,
                    keep_one: bool) -> None:
    """Second reviewers grade the double reviews of ``records`` (in brief, through the
    grading service): a double review counts only once both grades are in. With
    ``keep_one``, one (not the weak trainer's) still waits, for step 10 to show. Then the
    escalation check runs, as its schedule would a few minutes later."""
    from bot.services.grading import record_grade, sample_grades

    rng = random.Random(7)
    now = local.ctx.clock.now()
    kept = not keep_one
    with session_scope(local.ctx.engine) as session:
        rows = session.exec(select(Sample, AuditThread).join(AuditThread).where(
            col(Sample.output_id).in_(list(records)),
            Sample.needs_double_review == True)  # noqa: E712
            .order_by(col(Sample.id))).all()
        for sample, thread in rows:
            given = sample_grades(session, sample.id or 0)
            others = [r for r in workspace.task_type(thread.task_type).reviewers
                      if given and r not in (given[0].reviewer, thread.trainer)]
            if len(given) != 1 or not others:
                continue
            if not kept and thread.trainer != WEAK_TRAINER and given[0].grade != "minor":
                kept = True
                continue
            grade, category, why = simulated_grade(records[sample.output_id],
                                                   reviewer=others[0], rng=rng)
            record_grade(session, workspace, sample_id=sample.id or 0, reviewer=others[0],
                         grade=grade, category=category, explanation=why, now=now)
    run_escalation_check(local.ctx, now=now)  # as the scheduled check would, minutes later


def _refusals(local: LocalBot, workspace: Workspace) -> None:
    _section("5. Clicks that are refused (only the clicker sees why; nothing is recorded)")
    task_type = workspace.task_types[0]
    reply = local.thread_replies(task_type.channel)[0]
    outsider = "U0OUTSIDER"
    local.driver.click(outsider, reply, "Pass", channel=task_type.channel)
    seen = local.driver.wait_for(lambda: local.sandbox.ephemerals(user=outsider))
    print(f"{NAMES[outsider]} clicks [Pass]  →  only they see: “{seen[-1].text}”")
    own = _own_sample(local, workspace)
    if own is not None:
        reviewer, message, channel = own
        before = len(local.sandbox.ephemerals(user=reviewer))
        local.driver.click(reviewer, message, "Pass", channel=channel)
        seen = local.driver.wait_for(
            lambda: local.sandbox.ephemerals(user=reviewer)[before:])
        print(f"{NAMES.get(reviewer, reviewer)} grades their own output  →  “{seen[-1].text}”")
    if local.driver.socket is not None:
        opened = len(local.sandbox.calls("apps.connections.open"))
        print(f"Socket Mode: no request signatures; the bot opened its {opened} connection(s) "
              "with its app-level token")
        return
    forged = local.driver.click("U0NURSE01", reply, "Pass", channel=task_type.channel,
                                signature="wrong")
    print(f"A request with a forged signature  →  HTTP {forged.status}, nothing changes")


def _show_graded_sample(local: LocalBot, workspace: Workspace) -> None:
    _section("6. A sample after grading (the message itself is updated)")
    for task_type in workspace.task_types:
        for reply in local.thread_replies(task_type.channel):
            if "🔴 Major error" in render_message(reply, names=NAMES):
                _box(_shorten(render_message(reply, names=NAMES), keep_tail=3))
                return


def _tallies(local: LocalBot, workspace: Workspace) -> None:
    week = audit_week(workspace, local.ctx.clock.now())
    _section(f"7. The week in numbers ({week})")
    with Session(local.ctx.engine) as session:
        standings = week_standings(session, workspace, iso_week=week)
    print(f"{'trainer':<10}{'task type':<11}{'graded':>7}{'pass':>6}{'minor':>6}{'major':>6}"
          f"{'score':>7}{'threshold':>11}")
    for (trainer, task_type), s in standings.items():
        below = s.score is not None and s.score < s.threshold
        flag = "  ⚠ below threshold" if below else ""
        score = f"{s.score:.2f}" if s.score is not None else "–"
        print(f"{NAMES.get(trainer, trainer):<10}{task_type:<11}{s.graded:>7}"
              f"{s.counts['pass']:>6}{s.counts['minor']:>6}{s.counts['major']:>6}"
              f"{score:>7}{s.threshold:>11.2f}{flag}")


def _escalation(local: LocalBot, workspace: Workspace) -> None:
    _section("8. The weak trainer's quality fell: the escalation path")
    summary = run_escalation_check(local.ctx, now=local.ctx.clock.now())
    local.deliver()
    with Session(local.ctx.engine) as session:
        escalations = session.exec(select(Escalation)).all()
    if not escalations:
        print("No trainer is confidently below the threshold this time.")
        return
    escalation = escalations[0]
    trainer = workspace.trainer(escalation.trainer)
    if trainer is None or trainer.lead is None:
        raise RuntimeError(f"the demo workspace gives {escalation.trainer} no lead to notify")
    lead = trainer.lead
    manager = workspace.managers[0]
    notice = next(m for m in local.sandbox.dms(lead) if "Quality escalation" in m.text)
    told = [m for m in local.sandbox.dms(manager) if "Quality escalation" in m.text]
    opened = audit_week(workspace, escalation.opened_at)
    print(f"The threshold check opened it in {opened} and DMed {NAMES.get(lead, lead)}. "
          f"Nobody acknowledged within {workspace.escalation.levels[0].ack_within}, so the "
          f"escalation check climbed {len(summary.climbed)} escalation(s): "
          f"{NAMES.get(manager, manager)} has {len(told)} DM about it. "
          f"{NAMES.get(lead, lead)}'s message, kept up to date:")
    _box(_shorten(render_message(notice, names=NAMES), lines=26, keep_tail=4))
    local.driver.click(manager, told[-1], "Acknowledge", channel=told[-1].channel)
    local.driver.wait_for(lambda: "Acknowledged by" in render_message(
        local.sandbox.message(notice.channel, notice.ts) or notice))
    updated = local.sandbox.message(notice.channel, notice.ts)
    if updated is None:
        raise RuntimeError(f"the escalation notice {notice.ts} left {notice.channel}")
    status = [row for row in render_message(updated, names=NAMES).splitlines()
              if "notified" in row or "Escalated" in row or "Acknowledged" in row]
    print(f"\n{NAMES.get(manager, manager)} clicks [Acknowledge]; every message about it now "
          "says so, and the climb stops:")
    _box("\n".join(row.strip() for row in status))


# --- helpers ----------------------------------------------------------------------------------

def _graded(local: LocalBot) -> int:
    from sqlmodel import func, select

    from bot.store.models import Grade

    with Session(local.ctx.engine) as session:
        return session.exec(select(func.count()).select_from(Grade)).one()


def _own_sample(local: LocalBot, workspace: Workspace) -> tuple[str, Message, str] | None:
    """A sample written by someone who also reviews that task type, if the workspace has one."""
    for task_type in workspace.task_types:
        for parent in local.parents(task_type.channel):
            for reviewer in task_type.reviewers:
                if f"<@{reviewer}>" in parent.text:
                    reply = next(m for m in local.thread_replies(task_type.channel)
                                 if m.thread_ts == parent.ts)
                    return reviewer, reply, task_type.channel
    return None


def _output_id(message: Message) -> str:
    match = OUTPUT_ID.search(message.blocks[0]["text"]["text"])
    if match is None:
        raise ValueError("a sample message without its output id")
    return match.group(1)


def _people(workspace: Workspace) -> dict[str, str]:
    people = dict(NAMES)
    for task_type in workspace.task_types:
        for reviewer in task_type.reviewers:
            people.setdefault(reviewer, reviewer)
    for trainer in workspace.trainers:
        people.setdefault(trainer.user, trainer.user)
    return people


def _channels(workspace: Workspace) -> dict[str, str]:
    channels = {t.channel: f"audit-{t.key}" for t in workspace.task_types}
    for level in workspace.escalation.levels:
        for target in level.notify:
            if target[0] in "CG":
                channels.setdefault(target, "quality")
    return channels


def _shorten(text: str, *, lines: int = 14, keep_tail: int = 2) -> str:
    rows = [textwrap.shorten(row, WIDTH, placeholder=" …") if len(row) > WIDTH else row
            for row in text.splitlines()]
    if len(rows) <= lines:
        return "\n".join(rows)
    return "\n".join([*rows[: lines - keep_tail - 1], "   ⋮", *rows[-keep_tail:]])


def _title(text: str) -> None:
    print("═" * WIDTH + f"\n{text}\n" + "═" * WIDTH)


def _section(text: str) -> None:
    print(f"\n── {text} " + "─" * max(0, WIDTH - len(text) - 4))


def _box(text: str, *, indent: str = "  ") -> None:
    pad = " " * len(indent)
    for number, row in enumerate(text.splitlines()):
        print((indent if number == 0 else pad) + row)


def _status(local: LocalBot, workspace: Workspace, workdir: Path) -> None:
    """`/audit status`, one trainer's answer, and their chart as a PNG file to open."""
    _section("9. How are we doing? `/audit status` (only the asker sees it)")
    manager, driver = workspace.managers[0], local.driver
    before = len(local.sandbox.ephemerals(user=manager))
    driver.slash_command(manager, "status")
    answer = driver.wait_for(lambda: local.sandbox.ephemerals(user=manager)[before:])[-1]
    _box(_shorten(render_message(answer, names=NAMES), lines=40))
    driver.slash_command(manager, f"status <@{WEAK_TRAINER}>")
    mine = driver.wait_for(lambda: [e for e in local.sandbox.ephemerals(user=manager)
                                    if "Audit status for" in e.text])[-1]
    print(f"\n`/audit status @{NAMES.get(WEAK_TRAINER, WEAK_TRAINER)}`:")
    _box(_shorten(render_message(mine, names=NAMES), lines=16, keep_tail=3))
    driver.click(manager, mine, "Show chart", channel="C0GENERAL")
    chart = driver.wait_for(lambda: [f for f in local.sandbox.files(manager) if f.is_png],
                            timeout=30)[-1]
    path = workdir / chart.filename
    path.write_bytes(chart.data or b"")
    print(f"\n[Show chart] uploads a PNG to {NAMES.get(manager, manager)}'s DM (Slack's "
          f"files upload flow). Open it: {path}")
    _precedents(local, workspace)


def _precedents(local: LocalBot, workspace: Workspace) -> None:
    """A reviewer about to grade looks up how the same kind of error was judged before."""
    task_type = workspace.task_types[0]
    reviewer = task_type.reviewers[0]
    with Session(local.ctx.engine) as session:
        category = session.exec(
            select(Grade.category).join(Sample, col(Sample.id) == col(Grade.sample_id))
            .join(AuditThread, col(AuditThread.id) == col(Sample.thread_id))
            .where(AuditThread.task_type == task_type.key, col(Grade.category).is_not(None))
        ).first()
    if category is None:
        return
    before = len(local.sandbox.ephemerals(user=reviewer))
    local.driver.slash_command(reviewer, f"precedents {category}")
    answer = local.driver.wait_for(lambda: local.sandbox.ephemerals(user=reviewer)[before:])[-1]
    print(f"\n{NAMES.get(reviewer, reviewer)} checks how earlier errors were judged: "
          f"`/audit precedents {category}`")
    _box(_shorten(render_message(answer, names=NAMES), lines=14, keep_tail=2))


def _save_precedent(local: LocalBot, workspace: Workspace, *, task_type: TaskType,
                    reviewer: str) -> None:
    """The manager saves the settled disagreement as a precedent; a reviewer finds it."""
    driver, manager = local.driver, workspace.managers[0]
    offer = driver.wait_for(lambda: [m for m in local.sandbox.dms(manager)
                                     if "You settled" in m.text])[-1]
    driver.click(manager, offer, "Save as precedent", channel=offer.channel)
    modal = driver.wait_for(lambda: driver.open_modal(manager))
    assert modal is not None
    ruling = "Advice that is unsafe as written is a Major error, however well it reads."
    driver.submit_view(manager, modal, {
        "precedent_category": task_type.error_categories[0], "precedent_ruling": ruling,
        "precedent_rationale": "A trainer's output is graded as the patient would read it: "
                               "a safety caveat the reader can miss does not make it safe."})
    print(f"\n{NAMES.get(manager, manager)}'s DM about the settlement offers [Save as "
          "precedent]; the form (task type fixed, category, ruling in one sentence, why):")
    _box(_shorten(render_view(modal, names=NAMES), lines=10, keep_tail=3))
    before = len(local.sandbox.ephemerals(user=reviewer))
    driver.slash_command(reviewer, "precedents unsafe as written")
    answer = driver.wait_for(lambda: local.sandbox.ephemerals(user=reviewer)[before:])[-1]
    print(f"\n{NAMES.get(reviewer, reviewer)} finds it with `/audit precedents unsafe as "
          "written` (full-text search, most relevant first); from now on the Minor issue / Major "
          "error form also shows the two saved precedents most like the sample being graded:")
    _box(_shorten(render_message(answer, names=NAMES), lines=10, keep_tail=2))


def _consistency(local: LocalBot, workspace: Workspace) -> None:
    """Double review (blind), a dispute settled by a manager, a calibration reveal, agreement."""
    import json

    from bot.services.consistency import agreement_by_task_type
    from bot.services.grading import record_grade, sample_grades
    from bot.services.outliers import spreads
    from bot.store.models import AuditThread, Sample, TrainerOutput

    _section("10. Consistency: a blind double review, a dispute settled, calibration, agreement")
    driver, manager, now = local.driver, workspace.managers[0], local.ctx.clock.now()
    with Session(local.ctx.engine) as session:  # a double review with only its first grade in
        rows = session.exec(select(Sample, AuditThread).join(AuditThread).where(
            AuditThread.iso_week == audit_week(workspace, now),
            Sample.needs_double_review == True)).all()  # noqa: E712
        first = next(((s, t, g[0]) for s, t in rows for g in [sample_grades(session, s.id or 0)]
                      if len(g) == 1 and g[0].grade != "minor"
                      and len(workspace.task_type(t.task_type).reviewers) > 1), None)
    if first is None:
        print("No double-reviewed sample waits for its second review this time.")
        return
    sample, thread, review = first
    task_type = workspace.task_type(thread.task_type)
    second = next(r for r in task_type.reviewers if r not in (review.reviewer, thread.trainer))
    message = local.sandbox.message(thread.channel, sample.message_ts or "")
    assert message is not None
    print(f"{NAMES.get(review.reviewer, review.reviewer)} graded this double-reviewed sample; "
          "nobody sees the grade until a second reviewer has graded it:")
    _box(_shorten(render_message(message, names=NAMES), lines=8, keep_tail=2))
    opposite = "Pass" if review.grade == "major" else "Major error"
    driver.click(second, message, opposite, channel=thread.channel)
    if opposite != "Pass":
        grade_modal = driver.wait_for(lambda: driver.open_modal(second))
        assert grade_modal is not None
        driver.submit_view(second, grade_modal, {
            "category": task_type.error_categories[0],
            "explanation": "The core recommendation is unsafe for this patient as written."})
    notice = driver.wait_for(lambda: [m for m in local.sandbox.dms(manager)
                                      if "disagree" in m.text])[-1]
    print(f"\n{NAMES.get(second, second)} grades it [{opposite}]: a whole step apart, so it is "
          f"disputed and left out of the score. {NAMES.get(manager, manager)} gets a DM:")
    _box(_shorten(render_message(notice, names=NAMES), lines=12, keep_tail=2))
    driver.click(manager, notice, "Settle", channel=notice.channel)
    modal = driver.wait_for(lambda: driver.open_modal(manager))
    assert modal is not None
    _box(_shorten(render_view(modal, names=NAMES), lines=12, keep_tail=4))
    driver.submit_view(manager, modal, {"settle_grade": "major", "settle_note": (
        "The advice is unsafe as written: a major error. Reviewers, please re-read the "
        "rubric's safety section together.")})
    told = driver.wait_for(lambda: [m for m in local.sandbox.dms(review.reviewer)
                                    if "settled" in m.text])[-1]
    print(f"\n{NAMES.get(manager, manager)} settles it; both reviewers are told by DM, e.g. "
          f"{NAMES.get(review.reviewer, review.reviewer)}:")
    _box(_shorten(render_message(told, names=NAMES), lines=8))
    _save_precedent(local, workspace, task_type=task_type, reviewer=second)
    reveal = next((e for e in local.sandbox.ephemerals() if "Calibration item" in e.text), None)
    if reveal is not None:
        print(f"\nAfter grading a calibration item, only {NAMES.get(reveal.user, reveal.user)} "
              "saw (ephemeral, in the thread):")
        _box(_shorten(render_message(reveal, names=NAMES), lines=6))
    with session_scope(local.ctx.engine) as session:  # the other double reviews, in brief
        rng = random.Random(5)
        for s, t in session.exec(select(Sample, AuditThread).join(AuditThread)
                                 .where(Sample.needs_double_review == True)).all():  # noqa: E712
            given = sample_grades(session, s.id or 0)
            others = [r for r in workspace.task_type(t.task_type).reviewers
                      if given and r not in (given[0].reviewer, t.trainer)]
            if len(given) != 1 or not others:
                continue
            output = session.get(TrainerOutput, s.output_id)
            assert output is not None
            record = {"metadata": json.loads(output.metadata_json or "{}"),
                      "gold": {"grade": output.gold_grade, "note": output.gold_note}}
            grade, category, why = simulated_grade(record, reviewer=others[0], rng=rng)
            record_grade(session, workspace, sample_id=s.id or 0, reviewer=others[0],
                         grade=grade, category=category, explanation=why, now=now)
    local.deliver()
    print("\nThe other double-reviewed samples of the three weeks got their second review "
          "too.\nReviewer agreement over the window (double-reviewed samples, blind grades):")
    with Session(local.ctx.engine) as session:
        for a in agreement_by_task_type(session, workspace, now=now):
            if not a.double_reviewed:
                print(f"  {a.task_name:<20}   no double reviews (one reviewer, or fraction 0)")
                continue
            alpha = f"{a.alpha:.2f}" if a.alpha is not None else "undefined (all alike)"
            print(f"  {a.task_name:<20} {a.double_reviewed:>3} double-reviewed · Krippendorff's "
                  f"alpha {alpha} · exact agreement {a.percent:.0%}"
                  + ("  ⚠ managers alerted" if a.alert else ""))
        for spread in spreads(session, workspace, now=now):
            for low in spread.outliers:
                print(f"  {spread.task_name}: {NAMES.get(low.trainer, low.trainer)} scores "
                      f"{low.score or 0:.2f} over {low.graded} samples, significantly below "
                      f"the rest (exact permutation p = {low.p_value or 0:.4f}, kept after "
                      f"Benjamini–Hochberg at {spread.fdr:.0%} false discoveries)")


# --- the trainer's side -----------------------------------------------------------------------

# Two clinical trainers triage the same three cases (item), each with a label (A urgent .. C
# routine) and their reasoning; they disagree on the first.
SHARED_ITEMS = (
    ("triage-0042", "A 67-year-old on warfarin asks whether ibuprofen is fine for a sore knee.",
     {"U0TRAINER1": ("B", "B: the bleeding risk with warfarin needs a clinician this week, "
                          "not an emergency visit."),
      "U0TRAINER2": ("C", "C: knee pain without swelling or trauma is routine.")}),
    ("triage-0043", "Crushing chest pain for 20 minutes, sweating, short of breath.",
     {"U0TRAINER1": ("A", "A: possible myocardial infarction, call emergency services."),
      "U0TRAINER2": ("A", "A: these are heart attack symptoms; emergency now.")}),
    ("triage-0044", "A mild seasonal hay fever flare; asks which antihistamine is cheapest.",
     {"U0TRAINER1": ("C", "C: routine; any pharmacist can advise."),
      "U0TRAINER2": ("C", "C: routine, no red flags.")}),
)
RULING = ("B: warfarin with an NSAID is a bleeding risk that needs a clinician within days, "
          "though not an emergency.")


def _buttons(message: Message) -> list[str]:
    return [e["text"]["text"] for b in message.blocks if b["type"] == "actions"
            for e in b["elements"] if e.get("type") == "button"]


def _trainers_side(local: LocalBot, workspace: Workspace, workdir: Path) -> None:
    _section("11. The trainer's side: feedback, a dispute, a disagreement, the scorecard")
    _feedback_and_dispute(local, workspace)
    _disagreement(local, workspace, workdir)
    _scorecard(local, workspace)


def _feedback_and_dispute(local: LocalBot, workspace: Workspace) -> None:
    """The weak trainer's weekly DM; they dispute a grade; a second reviewer overturns it."""
    driver, now = local.driver, local.ctx.clock.now()
    week = audit_week(workspace, now)
    run_escalation_check(local.ctx, now=now)  # its catch-up owes any week fully graded since
    local.deliver()
    found = [(t.user, m) for t in sorted(workspace.trainers, key=lambda t: t.user != WEAK_TRAINER)
             for m in local.sandbox.dms(t.user)
             if f"feedback for {week}" in m.text and "Dispute" in _buttons(m)]
    if not found:
        print("No trainer's week is fully graded with a non-pass in it this time.")
        return
    trainer, dm = found[0]
    who = NAMES.get(trainer, trainer)
    print(f"Once {who}'s week is fully graded (every grade final), {who} gets one DM: what "
          "passed, every non-pass with its reviewer's explanation (reviewers' names hidden by "
          "default), and their score:")
    _box(_shorten(render_message(dm, names=NAMES), lines=22, keep_tail=4))
    first = next(e["action_id"] for b in dm.blocks if b["type"] == "actions"
                 for e in b["elements"] if e.get("text", {}).get("text") == "Dispute")
    driver.click(trainer, dm, first, channel=dm.channel)  # the first item's Dispute
    modal = driver.wait_for(lambda: driver.open_modal(trainer))
    assert modal is not None
    reasoning = ("My answer follows the source note the prompt gives; the error the reviewer "
                 "names is not in my text. Please read it again against the note.")
    driver.submit_view(trainer, modal, {"dispute_reasoning": reasoning})
    print(f"\n{who} clicks [Dispute] on the first one and explains why (at least 20 "
          "characters):")
    _box(_shorten(render_view(modal, names=NAMES), lines=10, keep_tail=2))
    reviewers = {r for t in workspace.task_types for r in t.reviewers}

    def asked() -> list[tuple[str, Message]]:
        return [(r, m) for r in sorted(reviewers) for m in local.sandbox.dms(r)
                if "disputes a" in m.text and "Overturn" in _buttons(m)]

    pending = driver.wait_for(asked, timeout=20)
    reviewer, ask = pending[-1]
    print(f"\nThe sample goes blind to another reviewer of the task type (never the first "
          f"reviewer, never the trainer's lead): {NAMES.get(reviewer, reviewer)} reads the "
          "trainer's reasoning, not the first grade:")
    _box(_shorten(render_message(ask, names=NAMES), lines=14, keep_tail=3))
    driver.click(reviewer, ask, "Overturn", channel=ask.channel)
    decide = driver.wait_for(lambda: driver.open_modal(reviewer))
    assert decide is not None
    driver.submit_view(reviewer, decide, {
        "decide_grade": "pass", "decide_reason": "Read against the source note, the answer is "
                                                 "right: the error named is not in the text."})
    told = driver.wait_for(lambda: [m for m in local.sandbox.dms(trainer)
                                    if "was overturned" in m.text], timeout=20)[-1]
    print(f"\n{NAMES.get(reviewer, reviewer)} clicks [Overturn] with a reason; the grade is "
          f"replaced and the score counts the new one. {who} is told (so is the first "
          "reviewer):")
    _box(_shorten(render_message(told, names=NAMES), lines=10, keep_tail=2))


def _disagreement(local: LocalBot, workspace: Workspace, workdir: Path) -> None:
    """Two trainers label the same items; the weekly audit posts the one they disagree on;
    a reviewer adjudicates it."""
    task_type = next((t for t in workspace.task_types if t.key == "clinical"), None)
    trainers = {u for _, _, labels in SHARED_ITEMS for u in labels}
    if task_type is None or not trainers <= {t.user for t in workspace.trainers_of("clinical")}:
        return
    now = local.ctx.clock.now()
    records = []
    for n, (item, prompt, labels) in enumerate(SHARED_ITEMS):
        for trainer, (label, why) in labels.items():
            records.append({
                "id": f"shared-{item}-{trainer.lower()}", "trainer": trainer,
                "task_type": "clinical", "prompt": prompt,
                "output": f"Triage {label}. {why}", "item": item, "label": label,
                "reasoning": why,
                "created_at": (now - timedelta(hours=3 + n)).strftime("%Y-%m-%dT%H:%M:%SZ")})
    path = workdir / "shared-items.jsonl"
    write_jsonl(records, path)
    known_trainers, task_types = roster_from_workspace(workspace)
    with session_scope(local.ctx.engine) as session:
        ingest(session, read_records(path), known_trainers=known_trainers,
               known_task_types=task_types, now=now, label_scales=label_scales_of(workspace))
    local.run_audit()  # the job again: threads already posted, the disagreements are new
    posted = [m for m in local.parents(task_type.channel) if "Disagreement between" in m.text]
    if not posted:
        print("No disagreement between trainers to post this time.")
        return
    message = posted[-1]
    names = " and ".join(NAMES.get(t, t) for t in sorted(trainers))
    print(f"\n{names} each triaged the same three cases (records with `item`, `label` and "
          f"`reasoning`). The weekly audit posts the case they disagree on most to "
          f"#{local.sandbox.channel_names.get(task_type.channel)}, side by side:")
    _box(_shorten(render_message(message, names=NAMES), lines=14, keep_tail=2))
    reviewer = next(r for r in task_type.reviewers if r not in trainers)
    local.driver.click(reviewer, message, "Adjudicate", channel=task_type.channel)
    modal = local.driver.wait_for(lambda: local.driver.open_modal(reviewer))
    assert modal is not None
    local.driver.submit_view(reviewer, modal, {"ruling_label": "B", "ruling_reason": RULING})
    local.driver.wait_for(lambda: "Adjudicated" in render_message(
        local.sandbox.message(message.channel, message.ts) or message), timeout=20)
    updated = local.sandbox.message(message.channel, message.ts)
    assert updated is not None
    ruled = [row for row in render_message(updated, names=NAMES).splitlines()
             if "Adjudicated" in row]
    print(f"\n{NAMES.get(reviewer, reviewer)} clicks [Adjudicate], picks the right label and "
          "says why (at least 20 characters); the first ruling stands and the thread shows it:")
    _box("\n".join(textwrap.shorten(r, WIDTH, placeholder=" …") for r in ruled))


def _scorecard(local: LocalBot, workspace: Workspace) -> None:
    """The scorecard in `/audit status @trainer` and in a lead's App Home rows."""
    trainer = "U0TRAINER1"
    found = workspace.trainer(trainer)
    if found is None or found.lead is None:
        return
    driver, lead = local.driver, found.lead
    before = len(local.sandbox.ephemerals(user=trainer))
    driver.slash_command(trainer, f"status <@{trainer}>")
    answer = driver.wait_for(lambda: local.sandbox.ephemerals(user=trainer)[before:])[-1]
    card = [row for row in render_message(answer, names=NAMES).splitlines()
            if row.lstrip(" *").startswith(("Scorecard", "Precision", "Consistency",
                                            "Clarity", "👀"))]
    print(f"\n{NAMES.get(trainer, trainer)}'s scorecard in `/audit status @self`: precision "
          "(the score), consistency with the other trainers on shared items, clarity of "
          "their written reasoning (reviewers' Clear / Unclear ratings), each with its "
          "interval and weekly trend:")
    _box("\n".join(textwrap.shorten(r, WIDTH, placeholder=" …") for r in card))
    publishes = len(local.sandbox.calls("views.publish"))
    driver.app_home_opened(lead)
    driver.wait_for(lambda: len(local.sandbox.calls("views.publish")) > publishes)
    home = local.sandbox.home(lead) or {}
    rows = render_view(home, names=NAMES).splitlines()
    start = next((i for i, r in enumerate(rows) if "Your trainers" in r), None)
    if start is None:
        return
    part = []
    for row in rows[start + 1:]:
        if row.startswith("│ ──") or "Page " in row or "Updated" in row:
            break
        part.append(row)
    print(f"\n{NAMES.get(lead, lead)}'s App Home: each of her trainers' rows carries the "
          "compact scorecard (P precision · C consistency · Cl clarity, 👀 on watch):")
    _box("\n".join(part[:12]))
