"""Parsing `/audit` text into a subcommand and its arguments (pure)."""

import re
from dataclasses import dataclass

USER_REFERENCE = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")

HELP = """*auditbot* — weekly quality audits of trainers' work.
• `/audit help` — this help
• `/audit run` — post this week's audit now (managers)
Samples appear as threads in each task type's review channel; grade them with the buttons."""

KNOWN = ("help", "run")


@dataclass(frozen=True)
class AuditCommand:
    name: str
    args: tuple[str, ...]
    problem: str | None = None


def parse_command(text: str) -> AuditCommand:
    words = text.split()
    if not words:
        return AuditCommand("help", ())
    name, args = words[0].lower(), tuple(words[1:])
    if name not in KNOWN:
        return AuditCommand("help", (), problem=f"I don't know `{words[0]}`.")
    if name in ("help", "run") and args:
        return AuditCommand("help", (), problem=f"`/audit {name}` takes no arguments.")
    return AuditCommand(name, args)


def parse_user(reference: str) -> str | None:
    """A user id from `<@U123|name>`, `<@U123>`, `@U123` or `U123`."""
    match = USER_REFERENCE.match(reference.strip())
    if not match:
        return None
    return match.group(1) or match.group(2)
