"""Pure tests of the Block Kit validator against Slack's documented limits."""

from typing import Any

import pytest

from bot.sandbox.blockkit import (
    validate_blocks,
    validate_message_blocks,
    validate_view,
    with_generated_ids,
)


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def button(text: str = "Pass", action_id: str = "a", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": action_id, **extra}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def select(options: int = 2, *, text: str = "opt", value: str = "v") -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": "sel",
        "placeholder": plain("Category"),
        "options": [{"text": plain(f"{text}{i}"), "value": f"{value}{i}"} for i in range(options)],
    }


def modal(*blocks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    view = {"type": "modal", "title": plain("Grade"), "submit": plain("Save")}
    view["blocks"] = list(blocks)
    view.update(fields)
    return view


def text_input(**extra: Any) -> dict[str, Any]:
    element = {"type": "plain_text_input", "action_id": "why", **extra}
    return {"type": "input", "label": plain("Explanation"), "element": element}


def test_a_typical_message_is_valid() -> None:
    blocks = [
        {"type": "header", "text": plain("Audit 2026-W48")},
        {"type": "section", "text": mrkdwn("*Prompt*"), "fields": [mrkdwn("a"), plain("b")]},
        {"type": "divider"},
        actions(button("Pass", "p", style="primary"), button("Major error", "m", style="danger")),
        {"type": "context", "elements": [mrkdwn("graded by <@U1>")]},
        {"type": "section", "text": mrkdwn("x"), "accessory": select()},
    ]
    assert validate_message_blocks(blocks) == []


def test_error_format_matches_slack() -> None:
    errors = validate_message_blocks([{"type": "section", "text": mrkdwn("x" * 3001)}])
    assert errors == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]


@pytest.mark.parametrize(
    ("blocks", "pointer", "message"),
    [
        ([{"type": "section", "text": mrkdwn("x" * 3000)}], None, None),
        ([{"type": "section"}], "/blocks/0", "missing required field: text"),
        (
            [{"type": "section", "fields": [mrkdwn("f")] * 11}],
            "/blocks/0/fields",
            "no more than 10",
        ),
        (
            [{"type": "section", "fields": [mrkdwn("f" * 2001)]}],
            "/blocks/0/fields/0/text",
            "less than 2001",
        ),
        ([{"type": "header", "text": plain("h" * 151)}], "/blocks/0/text/text", "less than 151"),
        ([{"type": "header", "text": mrkdwn("h")}], "/blocks/0/text/type", "must be plain_text"),
        (
            [actions(*[button(action_id=str(i)) for i in range(26)])],
            "/blocks/0/elements",
            "no more than 25",
        ),
        (
            [{"type": "context", "elements": [mrkdwn("c")] * 11}],
            "/blocks/0/elements",
            "no more than 10",
        ),
        ([actions(button("b" * 76))], "/blocks/0/elements/0/text/text", "less than 76"),
        ([actions(button(action_id="a" * 256))], "/blocks/0/elements/0/action_id", "less than 256"),
        ([actions(button(value="v" * 2001))], "/blocks/0/elements/0/value", "less than 2001"),
        (
            [actions(button(url="https://x/" + "u" * 2991))],
            "/blocks/0/elements/0/url",
            "less than 3001",
        ),
        ([actions(button(style="secondary"))], "/blocks/0/elements/0/style", "primary, danger"),
        (
            [actions(button(action_id="same")), actions(button(action_id="same"))],
            "/blocks/1/elements/0/action_id",
            "duplicate action_id: same",
        ),
        ([{"type": "divider", "block_id": "b" * 256}], "/blocks/0/block_id", "less than 256"),
        (
            [{"type": "divider", "block_id": "x"}, {"type": "divider", "block_id": "x"}],
            "/blocks/1/block_id",
            "duplicate block_id: x",
        ),
        ([actions(select(101))], "/blocks/0/elements/0/options", "no more than 100"),
        (
            [actions(select(1, text="t" * 75))],
            "/blocks/0/elements/0/options/0/text/text",
            "less than 76",
        ),
        (
            [actions(select(1, value="v" * 150))],
            "/blocks/0/elements/0/options/0/value",
            "less than 151",
        ),
        ([text_input()], "/blocks/0/type", "unsupported type: input"),
        ([{"type": "carousel"}], "/blocks/0/type", "unsupported type: carousel"),
        (
            [{"type": "section", "text": {"type": "markdown", "text": "x"}}],
            "/blocks/0/text/type",
            "plain_text, mrkdwn",
        ),
        ([{"type": "section", "text": mrkdwn("")}], "/blocks/0/text/text", "more than 0"),
        ([{"type": "divider"}] * 51, "/blocks", "no more than 50 items"),
        ([actions(button(text=""))], "/blocks/0/elements/0/text/text", "more than 0"),
    ],
)
def test_message_limits(blocks: list, pointer: str | None, message: str | None) -> None:
    errors = validate_message_blocks(blocks)
    if pointer is None:
        assert errors == []
        return
    assert any(message in e and f"[json-pointer:{pointer}]" in e for e in errors), errors


def test_blocks_must_be_a_list_of_objects() -> None:
    assert validate_message_blocks({"type": "divider"}) == [
        "[ERROR] must provide an array [json-pointer:/blocks]"
    ]
    assert "must provide an object" in validate_message_blocks(["divider"])[0]


def test_a_valid_grade_modal(grade_modal: dict) -> None:
    assert validate_view(grade_modal) == []


@pytest.mark.parametrize(
    ("view", "pointer", "message"),
    [
        (modal(title=plain("t" * 25)), "/view/title/text", "less than 25"),
        ({"type": "modal", "blocks": []}, "/view", "missing required field: title"),
        (modal(submit=plain("s" * 25)), "/view/submit/text", "less than 25"),
        (modal(close=plain("c" * 25)), "/view/close/text", "less than 25"),
        (modal(text_input(), submit=None), "/view", "missing required field: submit"),
        (modal(callback_id="c" * 256), "/view/callback_id", "less than 256"),
        (modal(private_metadata="p" * 3001), "/view/private_metadata", "less than 3001"),
        (modal(external_id="e" * 256), "/view/external_id", "less than 256"),
        (modal(*[{"type": "divider"}] * 101), "/view/blocks", "no more than 100"),
        (
            modal({"type": "input", "label": plain("l" * 2001), "element": select()}),
            "/view/blocks/0/label/text",
            "less than 2001",
        ),
        (modal(text_input(max_length=3001)), "/view/blocks/0/element/max_length", "3000"),
        (modal(text_input(min_length=3001)), "/view/blocks/0/element/min_length", "3000"),
        (
            modal(text_input(min_length=10, max_length=5)),
            "/view/blocks/0/element/min_length",
            "max_length",
        ),
        (modal({"type": "input", "label": plain("x")}), "/view/blocks/0", "field: element"),
        (modal(title=mrkdwn("Grade")), "/view/title/type", "must be plain_text"),
        ({"type": "workflow_step", "blocks": []}, "/view/type", "modal, home"),
    ],
)
def test_view_limits(view: dict, pointer: str, message: str) -> None:
    errors = validate_view(view)
    assert any(message in e and f"[json-pointer:{pointer}]" in e for e in errors), errors


def test_a_modal_may_have_100_blocks_and_inputs() -> None:
    assert validate_view(modal(*[{"type": "divider"}] * 99, text_input())) == []


def test_home_needs_no_title_and_allows_inputs() -> None:
    assert validate_view({"type": "home", "blocks": [text_input()]}) == []


def test_action_ids_must_be_unique_across_a_view() -> None:
    view = modal(text_input(), actions(button(action_id="why")))
    assert any("duplicate action_id: why" in e for e in validate_view(view))


def test_validate_blocks_uses_the_given_pointer() -> None:
    errors = validate_blocks([{"type": "header"}], surface="home", pointer="/view/blocks")
    assert errors == ["[ERROR] missing required field: text [json-pointer:/view/blocks/0]"]


def test_generated_ids_fill_gaps_and_keep_explicit_ones() -> None:
    blocks = [
        {"type": "section", "text": mrkdwn("x"), "accessory": button(action_id="keep")},
        actions({"type": "button", "text": plain("Go")}),
        {"type": "divider", "block_id": "mine"},
    ]
    filled = with_generated_ids(blocks)
    assert filled[0]["accessory"]["action_id"] == "keep"
    assert filled[1]["block_id"] and filled[1]["elements"][0]["action_id"]
    assert filled[2]["block_id"] == "mine"
    assert "block_id" not in blocks[0], "the input is not modified"
    assert with_generated_ids(blocks) == filled, "stable for the same content"
    assert validate_message_blocks(filled) == []


def choice_input(kind: str = "radio_buttons", options: int = 3, *, text: str = "opt",
                 value: str = "v", **extra: Any) -> dict[str, Any]:
    element = {"type": kind, "action_id": "pick",
               "options": [{"text": mrkdwn(f"*{text}{i}*"), "value": f"{value}{i}"}
                           for i in range(options)], **extra}
    return {"type": "input", "label": plain("Decision"), "element": element}


def test_radio_buttons_and_checkboxes_may_use_mrkdwn_options_and_preselect_one() -> None:
    chosen = {"text": mrkdwn("*opt1*"), "value": "v1"}
    assert validate_view(modal(choice_input(initial_option=chosen))) == []
    assert validate_view(modal(choice_input("checkboxes", initial_options=[chosen]))) == []


@pytest.mark.parametrize(
    ("block", "pointer", "message"),
    [
        (choice_input(options=11), "/view/blocks/0/element/options", "no more than 10"),
        (choice_input("checkboxes", options=0), "/view/blocks/0/element/options",
         "at least 1"),
        (choice_input(text="t" * 80), "/view/blocks/0/element/options/0/text/text",
         "less than 76"),
        (choice_input(value="v" * 151), "/view/blocks/0/element/options/0/value",
         "less than 151"),
        (choice_input(initial_option={"text": plain("x"), "value": "nope"}),
         "/view/blocks/0/element/initial_option", "must match one of the provided options"),
        (choice_input("checkboxes", initial_options=[{"text": plain("x"), "value": "nope"}]),
         "/view/blocks/0/element/initial_options/0", "must match one of the provided options"),
    ],
)
def test_radio_buttons_and_checkboxes_limits(block: dict, pointer: str, message: str) -> None:
    errors = validate_view(modal(block))
    assert any(message in e and f"[json-pointer:{pointer}]" in e for e in errors), errors
