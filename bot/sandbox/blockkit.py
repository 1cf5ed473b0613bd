"""Block Kit validation as Slack applies it, as pure functions.

    errors = validate_message_blocks(blocks)      # [] when Slack would accept them
    errors = validate_view(view)                  # modal or home view

Each error is a string in Slack's own format, e.g.
``[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]``; the sandbox
returns them in ``response_metadata.messages`` (``invalid_blocks`` for messages,
``invalid_arguments`` for views, as Slack does). `with_generated_ids` fills in the
``block_id``/``action_id`` values Slack generates when an app leaves them out.
"""

import hashlib
import json
from typing import Any, Literal

from bot.sandbox.blockkit_elements import (
    ACCESSORY_TYPES,
    ACTIONS_TYPES,
    INPUT_ELEMENT_TYPES,
    Checker,
)

Surface = Literal["message", "modal", "home"]
BLOCK_TYPES = frozenset(
    {"section", "divider", "header", "actions", "context", "input", "image", "rich_text"}
)
MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
CONTEXT_TYPES = frozenset({"image", "plain_text", "mrkdwn"})


def validate_message_blocks(blocks: Any) -> list[str]:
    """Errors Slack would report for `blocks` of a message (chat.postMessage, response_url)."""
    checker = Checker()
    _check_blocks(checker, blocks, "/blocks", surface="message")
    return checker.errors


def validate_blocks(
    blocks: Any, *, surface: Surface = "message", pointer: str = "/blocks"
) -> list[str]:
    """Errors for a block list on the given surface, with json-pointers under `pointer`."""
    checker = Checker()
    _check_blocks(checker, blocks, pointer, surface=surface)
    return checker.errors


def validate_view(view: Any) -> list[str]:
    """Errors Slack would report for a modal or home `view` (pointers start at /view)."""
    checker = Checker()
    ptr = "/view"
    if not checker.is_obj(view, ptr):
        return checker.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.err(f"{ptr}/type", "must be one of: modal, home")
        return checker.errors
    if kind == "modal":
        checker.text(view, "title", ptr, max_len=24, plain=True)
        checker.text(view, "submit", ptr, max_len=24, plain=True, required=False)
        checker.text(view, "close", ptr, max_len=24, plain=True, required=False)
    checker.string(view, "callback_id", ptr, max_len=255)
    checker.string(view, "private_metadata", ptr, max_len=3000)
    checker.string(view, "external_id", ptr, max_len=255)
    for flag in ("clear_on_close", "notify_on_close"):
        if flag in view and not isinstance(view[flag], bool):
            checker.err(f"{ptr}/{flag}", "must provide a boolean")
    if "blocks" not in view:
        checker.err(ptr, "missing required field: blocks")
        return checker.errors
    _check_blocks(checker, view["blocks"], f"{ptr}/blocks", surface=kind)
    blocks = view["blocks"] if isinstance(view["blocks"], list) else []
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if kind == "modal" and has_input and view.get("submit") is None:
        checker.err(ptr, "missing required field: submit")
    return checker.errors


def _check_blocks(checker: Checker, blocks: Any, ptr: str, *, surface: Surface) -> None:
    if not isinstance(blocks, list):
        checker.err(ptr, "must provide an array")
        return
    if len(blocks) > MAX_BLOCKS[surface]:
        checker.err(ptr, f"no more than {MAX_BLOCKS[surface]} items allowed")
    for index, block in enumerate(blocks):
        _check_block(checker, block, f"{ptr}/{index}", surface=surface)


def _check_block(checker: Checker, block: Any, ptr: str, *, surface: Surface) -> None:
    if not checker.is_obj(block, ptr):
        return
    kind = block.get("type")
    if kind not in BLOCK_TYPES or (kind == "input" and surface == "message"):
        checker.err(f"{ptr}/type", f"unsupported type: {kind}")
        return
    checker.block_id(block, ptr)
    if kind == "section":
        _check_section(checker, block, ptr)
    elif kind == "header":
        checker.text(block, "text", ptr, max_len=150, plain=True)
    elif kind == "actions":
        for i, element in enumerate(checker.items(block, "elements", ptr, max_items=25)):
            checker.element(element, f"{ptr}/elements/{i}", allowed=ACTIONS_TYPES)
    elif kind == "context":
        for i, element in enumerate(checker.items(block, "elements", ptr, max_items=10)):
            _check_context_element(checker, element, f"{ptr}/elements/{i}")
    elif kind == "input":
        checker.text(block, "label", ptr, max_len=2000, plain=True)
        checker.text(block, "hint", ptr, max_len=2000, plain=True, required=False)
        if "element" not in block:
            checker.err(ptr, "missing required field: element")
        else:
            checker.element(block["element"], f"{ptr}/element", allowed=INPUT_ELEMENT_TYPES)
        for flag in ("optional", "dispatch_action"):
            if flag in block and not isinstance(block[flag], bool):
                checker.err(f"{ptr}/{flag}", "must provide a boolean")
    elif kind == "image":
        checker.image(block, ptr)
        checker.text(block, "title", ptr, max_len=2000, plain=True, required=False)
    elif kind == "rich_text":
        checker.items(block, "elements", ptr, max_items=1000, min_items=0)


def _check_section(checker: Checker, block: dict[str, Any], ptr: str) -> None:
    if "text" not in block and "fields" not in block:
        checker.err(ptr, "missing required field: text")
    checker.text(block, "text", ptr, max_len=3000, required=False)
    if "fields" in block:
        for i, field in enumerate(checker.items(block, "fields", ptr, max_items=10)):
            checker.text_object(field, f"{ptr}/fields/{i}", max_len=2000)
    if "accessory" in block:
        checker.element(block["accessory"], f"{ptr}/accessory", allowed=ACCESSORY_TYPES)


def _check_context_element(checker: Checker, element: Any, ptr: str) -> None:
    if not checker.is_obj(element, ptr):
        return
    kind = element.get("type")
    if kind not in CONTEXT_TYPES:
        checker.err(f"{ptr}/type", f"unsupported type: {kind}")
    elif kind == "image":
        checker.image(element, ptr)
    else:
        checker.text_object(element, ptr, max_len=3000)


def with_generated_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A deep copy of valid `blocks` with missing block_id/action_id filled in, as Slack does.

    Generated ids are short and derived from the content, so they are stable for a given
    message (Slack's are random); explicit ids are never changed.
    """
    copied: list[dict[str, Any]] = json.loads(json.dumps(blocks))
    for index, block in enumerate(copied):
        if "block_id" not in block:
            block["block_id"] = _short_id(block, index, 5)
        for position, element in enumerate(_elements(block)):
            if element.get("type") not in ("image", "plain_text", "mrkdwn", None):
                element.setdefault("action_id", _short_id(element, index * 100 + position, 4))
    return copied


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found = [e for e in block.get("elements", []) if isinstance(e, dict)]
    if block.get("type") == "rich_text":
        return []
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    return found


def _short_id(obj: Any, salt: int, size: int) -> str:
    digest = hashlib.sha1(f"{salt}:{json.dumps(obj, sort_keys=True)}".encode()).hexdigest()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    number = int(digest, 16)
    chars = []
    for _ in range(size):
        number, rest = divmod(number, len(alphabet))
        chars.append(alphabet[rest])
    return "".join(chars)
