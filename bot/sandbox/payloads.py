"""Pure builders of what Slack sends to an app: block_actions, view_submission and their parts.

`find_button` locates a button by visible text or action_id; `view_state` builds
``view.state`` from simple values the way the Slack client does (and refuses, like the
client, to submit a required input left empty or text outside min/max length).
"""

import copy
from typing import Any

STATEFUL_KEYS = {
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "static_select": "selected_option",
    "radio_buttons": "selected_option",
    "multi_static_select": "selected_options",
    "checkboxes": "selected_options",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
}
OPTION_KEYS = ("selected_option", "selected_options")


def _plain(text_object: Any) -> str:
    return str(text_object.get("text", "")) if isinstance(text_object, dict) else ""


def interactive_elements(
    blocks: list[dict[str, Any]],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, element) pairs for every element in actions, section accessory and input."""
    found = []
    for block in blocks:
        elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        found += [(block, e) for e in elements if isinstance(e, dict)]
    return found


def find_button(blocks: list[dict[str, Any]], button: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (block, button) whose visible text or action_id is `button`; exactly one."""
    buttons = [(b, e) for b, e in interactive_elements(blocks) if e.get("type") == "button"]
    matches = [(b, e) for b, e in buttons if button in (_plain(e.get("text")), e.get("action_id"))]
    if len(matches) == 1:
        return matches[0]
    shown = ", ".join(f"[{_plain(e.get('text'))}]({e.get('action_id')})" for _, e in buttons)
    problem = "is ambiguous" if matches else "not found"
    raise LookupError(f"button {button!r} {problem}; buttons here: {shown or 'none'}")


def button_action(block: dict[str, Any], element: dict[str, Any], action_ts: str) -> dict[str, Any]:
    action = {
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
        "text": copy.deepcopy(element.get("text")),
        "type": "button",
        "action_ts": action_ts,
    }
    for key in ("value", "style", "url"):
        if key in element:
            action[key] = element[key]
    return action


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options += group.get("options", [])
    return options


def _option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    for option in _options(element):
        if option.get("value") == value:
            return {"text": copy.deepcopy(option.get("text")), "value": option.get("value")}
    raise ValueError(f"{value!r} is not an option of {element.get('action_id')!r}")


def _state_value(element: dict[str, Any], raw: Any, given: bool) -> dict[str, Any]:
    kind = element.get("type", "")
    key = STATEFUL_KEYS[kind]
    if not given:
        initial = element.get("initial_value", element.get("initial_option"))
        raw = element.get("initial_options", initial)
        if isinstance(raw, dict):
            raw = raw.get("value")
        elif isinstance(raw, list):
            raw = [o.get("value") for o in raw]
    if key == "selected_option":
        value: Any = _option(element, raw) if raw not in (None, "") else None
    elif key == "selected_options":
        value = [_option(element, v) for v in (raw or [])]
    else:
        value = raw if raw not in ("",) else None
    return {"type": kind, key: value}


def _is_empty(value: dict[str, Any]) -> bool:
    return all(v in (None, [], "") for k, v in value.items() if k != "type")


def _client_check(block: dict[str, Any], element: dict[str, Any], value: dict[str, Any]) -> None:
    label = _plain(block.get("label")) or element.get("action_id")
    if block.get("type") == "input" and not block.get("optional") and _is_empty(value):
        raise ValueError(f"Slack would not submit: {label!r} is required")
    text = value.get("value")
    if element.get("type") == "plain_text_input" and isinstance(text, str):
        if len(text) < element.get("min_length", 0):
            raise ValueError(f"Slack would not submit: {label!r} is shorter than min_length")
        if len(text) > element.get("max_length", 3000):
            raise ValueError(f"Slack would not submit: {label!r} is longer than max_length")


def view_state(
    view: dict[str, Any], values: dict[str, Any], *, client_checks: bool = True
) -> dict[str, Any]:
    """``{"values": {block_id: {action_id: {...}}}}`` for `values` keyed by action or block id."""
    state: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for block, element in interactive_elements(view.get("blocks", [])):
        if element.get("type") not in STATEFUL_KEYS:
            continue
        action_id, block_id = element.get("action_id", ""), block.get("block_id", "")
        key = action_id if action_id in values else block_id if block_id in values else None
        if key is not None:
            used.add(key)
        value = _state_value(element, values.get(key) if key else None, key is not None)
        if client_checks:
            _client_check(block, element, value)
        state.setdefault(block_id, {})[action_id] = value
    unknown = sorted(set(values) - used)
    if unknown:
        raise ValueError(f"no input with action_id or block_id {unknown} in this view")
    return {"values": state}


def with_state(view: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(view)
    out["state"] = state
    return out
