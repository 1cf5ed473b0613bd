"""``describe_workspace``: what ``auditbot config check`` prints once the config is valid.

    print(describe_workspace(load_workspace("auditbot.toml")))

Plain text, one fact per line, so a person can check the bot understood what they meant:
effective policy per task type (overrides marked ``*``), people, schedule and escalation.
"""

from dataclasses import fields
from datetime import timedelta

from bot.workspace.model import LEAD, Policy, Workspace
from bot.workspace.timing import format_duration


def describe_workspace(ws: Workspace) -> str:
    """A readable multi-line summary of a validated workspace."""
    lines = [
        f"Timezone: {ws.timezone}",
        f"Managers: {', '.join(ws.managers) or '(none)'}",
        "Schedule:",
        f"  weekly audit: {ws.schedule.weekly_audit.label} ({ws.timezone})",
        f"  escalation check: every {format_duration(ws.schedule.escalation_check)}",
        f"  reviewer reminder: {ws.schedule.reviewer_reminder.label}; weekly digest to "
        f"managers: {ws.schedule.weekly_digest.label}",
        "Grade scale (best first): " + ", ".join(
            f"{lv.key} ({lv.badge}{'; severe' if lv.severe else ''})" for lv in ws.scale),
        f"Default policy: {_policy(ws.policy, ws.policy)}",
        f"Task types ({len(ws.task_types)}; * marks a policy value overriding the default):",
    ]
    for tt in ws.task_types:
        trainers = [t.user for t in ws.trainers_of(tt.key)]
        lines += [
            f"  {tt.key}: {tt.name}",
            f"    channel: {tt.channel}",
            f"    reviewers: {', '.join(tt.reviewers)}",
            f"    trainers: {', '.join(trainers) or '(none)'}",
            f"    error categories: {'; '.join(tt.error_categories)}",
            f"    policy: {_policy(tt.policy, ws.policy)}",
        ]
        scale = tt.label_scale
        if scale.declared:
            order = " < ".join(scale.labels) if scale.level == "ordinal" \
                else ", ".join(scale.labels)
            shown = f" ({order})" if scale.labels else ""
            lines.append(f"    trainer labels: {scale.level}{shown}")
    lines.append(f"Trainers ({len(ws.trainers)}):")
    for t in ws.trainers:
        lead = f"lead {t.lead}" if t.lead else "no lead"
        started = f"started {t.started.isoformat()}" if t.started else "start date unknown"
        lines.append(f"  {t.user}: {', '.join(t.task_types)}; {lead}; {started}")
    lines.append("Escalation:")
    for i, level in enumerate(ws.escalation.levels, start=1):
        targets = ", ".join("the trainer's lead" if n == LEAD else n for n in level.notify)
        if i == len(ws.escalation.levels) or level.ack_within is None:
            wait = "last level"
        else:
            wait = f"next level after {format_duration(level.ack_within)} unacknowledged"
        hours = f"; paged {level.working_hours} only" if level.working_hours else ""
        lines.append(f"  {i}. {targets} ({wait}{hours})")
    lines.append(f"  acknowledged levels are pinged again after "
                 f"{format_duration(ws.escalation.reack_after)}")
    if ws.escalation.repeat:
        lines.append(f"  after the last level the path starts again, at most "
                     f"{ws.escalation.repeat} time(s)")
    markers = ", ".join(f"week {m.week} "
                        + ("" if m.dimension == "precision" else f"{m.dimension} ")
                        + ">= " + (f"{m.min_score:g}" if m.min_score is not None
                                   else "threshold")
                        for m in ws.onboarding.markers)
    lines.append(f"Onboarding: the first {ws.onboarding.days} days; {markers or 'no markers'}")
    for span in ws.away:
        since = f"from {span.start.isoformat()} " if span.start else ""
        lines.append(f"Away: {span.user} {since}through {span.until.isoformat()}")
    return "\n".join(lines)


def _policy(policy: Policy, default: Policy) -> str:
    """``samples_per_trainer=5, ..., pass_threshold=0.9*`` (``*`` = differs from default)."""
    parts = []
    for f in fields(Policy):
        if f.name == "scale":  # the workspace's, listed once under "Grade scale"
            continue
        value = getattr(policy, f.name)
        if f.name == "grade_weights":
            text = "{" + ", ".join(f"{g}={w:g}" for g, w in value.items()) + "}"
        elif value is None:
            text = "none"
        elif isinstance(value, timedelta):
            text = format_duration(value)
        elif isinstance(value, bool | str):
            text = str(value).lower() if isinstance(value, bool) else value
        else:
            text = f"{value:g}"
        mark = "*" if value != getattr(default, f.name) else ""
        parts.append(f"{f.name}={text}{mark}")
    return ", ".join(parts)
