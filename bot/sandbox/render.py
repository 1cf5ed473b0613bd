"""Readable terminal text for what people see in Slack (used by `auditbot demo`).

    names = sandbox.user_names
    print(render_message(sandbox.messages("C0CLINICAL")[0], names=names))
    print(render_view(sandbox.latest_modal("U0NURSE1").view, names=names))

mrkdwn is kept as written (``*bold*``, ``_italic_``); mentions become readable (``<@U123>`` →
``@Name``, ``<#C1|clinical>`` → ``#clinical``, ``<https://x|label>`` → ``label (https://x)``);
buttons show as ``[Pass] [Minor issue]``, selects as ``<select: Category>``, inputs as
``[input: Explanation]``.
"""

import html
import re
from collections.abc import Mapping
from typing import Any

from bot.sandbox.records import Ephemeral, Message, ViewRecord

RULE = "─" * 40
_ENTITY = re.compile(r"<([^<>]+)>")


def render_text(
    text: str, *, names: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None
) -> str:
    """Slack's `<...>` entities to readable text; everything else untouched."""
    names, channels = names or {}, channels or {}

    def entity(match: re.Match[str]) -> str:
        body = match.group(1)
        target, _, label = body.partition("|")
        if target.startswith("@"):
            user = target[1:]
            return "@" + names.get(user, label or user)
        if target.startswith("#"):
            channel = target[1:]
            return "#" + channels.get(channel, label or channel)
        if target.startswith("!"):
            special = target[1:].split("^", 1)[0]
            if special in ("here", "channel", "everyone"):
                return "@" + special
            return label or "@" + special
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(_ENTITY.sub(entity, text))


def render_blocks(
    blocks: list[dict[str, Any]],
    *,
    names: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> str:
    """All blocks, one or more lines each."""
    lines = [_block(block, names or {}, channels or {}) for block in blocks]
    return "\n".join(line for line in lines if line)


def render_message(
    message: Message | Ephemeral | dict[str, Any],
    *,
    names: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> str:
    """A message's blocks (or its text when it has none), with "(edited)" when edited."""
    if isinstance(message, dict):
        text, blocks = message.get("text", ""), message.get("blocks") or []
        edited = "edited" in message
    else:
        text, blocks = message.text, message.blocks
        edited = isinstance(message, Message) and message.edited
    if blocks:
        out = render_blocks(blocks, names=names, channels=channels)
    else:
        out = render_text(text or "", names=names, channels=channels)
    return f"{out} (edited)" if edited else out


def render_view(
    view: ViewRecord | dict[str, Any],
    *,
    names: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> str:
    """A modal (title box, blocks, [Submit] [Close]) or a home tab."""
    data = view.view if isinstance(view, ViewRecord) else view
    lines = []
    if data.get("type") == "modal":
        title = _plain(data.get("title"))
        lines.append(f"┌─ {title} " + "─" * max(3, 36 - len(title)))
    else:
        lines.append("┌─ App Home " + "─" * 29)
    body = render_blocks(data.get("blocks", []), names=names, channels=channels)
    lines += ["│ " + line for line in body.splitlines()]
    if data.get("type") == "modal":
        buttons = [f"[{_plain(data[key])}]" for key in ("submit", "close") if data.get(key)]
        lines.append("└─ " + (" ".join(buttons) or "[Close]"))
    else:
        lines.append("└" + "─" * 40)
    return "\n".join(lines)


def _plain(text_object: Any) -> str:
    return str(text_object.get("text", "")) if isinstance(text_object, dict) else ""


def _text(obj: Any, names: Mapping[str, str], channels: Mapping[str, str]) -> str:
    if not isinstance(obj, dict):
        return ""
    if obj.get("type") == "image":
        return f"[image: {obj.get('alt_text', '')}]"
    return render_text(str(obj.get("text", "")), names=names, channels=channels)


def _element(element: dict[str, Any], label: str = "") -> str:
    kind = element.get("type", "")
    if kind == "button":
        return f"[{_plain(element.get('text'))}]"
    if kind == "overflow":
        return "[⋯]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind.endswith("_input"):
        return f"[input: {label or _plain(element.get('placeholder')) or kind}]"
    if "select" in kind:
        chosen = element.get("initial_option")
        name = label or _plain(element.get("placeholder")) or kind
        return f"<select: {name}" + (f" = {_plain(chosen['text'])}>" if chosen else ">")
    return f"<{kind.replace('_', ' ')}: {label}>" if label else f"<{kind}>"


def _block(block: dict[str, Any], names: Mapping[str, str], channels: Mapping[str, str]) -> str:
    kind = block.get("type")
    if kind == "divider":
        return RULE
    if kind == "header":
        return f"# {_plain(block.get('text'))}"
    if kind == "section":
        parts = [_text(block.get("text"), names, channels)] if block.get("text") else []
        parts += [_text(field, names, channels) for field in block.get("fields", [])]
        if isinstance(block.get("accessory"), dict):
            parts.append(_element(block["accessory"]))
        return "\n".join(p for p in parts if p)
    if kind == "actions":
        return " ".join(_element(e) for e in block.get("elements", []) if isinstance(e, dict))
    if kind == "context":
        return "  " + " · ".join(_text(e, names, channels) for e in block.get("elements", []))
    if kind == "input":
        element = block.get("element") or {}
        optional = " (optional)" if block.get("optional") else ""
        return _element(element, _plain(block.get("label"))) + optional
    if kind == "image":
        return f"[image: {block.get('alt_text', '')}]"
    if kind == "rich_text":
        return render_text(_rich_text(block, names), names=names, channels=channels)
    return f"<{kind} block>"


def _rich_text(node: Any, names: Mapping[str, str]) -> str:
    if isinstance(node, list):
        return "".join(_rich_text(child, names) for child in node)
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "user":
        return "@" + names.get(node.get("user_id", ""), node.get("user_id", ""))
    if kind == "link":
        return str(node.get("text") or node.get("url", ""))
    if kind == "emoji":
        return f":{node.get('name', '')}:"
    inner = _rich_text(node.get("elements", []), names)
    return inner + "\n" if kind in ("rich_text_section", "rich_text_preformatted") else inner
