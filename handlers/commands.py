"""`/audit`'s subcommands that read and change the audit (status, pending, precedents,
escalations, away, run, pause, resume, export), and the buttons their answers carry.

Each is declared in ``SUBCOMMANDS`` beside its runner: its usage for the help, an argument
reader and a runner; ``handlers.slash`` builds the `/audit` table from them and dispatches.
A runner answers ephemerally through response_url: read the arguments → one service call →
Block Kit → ``call.answer``.
"""

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.follow.weekly_audit import run_weekly_audit
from bot.present.charts import trainer_chart
from bot.services.audit import audit_week
from bot.services.escalation_view import escalation_overview
from bot.services.export import export_grades
from bot.services.outbox import failed_deliveries
from bot.services.pending import pending_for
from bot.services.people import (
    check_known,
    check_manager,
    clear_away,
    roles_of,
    set_away,
    set_paused,
)
from bot.services.precedents import find_precedents
from bot.services.status import team_status
from bot.services.trainer_report import trainer_report
from bot.services.trainer_rows import trainer_rows
from bot.slack.commands import (
    AwayRequest,
    StatusPage,
    Usage,
    away_args,
    no_args,
    one_user,
    some_words,
    status_args,
)
from bot.slack.errors import fix_for
from bot.slack.files import send_to_dm
from bot.slack.ids import Action
from bot.slack.links import permalinks_for
from bot.slack.payloads import BadPayload, parse_click
from bot.slack.precedents_blocks import precedents_message
from bot.slack.status_blocks import (
    escalations_message,
    pending_message,
    team_status_message,
    trainer_report_message,
    trainer_rows_message,
)
from bot.wiring.context import AppContext
from handlers.errors import check_answer, guarded
from handlers.subcommand import Call, Subcommand

PENDING_SHOWN = 20


def register(app: App, ctx: AppContext) -> None:
    @app.action(Action.SHOW_CHART)
    @guarded(ctx)
    def show_chart(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        click = parse_click(body)
        now = ctx.clock.now()
        with ctx.session() as session:
            report = trainer_report(session, ctx.workspace, trainer=click.value,
                                    viewer=click.user, now=now)
        week = audit_week(ctx.workspace, now)
        send_to_dm(ctx.client, user=click.user, filename=f"audit-{report.trainer}-{week}.png",
                   content=trainer_chart(report), title=f"Audit results, {week}",
                   comment=f"📈 <@{report.trainer}>'s weekly scores and grade mix ({week}).")
        check_answer(respond(response_type="ephemeral", replace_original=False,
                             text="📈 The chart is in your DM with auditbot."), user=click.user)

    @app.action(Action.STATUS_MORE)
    @guarded(ctx)
    def status_more(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        click = parse_click(body)
        if not click.value.isdigit():
            raise BadPayload(f"status page {click.value!r} is not a number")
        _status(Call(ctx=ctx, user=click.user, args=StatusPage(int(click.value)),
                     respond=respond))


# --- runners ----------------------------------------------------------------------------------

def _status(call: Call) -> None:
    ctx, now = call.ctx, call.ctx.clock.now()
    if isinstance(call.args, StatusPage):  # `status more N` or the More button
        check_known(ctx.workspace, call.user)
        with ctx.read_session() as session:
            rows = trainer_rows(session, ctx.workspace, viewer=call.user, now=now,
                                page=call.args.page)
        call.answer(*trainer_rows_message(rows))
        return
    with ctx.read_session() as session:
        if call.args is not None:
            report = trainer_report(session, ctx.workspace, trainer=call.args,
                                    viewer=call.user, now=now)
        else:
            roles = check_known(ctx.workspace, call.user)
            team = team_status(session, ctx.workspace, now=now, viewer=call.user)
            rows = trainer_rows(session, ctx.workspace, viewer=call.user, now=now)
            failures = failed_deliveries(session) if roles.manager else []
    if call.args is not None:
        links = permalinks_for(ctx.client).resolve(
            (r.channel, r.message_ts) for t in report.tasks for r in t.worst)
        call.answer(*trainer_report_message(report, links=links))
        return
    call.answer(*team_status_message(
        team, now=now, failures=[(f.channel, f.error, fix_for(f.error), f.count) for f in failures],
        rows=rows))


def _pending(call: Call) -> None:
    ctx, now = call.ctx, call.ctx.clock.now()
    with ctx.read_session() as session:
        waiting = pending_for(session, ctx.workspace, user=call.user, limit=PENDING_SHOWN,
                              now=now)
    links = permalinks_for(ctx.client).resolve((s.channel, s.message_ts) for s in waiting.samples)
    names = {t.key: t.name for t in ctx.workspace.task_types}
    call.answer(*pending_message(waiting, task_names=names, links=links, now=now))


def _precedents(call: Call) -> None:
    ctx = call.ctx
    with ctx.session() as session:
        found = find_precedents(session, ctx.workspace, viewer=call.user, words=call.args)
    links = permalinks_for(ctx.client).resolve((p.channel, p.message_ts)
                                               for p in found.ranked())
    names = {t.key: t.name for t in ctx.workspace.task_types}
    call.answer(*precedents_message(found, task_names=names, links=links))


def _escalations(call: Call) -> None:
    with call.ctx.session() as session:
        overview = escalation_overview(session, call.ctx.workspace, viewer=call.user)
    call.answer(*escalations_message(overview, now=call.ctx.clock.now()))


def _away(call: Call) -> None:
    request: AwayRequest = call.args
    person = request.user or call.user
    ctx, now = call.ctx, call.ctx.clock.now()
    with ctx.session() as session:
        if request.until is None:
            ended = clear_away(session, ctx.workspace, user=person, by=call.user, now=now)
        else:
            until = set_away(session, ctx.workspace, user=person, until=request.until,
                             by=call.user, now=now)
    who = "You are" if person == call.user else f"<@{person}> is"
    if request.until is None:
        call.answer(f"👋 {who} back." if ended else f"{who} not marked away.")
        return
    roles = roles_of(ctx.workspace, person)
    held = ["escalation pings"]
    if roles.reviews:
        held.insert(0, "grading reminders")
    if roles.trainer is not None:
        held.insert(0, "weekly audits")
    call.answer(f"🌴 {who} away through {until.isoformat()}: no {', no '.join(held)} until "
                "then.")


def _pause(paused: bool) -> Callable[[Call], None]:
    def run(call: Call) -> None:
        ctx = call.ctx
        with ctx.session() as session:
            changed = set_paused(session, ctx.workspace, trainer=call.args, paused=paused,
                                 by=call.user, now=ctx.clock.now())
        who = f"<@{call.args}>"
        if paused:
            call.answer(f"⏸ Paused {who}'s audits: the weekly audit skips them until a "
                        "manager resumes them (`/audit resume @trainer`)." if changed
                        else f"{who} was already paused.")
        else:
            call.answer(f"▶️ Resumed {who}'s audits from the next weekly audit."
                        if changed else f"{who} was not paused.")
    return run


def _managers_only(to: str) -> Callable[[AppContext, str], None]:
    def check(ctx: AppContext, user: str) -> None:
        check_manager(ctx.workspace, user, to=to)
    return check


def _export(call: Call) -> None:
    ctx = call.ctx
    with ctx.session() as session:
        export = export_grades(session, ctx.workspace, now=ctx.clock.now())
    span = f"{export.weeks[0]} to {export.weeks[-1]}"
    send_to_dm(ctx.client, user=call.user, filename=export.filename,
               content=export.csv.encode("utf-8"), title=f"Grades {span}",
               comment=f"📄 {export.rows} grades with their explanations, {span}.")
    call.answer(f"📄 The CSV ({export.rows} grades, {span}) is in your DM with auditbot.")


def _run(call: Call) -> None:
    summary = run_weekly_audit(call.ctx, now=call.ctx.clock.now())
    call.answer(f"```{summary.describe()}```")


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(Usage("status", ("status", "status @trainer", "status more 2"),
                     "each task type and (managers, leads) one row per trainer, riskiest "
                     "first, a page at a time; or one trainer's trend, chart, worst samples "
                     "and onboarding"), status_args, _status),
    Subcommand(Usage("pending", ("pending",), "samples waiting for your grade, with links"),
               no_args("pending"), _pending),
    Subcommand(Usage("precedents", ("precedents <words>",),
                     "how earlier errors with these words were graded and settled"),
               some_words("precedents"), _precedents),
    Subcommand(Usage("escalations", ("escalations",),
                     "open escalations and the last few closed"),
               no_args("escalations"), _escalations),
    Subcommand(Usage("away", ("away @person until YYYY-MM-DD",),
                     "no audits, reminders or pings until then (`… back` ends it)"),
               away_args, _away),
    Subcommand(Usage("run", ("run",), "post this week's audit now", who="managers"),
               no_args("run"), _run, ack_text="Posting this week's audit…",
               check=_managers_only("run the audit by hand")),
    Subcommand(Usage("pause", ("pause @trainer",), "the weekly audit skips them",
                     who="managers"), one_user("pause"), _pause(True)),
    Subcommand(Usage("resume", ("resume @trainer",), "audit them again", who="managers"),
               one_user("resume"), _pause(False)),
    Subcommand(Usage("export", ("export",), "the window's grades as CSV, to your DM",
                     who="managers"), no_args("export"), _export,
               check=_managers_only("export the grades")),
)
