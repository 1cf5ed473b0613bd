"""views.open/push/update/publish, trigger ids and view_submission answers."""

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackSandbox


def error_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as raised:
        call()
    return str(raised.value.response["error"])


def info_modal(title: str = "Full output") -> dict:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "long text"}}],
    }


def test_open_returns_the_stored_view(
    client: WebClient, sandbox: SlackSandbox, grade_modal: dict
) -> None:
    trigger = sandbox.issue_trigger_id("U0NURSE1")
    view = client.views_open(trigger_id=trigger, view=grade_modal)["view"]
    assert view["id"].startswith("V") and view["hash"]
    assert view["callback_id"] == "grade_modal" and view["state"] == {"values": {}}
    assert view["private_metadata"] == '{"sample": "s1"}'
    assert view["title"] == grade_modal["title"] and view["root_view_id"] == view["id"]
    (record,) = sandbox.views("U0NURSE1")
    assert record.id == view["id"] and not record.closed and record.callback_id == "grade_modal"
    assert sandbox.views("U0MD0002") == []


def test_trigger_ids_work_once_and_for_three_seconds(
    client: WebClient, sandbox: SlackSandbox, clock
) -> None:  # type: ignore[no-untyped-def]
    trigger = sandbox.issue_trigger_id("U0NURSE1")
    client.views_open(trigger_id=trigger, view=info_modal())
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=info_modal())) == (
        "exchanged_trigger_id"
    )
    assert error_of(lambda: client.views_open(trigger_id="123.456.abc", view=info_modal())) == (
        "invalid_trigger_id"
    )
    late = sandbox.issue_trigger_id("U0NURSE1")
    clock.advance(3.01)
    assert error_of(lambda: client.views_open(trigger_id=late, view=info_modal())) == (
        "expired_trigger_id"
    )
    assert len(sandbox.views()) == 1


def test_invalid_view_is_invalid_arguments_and_keeps_the_trigger(
    client: WebClient, sandbox: SlackSandbox
) -> None:
    trigger = sandbox.issue_trigger_id("U0NURSE1")
    with pytest.raises(SlackApiError) as raised:
        client.views_open(trigger_id=trigger, view=info_modal("A title far too long to fit"))
    assert raised.value.response["error"] == "invalid_arguments"
    assert raised.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    client.views_open(trigger_id=trigger, view=info_modal())


def test_update_by_id_or_external_id_with_hash(client: WebClient, sandbox: SlackSandbox) -> None:
    trigger = sandbox.issue_trigger_id("U0NURSE1")
    opened = client.views_open(trigger_id=trigger, view={**info_modal(), "external_id": "ext-1"})
    view_id, first_hash = opened["view"]["id"], opened["view"]["hash"]
    updated = client.views_update(view_id=view_id, hash=first_hash, view=info_modal("Updated"))
    assert updated["view"]["id"] == view_id and updated["view"]["hash"] != first_hash
    stale = lambda: client.views_update(view_id=view_id, hash=first_hash, view=info_modal())  # noqa: E731
    assert error_of(stale) == "hash_conflict"
    client.views_update(external_id="ext-1", view={**info_modal("Again"), "external_id": "ext-1"})
    (record,) = sandbox.views("U0NURSE1")
    assert record.view["title"]["text"] == "Again" and len(record.versions) == 3
    assert error_of(lambda: client.views_update(view_id="V404", view=info_modal())) == "not_found"


def test_duplicate_external_id(client: WebClient, sandbox: SlackSandbox) -> None:
    view = {**info_modal(), "external_id": "same"}
    client.views_open(trigger_id=sandbox.issue_trigger_id("U0NURSE1"), view=view)
    again = lambda: client.views_open(trigger_id=sandbox.issue_trigger_id("U0MD0002"), view=view)  # noqa: E731
    assert error_of(again) == "duplicate_external_id"


def test_push_stacks_modals(client: WebClient, sandbox: SlackSandbox, grade_modal: dict) -> None:
    root = client.views_open(trigger_id=sandbox.issue_trigger_id("U0NURSE1"), view=grade_modal)
    pushed = client.views_push(trigger_id=sandbox.issue_trigger_id("U0NURSE1"), view=info_modal())
    assert pushed["view"]["previous_view_id"] == root["view"]["id"]
    assert pushed["view"]["root_view_id"] == root["view"]["id"]
    assert [v.id for v in sandbox.open_modals("U0NURSE1")] == [
        root["view"]["id"],
        pushed["view"]["id"],
    ]
    assert sandbox.latest_modal("U0NURSE1").id == pushed["view"]["id"]  # type: ignore[union-attr]
    nothing_open = lambda: client.views_push(  # noqa: E731
        trigger_id=sandbox.issue_trigger_id("U0MD0002"), view=info_modal()
    )
    assert error_of(nothing_open) == "invalid_arguments"


def test_publish_home(client: WebClient, sandbox: SlackSandbox) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Queue"}}],
    }
    first = client.views_publish(user_id="U0NURSE1", view=home)["view"]
    assert first["type"] == "home"
    assert sandbox.home("U0NURSE1")["blocks"][0]["text"]["text"] == "Queue"  # type: ignore[index]
    second = client.views_publish(user_id="U0NURSE1", view=home, hash=first["hash"])["view"]
    assert second["id"] == first["id"]
    stale = lambda: client.views_publish(user_id="U0NURSE1", view=home, hash=first["hash"])  # noqa: E731
    assert error_of(stale) == "hash_conflict"
    assert (
        error_of(lambda: client.views_publish(user_id="U0NOBODY", view=home)) == "invalid_arguments"
    )
    modal = lambda: client.views_publish(user_id="U0NURSE1", view=info_modal())  # noqa: E731
    assert error_of(modal) == "invalid_arguments"
    assert sandbox.home("U0MD0002") is None
    assert sandbox.views() == [], "home tabs are not modals"


def test_submission_answers_close_update_or_keep(
    client: WebClient, sandbox: SlackSandbox, grade_modal: dict
) -> None:
    def open_one() -> str:
        trigger = sandbox.issue_trigger_id("U0NURSE1")
        return str(client.views_open(trigger_id=trigger, view=grade_modal)["view"]["id"])

    kept = open_one()
    sandbox.apply_view_answer(kept, {"response_action": "errors", "errors": {"explanation": "x"}})
    assert not sandbox.view(kept).closed  # type: ignore[union-attr]
    sandbox.apply_view_answer(kept, {"response_action": "update", "view": info_modal("Thanks")})
    assert sandbox.view(kept).view["title"]["text"] == "Thanks"  # type: ignore[union-attr]
    sandbox.apply_view_answer(kept, None)
    assert sandbox.view(kept).closed  # type: ignore[union-attr]
    assert error_of(lambda: client.views_update(view_id=kept, view=info_modal())) == "not_found"
