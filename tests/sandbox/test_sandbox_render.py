"""Terminal rendering of messages and views for the demo."""

from bot.sandbox import SlackSandbox
from bot.sandbox.records import Message
from bot.sandbox.render import render_blocks, render_message, render_text, render_view
from bot.sandbox.screens import render_channel, render_person

NAMES = {"U0NURSE1": "Nurse Joy", "U0TRAINER1": "Tess Trainer"}


def test_mentions_links_and_entities() -> None:
    text = "Audit for <@U0TRAINER1> by <@U0X|someone> in <#C0CLINICAL|clinical> &amp; <!here>"
    assert (
        render_text(text, names=NAMES) == "Audit for @Tess Trainer by @someone in #clinical & @here"
    )
    assert render_text("see <https://x.test/a|the sample>") == "see the sample (https://x.test/a)"
    assert render_text("*bold* _it_ `code`") == "*bold* _it_ `code`"


def test_buttons_and_context(grade_buttons: dict) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Sample 1 of 5"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Output* by <@U0TRAINER1>"}},
        grade_buttons,
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "graded by <@U0NURSE1>"}]},
        {"type": "divider"},
    ]
    out = render_blocks(blocks, names=NAMES)
    assert out.splitlines()[:4] == [
        "# Sample 1 of 5",
        "*Output* by @Tess Trainer",
        "[Pass] [Minor issue] [Major error]",
        "  graded by @Nurse Joy",
    ]


def test_modal_with_select_and_inputs(grade_modal: dict) -> None:
    out = render_view(grade_modal)
    assert "Minor issue" in out.splitlines()[0]
    assert "<select: Category>" in out
    assert "[input: Explanation]" in out
    assert "[input: Note] (optional)" in out
    assert out.splitlines()[-1].endswith("[Record] [Cancel]")


def test_message_without_blocks_uses_text_and_marks_edits() -> None:
    message = Message(channel="C1", ts="1.000001", text="hi <@U0NURSE1>", user="U0AUDITBOT")
    assert render_message(message, names=NAMES) == "hi @Nurse Joy"
    message.edited = True
    assert render_message(message, names=NAMES).endswith("(edited)")


def test_rendering_what_the_sandbox_stored(
    sandbox: SlackSandbox, client, grade_buttons: dict
) -> None:  # type: ignore[no-untyped-def]
    client.chat_postMessage(channel="U0NURSE1", text="x", blocks=[grade_buttons])
    (dm,) = sandbox.dms("U0NURSE1")
    assert render_message(dm, names=sandbox.user_names) == "[Pass] [Minor issue] [Major error]"


def test_screens_show_channels_and_people(
    sandbox: SlackSandbox, client, grade_buttons: dict, grade_modal: dict
) -> None:  # type: ignore[no-untyped-def]
    parent = client.chat_postMessage(channel="C0CLINICAL", text="Audit of <@U0TRAINER1>")["ts"]
    client.chat_postMessage(
        channel="C0CLINICAL", thread_ts=parent, text="s", blocks=[grade_buttons]
    )
    screen = render_channel(sandbox, "C0CLINICAL")
    assert screen.splitlines() == [
        "=== #clinical ===",
        "auditbot:",
        "  Audit of @Tess Trainer",
        "  ↳ auditbot:",
        "    [Pass] [Minor issue] [Major error]",
    ]
    client.chat_postEphemeral(channel="C0CLINICAL", user="U0NURSE1", text="Not yours to grade")
    client.views_open(trigger_id=sandbox.issue_trigger_id("U0NURSE1"), view=grade_modal)
    person = render_person(sandbox, "U0NURSE1")
    assert "Only visible to you in #clinical:\n  Not yours to grade" in person
    assert "Modal (open):" in person and "<select: Category>" in person
    assert render_person(sandbox, "U0MD0002").endswith("(nothing)")
