"""Pure Block Kit builders: plain data in, Slack payload dicts out.

Shared by jobs, the outbox and handlers, and unit-tested against Slack's limits. Anything a
trainer wrote goes out as ``plain_text``, so an output containing ``<!channel>`` or stray
mrkdwn can neither ping a channel nor break the layout.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from bot.common.grades import DEFAULT_SCALE, Scale, scale_in_force
from bot.slack.ids import Action, Block, Callback, grade_action

SECTION_LIMIT = 3000
PROMPT_SHOWN = 1200
OUTPUT_SHOWN = 2800
REASONING_SHOWN = 1200
REASONING_SECTIONS_SHOWN = 4  # of a full view: the 10,000 characters a reasoning may have
PROJECT_SHOWN = 200
REVIEWERS_NAMED = 20  # in a thread's parent; the rest are counted
MODAL_BLOCK_LIMIT = 100
PROMPT_SECTIONS_SHOWN = 30  # of a full view's 100 blocks; the output gets the rest
CLARITY_BADGES = {"clear": "💬 Clear", "unclear": "❔ Unclear"}


@dataclass(frozen=True)
class ClarityLine:
    reviewer: str
    rating: str  # clear | unclear
    reason: str | None


@dataclass(frozen=True)
class GradeLine:
    reviewer: str
    grade: str
    category: str | None
    explanation: str | None


@dataclass(frozen=True)
class SampleCard:
    """What a sample's message shows."""

    sample_id: int
    position: int  # 0-based
    count: int
    output_id: str
    trainer: str
    task_name: str
    prompt: str
    output: str
    created_at: str
    project: str | None
    needs_double_review: bool
    grades: Sequence[GradeLine]
    dispute: str | None = None  # a disputed or settled sample's line (dispute_blocks)
    label: str | None = None  # the trainer's own verdict, when the record carried one
    reasoning: str | None = None  # the trainer's written reasoning, when it carried one
    clarity: Sequence[ClarityLine] = ()  # reviewers' ratings of that reasoning
    scale: Scale = DEFAULT_SCALE  # the workspace's: the buttons and the grades' badges


def audit_parent(*, trainer: str, task_name: str, iso_week: str, sample_count: int,
                 reviewers: Sequence[str],
                 scale: Scale = DEFAULT_SCALE) -> tuple[str, list[dict]]:
    """The thread's parent message: returns (notification text, blocks)."""
    text = (f"Weekly audit {iso_week} · {escape(task_name)} · <@{trainer}> · "
            f"{sample_count} samples")
    noun = "sample" if sample_count == 1 else "samples"
    who = people(reviewers, limit=REVIEWERS_NAMED) or "the task type's reviewers"
    return text, [
        {"type": "header", "text": plain(f"Weekly audit · {iso_week}"[:150])},
        {"type": "section", "text": mrkdwn(
            f"*Trainer:* <@{trainer}>\n*Task type:* {escape(task_name)}\n"
            f"*Samples:* {sample_count} {noun}, one per reply in this thread"
        )},
        {"type": "context", "elements": [mrkdwn(
            f"Reviewers ({who}): grade each reply with {scale.listed()}. "
            "A non-pass grade needs a category and a written explanation."
        )]},
    ]


def sample_reply(card: SampleCard) -> tuple[str, list[dict]]:
    """One sample in the audit thread, with its grading buttons and the grades so far."""
    text = (f"Sample {card.position + 1} of {card.count} for <@{card.trainer}> "
            f"({escape(card.task_name)})")
    # Ids and projects come from the labelling pipeline: escaped, and without backticks
    # (one would end the code span and let the rest be read as mrkdwn).
    details = [f"*Sample {card.position + 1} of {card.count}*",
               f"`{escape(card.output_id).replace('`', chr(39))}`",
               f"created {card.created_at}"]
    if card.project:
        details.append(f"project {escape_cut(card.project, PROJECT_SHOWN)}")
    blocks: list[dict] = [
        {"type": "section", "text": mrkdwn(" · ".join(details))},
        {"type": "context", "elements": [mrkdwn("*Prompt*")]},
        {"type": "section", "text": plain(cut(card.prompt, PROMPT_SHOWN))},
        {"type": "context", "elements": [mrkdwn("*Trainer's output*")]},
        {"type": "section", "text": plain(cut(card.output, OUTPUT_SHOWN))},
    ]
    if card.label is not None or card.reasoning:
        verdict = f" · label *{escape_cut(card.label, 64)}*" if card.label is not None else ""
        blocks.append({"type": "context", "elements": [mrkdwn(f"*Trainer's reasoning*{verdict}")]})
        if card.reasoning:
            blocks.append({"type": "section", "text": plain(cut(card.reasoning,
                                                                REASONING_SHOWN))})
    reasoning = card.reasoning or ""
    shortened = (len(card.output) > OUTPUT_SHOWN or len(card.prompt) > PROMPT_SHOWN
                 or len(reasoning) > REASONING_SHOWN)
    if shortened:
        also = f", {len(reasoning):,} of reasoning" if len(reasoning) > REASONING_SHOWN else ""
        blocks.append({"type": "context", "elements": [mrkdwn(
            f"Shown in part ({len(card.output):,} characters of output, "
            f"{len(card.prompt):,} of prompt{also}): *Show full* opens the whole text."
        )]})
    # Double review is blind: until both reviews are in, nobody sees the first grade.
    done = len({g.reviewer for g in card.grades})
    blind = card.needs_double_review and done < 2
    if card.needs_double_review:
        hidden = " · grades stay hidden until both are in" if blind else ""
        blocks.append({"type": "context", "elements": [mrkdwn(
            f"👥 Double review: {min(done, 2)} of 2 reviews in{hidden}"
        )]})
    value = str(card.sample_id)
    buttons = [button(level.label, grade_action(level.key), value, style=level.style)
               for level in card.scale]
    if card.reasoning:  # rating the reasoning is optional, one click beside the grade
        buttons.append(button("Clear", Action.CLARITY_CLEAR, value))
        buttons.append(button("Unclear", Action.CLARITY_UNCLEAR, value))
    if shortened:
        buttons.append(button("Show full", Action.SHOW_FULL, value))
    blocks.append({"type": "actions", "block_id": f"sample-{card.sample_id}",
                   "elements": buttons})
    if card.grades and not blind:
        blocks.append({"type": "context", "elements": [
            mrkdwn(_grade_line(g, card.scale)) for g in card.grades[:10]
        ]})
    if card.clarity and not blind:  # shown as grades are: not while the review is blind
        blocks.append({"type": "context", "elements": [
            mrkdwn(_clarity_line(c)) for c in card.clarity[:10]
        ]})
    if card.dispute:
        blocks.append({"type": "context", "elements": [mrkdwn(card.dispute[:SECTION_LIMIT])]})
    return text, blocks


def grade_modal(*, grade: str, categories: Sequence[str], trainer: str, output_excerpt: str,
                private_metadata: str, context: Sequence[dict] = (),
                scale: Scale = DEFAULT_SCALE) -> dict:
    """The modal a non-pass click opens: an error category and a written explanation, after
    ``context`` (blocks the grader reads first: the precedents most like the sample)."""
    title = scale.label_of(grade)
    return {
        "type": "modal",
        "callback_id": Callback.GRADE_MODAL,
        "private_metadata": private_metadata,
        "title": plain(title),
        "submit": plain("Record grade"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "section", "text": mrkdwn(
                f"Grading a sample by <@{trainer}> as *{title}*."
            )},
            {"type": "context", "elements": [plain(cut(output_excerpt, 280))]},
            *context[:MODAL_BLOCK_LIMIT - 4],
            {
                "type": "input",
                "block_id": Block.CATEGORY,
                "label": plain("Error category"),
                "element": {
                    "type": "static_select",
                    "action_id": Block.CATEGORY,
                    "placeholder": plain("Choose a category"),
                    "options": [option(c) for c in categories[:100]],
                },
            },
            {
                "type": "input",
                "block_id": Block.EXPLANATION,
                "label": plain("What is wrong, and what would be right?"),
                "hint": plain("At least 20 characters. The trainer will read this."),
                "element": {
                    "type": "plain_text_input",
                    "action_id": Block.EXPLANATION,
                    "multiline": True,
                    "min_length": 20,
                    "max_length": 3000,
                },
            },
        ],
    }


def full_output_modal(*, output_id: str, prompt: str, output: str,
                      reasoning: str | None = None) -> dict:
    """The whole prompt and output (and the trainer's reasoning), split over as many
    sections as Slack allows."""
    blocks: list[dict] = [{"type": "header", "text": plain("Prompt")}]
    # The output is what is graded: the prompt may not take more than its share of the view.
    prompt_parts = split_text(prompt)
    blocks += [{"type": "section", "text": plain(part)}
               for part in prompt_parts[:PROMPT_SECTIONS_SHOWN]]
    if len(prompt_parts) > PROMPT_SECTIONS_SHOWN:
        blocks.append({"type": "context", "elements": [mrkdwn(
            "Prompt cut here: the rest is longer than a Slack view holds.")]})
    tail: list[dict] = []
    if reasoning:
        reasoning_parts = split_text(reasoning)[:REASONING_SECTIONS_SHOWN]
        tail = [{"type": "header", "text": plain("Trainer's reasoning")},
                *({"type": "section", "text": plain(part)} for part in reasoning_parts)]
    blocks.append({"type": "header", "text": plain("Trainer's output")})
    room = MODAL_BLOCK_LIMIT - len(blocks) - len(tail) - 1
    parts = split_text(output)
    blocks += [{"type": "section", "text": plain(part)} for part in parts[:room]]
    if len(parts) > room:
        blocks.append({"type": "context", "elements": [mrkdwn(
            f"Cut here: the rest is longer than a Slack view holds. Full text: `{output_id}`."
        )]})
    blocks += tail
    return {
        "type": "modal",
        "callback_id": Callback.FULL_OUTPUT,
        "title": plain(cut(output_id, 24)),
        "close": plain("Close"),
        "blocks": blocks[:MODAL_BLOCK_LIMIT],
    }


def split_text(text: str, limit: int = SECTION_LIMIT - 1) -> list[str]:
    """Split at paragraph or word boundaries into pieces Slack accepts in one section."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    if rest or not parts:
        parts.append(rest or " ")
    return parts


def _clarity_line(c: ClarityLine) -> str:
    line = f"Reasoning {CLARITY_BADGES.get(c.rating, c.rating)} — <@{c.reviewer}>"
    if c.reason:
        line += f": {escape(cut(c.reason, 300))}"
    return line[:SECTION_LIMIT]


def clarity_modal(*, trainer: str, reasoning: str, private_metadata: str,
                  minimum: int) -> dict:
    """What ``Unclear`` opens: a short why, for the trainer to act on."""
    return {
        "type": "modal",
        "callback_id": Callback.CLARITY_MODAL,
        "private_metadata": private_metadata,
        "title": plain("Unclear reasoning"),
        "submit": plain("Record rating"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "section", "text": mrkdwn(
                f"Rating the reasoning of <@{trainer}> as *Unclear*.")},
            {"type": "context", "elements": [plain(cut(reasoning, 280))]},
            {
                "type": "input",
                "block_id": Block.CLARITY_REASON,
                "label": plain("What is unclear?"),
                "hint": plain(f"At least {minimum} characters. The trainer will read this."),
                "element": {
                    "type": "plain_text_input",
                    "action_id": Block.CLARITY_REASON,
                    "multiline": True,
                    "min_length": minimum,
                    "max_length": 1000,
                },
            },
        ],
    }


def badge(grade: str) -> str:
    """A grade as surfaces show it: its badge on the scale in force (``bot.common.grades``), or
    the key as stored when the scale no longer has it."""
    return scale_in_force().badge_of(grade)


def grade_line(grade: str, reviewer: str | None, category: str | None,
               explanation: str | None, *, cap: int, who: str = " by ", quoted: bool = False,
               scale: Scale | None = None) -> str:
    """The one line a grade is shown as: ``{badge} by <@reviewer> · *category*: explanation``.

    ``cap``: how much of the explanation the surface has room for; ``who``: what joins the
    reviewer (" by ", or " — " where reviews stand side by side); ``quoted``: the explanation
    as a quote on its own line (the trainer's DM). An empty ``reviewer`` (hidden from the
    trainer, ``reviewers_shown``) is left out. Reviewers' words go out escaped."""
    line = (scale or scale_in_force()).badge_of(grade)
    if reviewer:
        line += f"{who}<@{reviewer}>"
    if category:
        line += f" · *{escape(category)}*"
    if explanation:
        line += ("\n> " if quoted else ": ") + escape(cut(explanation, cap))
    return line


def _grade_line(g: GradeLine, scale: Scale) -> str:
    return grade_line(g.grade, g.reviewer, g.category, g.explanation, cap=300, who=" — ",
                      scale=scale)[:SECTION_LIMIT]


def cut(text: str, limit: int) -> str:
    text = text if text.strip() else "(empty)"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: the three characters that start links and mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def people(users: Sequence[str], *, limit: int = 6) -> str:
    """Mentions of the first ``limit`` users, then how many more."""
    shown = ", ".join(f"<@{u}>" for u in users[:limit])
    return shown + (f" and {len(users) - limit} more" if len(users) > limit else "")


def escape_cut(text: str, limit: int) -> str:
    """``text`` escaped, then cut to ``limit`` characters (never inside an ``&…;``): cut
    first, the escaping could make it longer than Slack allows."""
    escaped = escape(text if text.strip() else "(empty)")
    if len(escaped) <= limit:
        return escaped
    head = escaped[: limit - 1]
    entity = head.rfind("&")
    if entity != -1 and ";" not in head[entity:]:
        head = head[:entity]
    return head.rstrip() + "…"


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def option(label: str) -> dict:
    return {"text": plain(label[:75]), "value": label[:150]}


def button(label: str, action: Action | str, value: str, *,
           style: str | None = None) -> dict:
    element = {"type": "button", "text": plain(label), "action_id": action, "value": value}
    if style:
        element["style"] = style
    return element
