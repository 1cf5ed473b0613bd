"""Disagreement threads: each week, per task type, the items the trainers disagreed on
most go to the review channel, each trainer's label and reasoning side by side, and a
reviewer adjudicates which label is right, with a written reason.

Usage (the caller commits)::

    posted = plan_disagreements(session, workspace, now=now)   # the weekly audit does this
    ruling = adjudicate(session, workspace, disagreement_id=3, user="U0NURSE01", label="B",
                        reason="B: no red flags, but the CKD makes it time-sensitive.",
                        now=now)

An item's disagreement is the share of its pairs of trainers whose labels differ
(``agreement.labels_match`` at the task type's level); the week's items are the labelled
outputs created in the 7 days before the run, as for the audit. At most
``PER_TASK_TYPE`` items a week per task type, most disagreement first (more trainers
first among equals). An item is posted once ever (a unique key on task type and item), so
a second run of the week, or a replica, posts nothing twice. Who may adjudicate is who may
grade the task type (``Workspace.may_grade``), never one of the trainers involved; the
first ruling stands (a conditional update), a later one is refused.

The ruling counts in each involved trainer's precision, in the transaction that records it:
one graded sample per trainer (their first label on the item) in the ISO week of the ruling
(``Disagreement.ruled_week``, the workspace's time zone): **Pass** when their label matches
the ruling (``agreement.labels_match`` at the task type's level), else **Minor issue** (one
label on one shared item is a disagreement about a judgement call, not a Major error; the
verdict is stored with each label, so a later change of the scale's level does not change
what was counted). The tallies move with it (``tallies.adjudicated``), and the standings and
the escalation check read it like any graded sample. Each involved trainer is told the
ruling and the reason by DM (``bot.slack.disagreement_blocks.owe_ruling_dms``, once each).
"""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.common.errors import AuditbotError, InvalidGrade, NotAReviewer, NotFound
from bot.common.grades import scale_in_force
from bot.common.text import visible_length
from bot.services.agreement import labels_match
from bot.services.audit import audit_week
from bot.services.grading import MIN_EXPLANATION
from bot.services.outbox import OutboxKind, enqueue, enqueue_update
from bot.services.tallies import adjudicated
from bot.store.models import TrainerOutput
from bot.store.models.trainer import Disagreement
from bot.workspace import TaskType, Workspace

PER_TASK_TYPE = 3
LOOKBACK = timedelta(days=7)
MAX_TRAINERS_SHOWN = 8


class AlreadyRuled(AuditbotError):
    """Someone adjudicated this disagreement first."""


@dataclass(frozen=True)
class LabelGiven:
    trainer: str
    label: str
    reasoning: str | None
    output_id: str


def disagreement_share(labels: list[tuple[str, str]], *, level: str) -> float:
    """Of the pairs of different trainers' labels, the share that differ (pure)."""
    pairs = [(a, b) for i, (ta, a) in enumerate(labels) for tb, b in labels[i + 1:]
             if ta != tb]
    if not pairs:
        return 0.0
    return sum(not labels_match(a, b, level=level) for a, b in pairs) / len(pairs)


def plan_disagreements(session: Session, workspace: Workspace, *,
                       now: datetime) -> list[Disagreement]:
    """Store and owe the posts of the week's most disagreed items, per task type."""
    week = audit_week(workspace, now)
    posted: list[Disagreement] = []
    for task_type in workspace.task_types:
        for labels, share in _top_items(session, task_type, now=now):
            item = labels[0][0]
            row = Disagreement(
                task_type=task_type.key, item=item, iso_week=week, channel=task_type.channel,
                labels_json=json.dumps([
                    {"trainer": g.trainer, "label": g.label, "reasoning": g.reasoning,
                     "output_id": g.output_id} for _, g in labels]),
                disagreement=share, created_at=now)
            try:
                with session.begin_nested():
                    session.add(row)
                    session.flush()
            except IntegrityError:
                continue  # posted already (another run of the week, a replica)
            enqueue(session, kind=OutboxKind.DISAGREEMENT_POST, ref_id=row.id or 0,
                    channel=task_type.channel, dedupe_key=f"disagreement:{row.id}", now=now)
            posted.append(row)
    return posted


def _top_items(session: Session, task_type: TaskType, *,
               now: datetime) -> list[tuple[list[tuple[str, LabelGiven]], float]]:
    already = select(Disagreement.item).where(Disagreement.task_type == task_type.key)
    rows = session.exec(
        select(TrainerOutput).where(
            TrainerOutput.task_type == task_type.key, col(TrainerOutput.item).is_not(None),
            col(TrainerOutput.label).is_not(None), TrainerOutput.created_at >= now - LOOKBACK,
            TrainerOutput.created_at < now, col(TrainerOutput.item).not_in(already))
        .order_by(col(TrainerOutput.created_at), col(TrainerOutput.id))).all()
    by_item: dict[str, list[tuple[str, LabelGiven]]] = defaultdict(list)
    for output in rows:
        assert output.item is not None and output.label is not None
        by_item[output.item].append((output.item, LabelGiven(
            output.trainer, output.label, output.reasoning, output.id)))
    scored = []
    for labels in by_item.values():
        if len({g.trainer for _, g in labels}) < 2:
            continue
        share = disagreement_share([(g.trainer, g.label) for _, g in labels],
                                   level=task_type.label_scale.level)
        if share > 0:
            scored.append((labels, share))
    scored.sort(key=lambda found: (-found[1], -len(found[0]), found[0][0][0]))
    return scored[:PER_TASK_TYPE]


def labels_of(row: Disagreement) -> list[LabelGiven]:
    return [LabelGiven(d["trainer"], d["label"], d.get("reasoning"), d["output_id"])
            for d in json.loads(row.labels_json)]


def choices(workspace: Workspace, row: Disagreement) -> list[str]:
    """The labels the trainers gave, each once, in the task type's order (its ``labels``,
    else as numbers on a numeric scale, else alphabetically)."""
    given = {g.label for g in labels_of(row)}
    try:
        scale = workspace.task_type(row.task_type).label_scale
    except KeyError:
        return sorted(given)
    if scale.labels:
        return [label for label in scale.labels if label in given] + sorted(
            given - set(scale.labels))
    if scale.level in ("ordinal", "interval"):
        return sorted(given, key=lambda label: (_as_number(label), label))
    return sorted(given)


def _as_number(label: str) -> float:
    try:
        return float(label)
    except ValueError:
        return float("inf")


def load_disagreement(session: Session, disagreement_id: int) -> Disagreement:
    row = session.get(Disagreement, disagreement_id)
    if row is None:
        raise NotFound("That disagreement is no longer in auditbot's store.")
    return row


def check_may_adjudicate(workspace: Workspace, row: Disagreement, *, user: str) -> None:
    """Raise the refusal ``user`` reads, or return when they may adjudicate."""
    try:
        name = workspace.task_type(row.task_type).name
    except KeyError:
        raise NotFound(f"Task type `{row.task_type}` is no longer in auditbot's config.") \
            from None
    if not workspace.may_grade(user, row.task_type):
        raise NotAReviewer(f"Only {name} reviewers and managers can adjudicate "
                           "disagreements between its trainers.")
    if user in {g.trainer for g in labels_of(row)}:
        raise NotAReviewer("You labelled this item yourself: someone else adjudicates it.")
    if row.ruled_at is not None:
        raise AlreadyRuled(f"<@{row.ruled_by}> adjudicated this already: "
                           f"*{row.ruling_label}* is right.")


def ruling_problems(row: Disagreement, *, label: str | None,
                    reason: str | None) -> dict[str, str]:
    """What is wrong with a ruling's fields, keyed ``label`` / ``reason`` (empty: fine)."""
    problems = {}
    given = [g.label for g in labels_of(row)]
    if not label:
        problems["label"] = "Choose the label that is right."
    elif label not in given:
        problems["label"] = f"{label!r} is not one of the labels the trainers gave."
    seen = visible_length(reason)
    if seen < MIN_EXPLANATION:
        problems["reason"] = (f"Explain the ruling in at least {MIN_EXPLANATION} characters "
                              f"(you wrote {seen}): the trainers read it.")
    return problems


def adjudicate(session: Session, workspace: Workspace, *, disagreement_id: int, user: str,
               label: str, reason: str, now: datetime) -> Disagreement:
    """Record the ruling (the first one stands) and owe the message its update."""
    row = load_disagreement(session, disagreement_id)
    check_may_adjudicate(workspace, row, user=user)
    problems = ruling_problems(row, label=label, reason=reason)
    if problems:
        raise InvalidGrade(" ".join(problems.values()))
    week = audit_week(workspace, now)
    marked = with_verdicts(row, label=label, level=_level(workspace, row.task_type))
    done = session.execute(
        update(Disagreement)
        .where(col(Disagreement.id) == disagreement_id, col(Disagreement.ruled_at).is_(None))
        .values(ruled_by=user, ruling_label=label, ruling_reason=reason.strip(), ruled_at=now,
                ruled_week=week, labels_json=json.dumps(marked))
        .execution_options(synchronize_session=False))
    if getattr(done, "rowcount", 0) != 1:
        session.refresh(row)  # someone else's ruling, committed since this one was read
        raise AlreadyRuled(f"<@{row.ruled_by}> adjudicated this first: "
                           f"*{row.ruling_label}* is right.")
    for entry in marked:
        if entry.get("verdict"):
            adjudicated(session, trainer=entry["trainer"], task_type=row.task_type,
                        iso_week=week, grade=entry["verdict"])
    enqueue_update(session, kind=OutboxKind.DISAGREEMENT_UPDATE, ref_id=disagreement_id,
                   channel=row.channel, now=now)
    session.flush()
    session.refresh(row)
    return row


def _level(workspace: Workspace, task_type: str) -> str:
    return workspace.task_type(task_type).label_scale.level  # check_may_adjudicate found it


def with_verdicts(row: Disagreement, *, label: str, level: str) -> list[dict]:
    """The row's labels, each trainer's first one marked with its verdict (the best grade when
    it matches the ruling ``label`` at ``level``, else the mildest error); later labels of the same
    trainer on the item are kept, unmarked (pure)."""
    seen: set[str] = set()
    marked = []
    for entry in json.loads(row.labels_json):
        entry = {k: v for k, v in entry.items() if k != "verdict"}
        if entry["trainer"] not in seen:
            seen.add(entry["trainer"])
            # Ruled right: the best grade; wrong: the mildest error (a judgement call).
            scale = scale_in_force()
            entry["verdict"] = scale.best if labels_match(entry["label"], label, level=level) \
                else scale.non_pass[0]
        marked.append(entry)
    return marked
