"""Reading `/audit` text (pure): the subcommand, its arguments, and the help.

    name, args = split_command("status <@U0TRAINER1|tara>")   # ("status", ("<@U0T…|tara>",))
    away_args(("@U0NURSE01", "until", "2026-12-24"))          # AwayRequest("U0NURSE01", …)
    some_words("precedents")(("ibuprofen", "&lt;5mg"))        # ("ibuprofen", "<5mg")
    help_text([Usage("status", ("status", "status @trainer"), "how each task type is doing")])

Argument readers raise ``CommandProblem`` with what was not understood; the caller answers
with it and the help. People are read with ``bot.slack.payloads.parse_user`` (Slack's
``<@U123|name>`` mentions). Slack's own text, so it lives on the Slack side, not in the domain.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from bot.slack.payloads import parse_user

DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MOST_WORDS = 8
INTRO = "*auditbot* — weekly quality audits of trainers' work. Answers are only for you."
ArgReader = Callable[[tuple[str, ...]], object]
OUTRO = "Samples appear as threads in each task type's review channel; grade them with the buttons."


class CommandProblem(ValueError):
    """An argument that could not be read; the message says which and how to write it."""


@dataclass(frozen=True)
class Usage:
    """One subcommand as the help lists it."""

    name: str
    forms: tuple[str, ...]  # how to type it, without "/audit "
    summary: str
    who: str | None = None  # "managers", when only they may use it


@dataclass(frozen=True)
class AwayRequest:
    user: str | None  # None: the caller
    until: date | None  # None: back now


def split_command(text: str) -> tuple[str, tuple[str, ...]]:
    words = text.split()
    if not words:
        return "", ()
    return words[0].lower(), tuple(words[1:])


def help_text(usages: Iterable[Usage], *, problem: str | None = None) -> str:
    lines = [f"{problem}\n"] if problem else []
    lines.append(INTRO)
    for usage in usages:
        forms = " / ".join(f"`/audit {form}`" for form in usage.forms)
        who = f" ({usage.who})" if usage.who else ""
        lines.append(f"• {forms} — {usage.summary}{who}")
    lines.append(OUTRO)
    return "\n".join(lines)


def user_arg(word: str) -> str:
    user = parse_user(word)
    if user is None:
        raise CommandProblem(f"I couldn't read `{word}` as a person: mention them, like "
                             "`@Tara`.")
    return user


def date_arg(word: str) -> date:
    try:
        if not DATE.match(word):
            raise ValueError
        return date.fromisoformat(word)
    except ValueError:
        raise CommandProblem(f"I couldn't read `{word}` as a date: write it like "
                             "`2026-12-24`.") from None


def no_args(name: str) -> ArgReader:
    def read(args: tuple[str, ...]) -> None:
        if args:
            raise CommandProblem(f"`/audit {name}` takes nothing after it "
                                 f"(I got `{' '.join(args)}`).")
    return read


def one_user(name: str) -> ArgReader:
    def read(args: tuple[str, ...]) -> str:
        if len(args) != 1:
            raise CommandProblem(f"`/audit {name}` needs one person: `/audit {name} @trainer`.")
        return user_arg(args[0])
    return read


def optional_user(name: str) -> ArgReader:
    def read(args: tuple[str, ...]) -> str | None:
        if len(args) > 1:
            raise CommandProblem(f"`/audit {name}` takes at most one person.")
        return user_arg(args[0]) if args else None
    return read


@dataclass(frozen=True)
class StatusPage:
    """`/audit status more N`: page N (1-based as typed, 0-based here) of the trainers."""

    page: int


def status_args(args: tuple[str, ...]) -> str | StatusPage | None:
    """Nothing (the team), ``@trainer`` (one person) or ``more [N]`` (the next pages of the
    trainers' rows; ``more`` alone is page 2)."""
    if args and args[0].lower() == "more":
        if len(args) > 2 or (len(args) == 2 and not (args[1].isdigit() and int(args[1]) >= 1)):
            raise CommandProblem("`/audit status more` takes a page number: "
                                 "`/audit status more 2`.")
        return StatusPage(int(args[1]) - 1 if len(args) == 2 else 1)
    if len(args) > 1:
        raise CommandProblem("`/audit status` takes at most one person.")
    return user_arg(args[0]) if args else None


def some_words(name: str, *, example: str = "ibuprofen kidney") -> ArgReader:
    """One to ``MOST_WORDS`` words, as typed (Slack's ``&amp;``, ``&lt;``, ``&gt;`` undone)."""
    def read(args: tuple[str, ...]) -> tuple[str, ...]:
        if not args:
            raise CommandProblem(f"`/audit {name}` needs words to look for: "
                                 f"`/audit {name} {example}`.")
        if len(args) > MOST_WORDS:
            raise CommandProblem(f"`/audit {name}` takes at most {MOST_WORDS} words "
                                 f"(I got {len(args)}).")
        return tuple(w.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
                     for w in args)
    return read


def away_args(args: tuple[str, ...]) -> AwayRequest:
    """``@person until DATE``, ``until DATE`` (yourself), or ``@person back``."""
    words = list(args)
    user = None
    if words and words[0].lower() not in ("until", "back"):
        user = user_arg(words.pop(0))
    if [w.lower() for w in words] == ["back"]:
        return AwayRequest(user=user, until=None)
    if len(words) == 2 and words[0].lower() == "until":
        return AwayRequest(user=user, until=date_arg(words[1]))
    raise CommandProblem("Say who and until when: `/audit away @person until 2026-12-24` "
                         "(or `/audit away @person back`).")

