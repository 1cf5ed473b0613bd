"""Helpers for the status tests: ask `/audit` as a person and read what they were shown."""

from typing import Any

from bot.sandbox.records import Ephemeral, Message
from tests.support.harness import RunningBot


def block_text(blocks: list[dict[str, Any]]) -> str:
    """Every text a person reads in ``blocks`` (sections, fields, context, buttons)."""
    parts: list[str] = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
        for field in block.get("fields", []):
            parts.append(field.get("text", ""))
        for element in block.get("elements", []):
            inner = element.get("text")
            parts.append(inner.get("text", "") if isinstance(inner, dict) else inner or "")
    return "\n".join(parts)


def shown(item: Message | Ephemeral | dict[str, Any]) -> str:
    if isinstance(item, dict):
        return block_text(item.get("blocks", []))
    return f"{item.text}\n{block_text(item.blocks)}"


def ask(bot: RunningBot, user: str, text: str, *, timeout: float = 10.0) -> Ephemeral:
    """Send `/audit text` as ``user``; the first ephemeral answer they got after it."""
    before = len(bot.sandbox.ephemerals(user=user))
    response = bot.driver.slash_command(user, text)
    assert response.status == 200 and not response.timed_out, response
    return bot.driver.wait_for(lambda: bot.sandbox.ephemerals(user=user)[before:],
                               timeout=timeout)[0]


def buttons(item: Message | Ephemeral | dict[str, Any]) -> list[str]:
    blocks = item.get("blocks", []) if isinstance(item, dict) else item.blocks
    return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
