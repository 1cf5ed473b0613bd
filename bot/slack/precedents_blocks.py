"""Block Kit for `/audit precedents <words>` (pure): earlier rulings, most relevant first.

    text, blocks = precedents_message(found, task_names={"clinical": "Clinical NLP"},
                                      links={(channel, ts): "https://…"})

One section per sample (or per adjudicated disagreement between trainers with a saved ruling,
linked to its thread message): where it is (linked), whose output, its saved precedent (the ruling
in one sentence and its rationale), each reviewer's grade with category and explanation
(cut), and a manager's settlement, the ruling that counts. At most
``MOST`` precedents reach the builder, so the message stays far inside 50 blocks; every
section is cut under Slack's 3,000 characters. Reviewers' words go out escaped.
"""

from collections.abc import Mapping, Sequence

from bot.common.grades import scale_in_force
from bot.services.precedents import (
    GRADING_SHOWN,
    DisagreementPrecedent,
    Precedent,
    Precedents,
    SavedPrecedent,
)
from bot.slack.blocks import badge, cut, escape, escape_cut, mrkdwn, plain
from bot.slack.dispute_blocks import review_line
from bot.slack.status_blocks import MESSAGE_BLOCKS, SECTION, Links, context, fit, linked

NOTE_SHOWN = 600  # as much as ``review_line`` shows of an explanation
REVIEWS_SHOWN = 3  # a double review has two; the section stays under 3,000 characters
RATIONALE_SHOWN = 600



def _what_matches() -> str:
    scale = scale_in_force()
    return (f"saved precedents, {scale.named(scale.non_pass, 'and')} grades and managers' "
            "settlement notes that have every word")


def quoted(words: tuple[str, ...]) -> str:
    return "“" + escape(cut(" ".join(words), 200)) + "”"


def precedent_text(p: Precedent, *, task_name: str, link: str | None) -> str:
    label = f"{p.week} · sample {p.position + 1} of {p.count}"
    lines = [f"*{escape(task_name)}* · {linked(label, link)} · output of <@{p.trainer}>"]
    if p.saved is not None:
        lines.append(saved_line(p.saved))
    lines += [review_line(r) for r in p.reviews[:REVIEWS_SHOWN]]
    if p.settlement is not None:
        s = p.settlement
        lines.append(f"⚖️ *Settled* by <@{s.manager}>: {badge(s.grade)} — "
                     f"{escape(cut(s.note, NOTE_SHOWN))}")
    elif p.disputed:
        lines.append("⚖️ _Disputed: the reviewers disagree and no manager has settled it yet._")
    return cut("\n".join(lines), SECTION)


def disagreement_text(p: DisagreementPrecedent, *, task_name: str, link: str | None) -> str:
    """A saved ruling on a disagreement between trainers: the item (linked to its thread
    message), each trainer's label, the ruling and its saved precedent."""
    label = f"{p.week} · disagreement on item {escape_cut(p.item, 100)}"
    labels = " · ".join(f"<@{trainer}> *{escape_cut(given, 64)}*"
                        for trainer, given in p.labels[:8])
    lines = [f"*{escape(task_name)}* · {linked(label, link)} · trainers' labels: {labels}",
             saved_line(p.saved),
             f"⚖️ *Adjudicated* by <@{p.ruled_by}>: *{escape_cut(p.ruling_label, 64)}* is "
             f"right — {escape(cut(p.ruling_reason, NOTE_SHOWN))}"]
    return cut("\n".join(lines), SECTION)


def saved_line(saved: SavedPrecedent, *, rationale: int = RATIONALE_SHOWN) -> str:
    """A saved precedent: its category and ruling, then the rationale (cut), escaped."""
    return (f"📌 *Precedent* · *{escape_cut(saved.category, 200)}*: "
            f"{escape_cut(saved.ruling, 600)}\n"
            f"Why: {escape_cut(saved.rationale, rationale)} (saved by <@{saved.author}>)")


def grading_precedents(saved: Sequence[SavedPrecedent], *, task_name: str) -> list[dict]:
    """The grading modal's context: the saved precedents most like the sample, if any."""
    if not saved:
        return []
    return [
        {"type": "context", "elements": [mrkdwn(
            f"*Precedents in {escape_cut(task_name, 150)}* (saved rulings on settled "
            "disagreements, most like this sample first; more with `/audit precedents`):")]},
        *({"type": "context", "elements": [mrkdwn(saved_line(p, rationale=500))]}
          for p in saved[:GRADING_SHOWN]),
    ]


def precedents_message(found: Precedents, *, task_names: Mapping[str, str],
                       links: Links) -> tuple[str, list[dict]]:
    where = ", ".join(escape(task_names.get(k, k)) for k in found.task_types)
    if not found.precedents and not found.disagreements:
        text = f"No precedents for {quoted(found.words)}."
        return text, [{"type": "section", "text": mrkdwn(
            f"🔎 *{text}*\nI looked in {where} for {_what_matches()}. Try fewer or other words.")}]
    text = f"Precedents for {quoted(found.words)}"
    blocks: list[dict] = [{"type": "header", "text": plain(cut(f"🔎 {text}", 150))}]
    for p in found.ranked():
        link = links.get((p.channel, p.message_ts)) if p.message_ts else None
        name = task_names.get(p.task_type, p.task_type)
        shown = (disagreement_text(p, task_name=name, link=link)
                 if isinstance(p, DisagreementPrecedent)
                 else precedent_text(p, task_name=name, link=link))
        blocks.append({"type": "section", "text": mrkdwn(shown)})
    more = ("More match than these: add a word to narrow it. " if found.more else "")
    blocks.append(context(f"{more}Most relevant first, from {where}: {_what_matches()} "
                          "(a settlement is the ruling that counts)."))
    return text, fit(blocks, MESSAGE_BLOCKS, note="Cut to fit one message.")
