"""The config changes under samples already posted: a task type renamed or removed since the
audit gets a reason on the old samples' buttons, not an incident."""

from sqlalchemy import Engine

from bot.common.clock import FixedClock
from bot.workspace import parse_workspace
from tests.support.factories import LAWYER, LEGAL_CHANNEL, TRAINER2, week_of_records, workspace_data
from tests.support.harness import RunningBot, start_bot


def _renamed_legal() -> dict:
    data = workspace_data()
    data["task_types"][1]["key"] = "legal_drafting"
    data["trainers"][1]["task_types"] = ["legal_drafting"]
    return data


def test_a_click_on_a_sample_of_a_renamed_task_type_is_refused_with_the_reason(
        engine: Engine, clock: FixedClock, bot: RunningBot):
    bot.ingest(week_of_records(clock.now(), trainer=TRAINER2, task_type="legal", count=2))
    bot.run_audit()
    first, second = bot.thread_replies(LEGAL_CHANNEL)
    bot.driver.click(LAWYER, second, "Minor issue", channel=LEGAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(LAWYER))
    bot.stop(keep_sandbox=True)  # a release with the renamed task type
    renamed = start_bot(engine=engine, workspace=parse_workspace(_renamed_legal()),
                        clock=clock, sandbox=bot.sandbox)
    try:
        renamed.driver.click(LAWYER, first, "Pass", channel=LEGAL_CHANNEL)
        told = renamed.driver.wait_for(lambda: [e for e in renamed.sandbox.ephemerals(
            user=LAWYER) if "no longer in auditbot's config" in (e.text or "")])
        assert "`legal`" in told[0].text and "went wrong" not in told[0].text
        answer = renamed.driver.submit_view(
            LAWYER, modal, {"category": "Other", "explanation": "x" * 40}).json()
        assert "no longer in auditbot's config" in str(answer["errors"])
    finally:
        renamed.stop()
