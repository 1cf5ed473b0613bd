"""Block Kit for the consistency checks: the grader's private note, the managers' alerts.

    text, blocks = grader_note(feedback)          # ephemeral, to the grader alone; or None
    text, blocks = agreement_alert(alert.agreement)
    text, blocks = calibration_alert(alert.calibration, task_name="Clinical NLP")
"""

from bot.common.grades import scale_in_force
from bot.services.calibration import GraderFeedback, ReviewerCalibration
from bot.services.consistency import TaskAgreement
from bot.slack.blocks import badge, cut, escape, mrkdwn

REVIEWERS_LISTED = 25  # in an agreement alert; the rest are counted

VERDICTS = {
    "match": "✅ You matched the known answer",
    "caught": "🟡 You caught the error; the known answer has another severity",
    "missed": "❌ You missed a planted error",
    "false alarm": "❌ The known answer is Pass: this was a false alarm",
}


def grader_note(feedback: GraderFeedback) -> tuple[str, list[dict]] | None:
    """What only the grader sees after grading: the calibration reveal, the blind wait."""
    lines = []
    reveal = feedback.calibration
    if reveal is not None:
        gold = badge(reveal.gold_grade)
        mine = badge(reveal.grade)
        lines.append(f"🎯 *Calibration item.* {VERDICTS[reveal.verdict]}: known answer {gold}, "
                     f"you graded {mine}.")
        if reveal.gold_note:
            lines.append(f"*Known answer's note:* {escape(cut(reveal.gold_note, 1500))}")
        lines.append("Only you see this. Calibration items never count towards the trainer's "
                     "score; your first grade of an item is what your calibration record keeps.")
    if feedback.double_review == "waiting":
        lines.append(f"👥 Recorded: {badge(feedback.grade)}. This "
                     "sample is double-reviewed: grades stay hidden until a second reviewer "
                     "has graded it.")
    elif feedback.double_review == "own change":
        lines.append(f"👥 You changed your own grade (now "
                     f"{badge(feedback.grade)}). It is still one "
                     "review: the second must come from a different reviewer.")
    if not lines:
        return None
    text = "\n".join(lines)
    return text.split("\n")[0][:150], [{"type": "section", "text": mrkdwn(text[:2900])}]


def agreement_alert(agreement: TaskAgreement) -> tuple[str, list[dict]]:
    """To managers: a task type's reviewers do not share a standard."""
    alpha = agreement.alpha if agreement.alpha is not None else 0.0
    percent = agreement.percent if agreement.percent is not None else 0.0
    text = (f"{escape(agreement.task_name)}: reviewers do not share a standard yet "
            f"(Krippendorff's alpha {alpha:.2f})")
    who = ", ".join(f"<@{r.reviewer}> {r.percent or 0:.0%} of {r.shared}"
                    for r in agreement.reviewers[:REVIEWERS_LISTED]) or "none"
    if len(agreement.reviewers) > REVIEWERS_LISTED:
        who += f" and {len(agreement.reviewers) - REVIEWERS_LISTED} more"
    body = (
        f"⚠️ *{escape(agreement.task_name)}: the reviewers do not share a standard.* Over "
        f"{agreement.weeks[0]}–{agreement.weeks[-1]}, {agreement.double_reviewed} "
        f"double-reviewed samples give Krippendorff's alpha *{alpha:.2f}* (ordinal; below "
        f"{agreement.alert_below:g} is not reliable){_upper(agreement)} and {percent:.0%} "
        "exact agreement. "
        "Until reviewers grade alike, trainer scores in this task type cannot be trusted: "
        "a score says as much about who graded as about the trainer.")
    return text, [
        {"type": "section", "text": mrkdwn(body)},
        {"type": "context", "elements": [mrkdwn(
            f"Agreement with the other reviewer on shared samples: {who}. Consider a "
            "calibration session on the disputed samples (`/audit disputes`).")]},
    ]


def _upper(agreement: TaskAgreement) -> str:
    """`, at most 0.58 with 90% confidence`: why this is an alert and not noise."""
    upper = agreement.upper
    return "" if upper is None else (f", at most {upper:.2f} with {agreement.confidence:.0%} "
                                     "confidence")


def calibration_alert(calibration: ReviewerCalibration, *,
                      task_name: str) -> tuple[str, list[dict]]:
    """To managers: a reviewer catches too few planted errors."""
    rate = calibration.catch_rate or 0.0
    text = (f"<@{calibration.reviewer}> caught {rate:.0%} of planted errors in {escape(task_name)}")
    false_alarms = (f"{calibration.false_alarm_rate:.0%} false alarms on "
                    f"{calibration.passes} known-good items"
                    if calibration.false_alarm_rate is not None else "no known-good items")
    return text, [{"type": "section", "text": mrkdwn(
        f"🎯 *<@{calibration.reviewer}> misses planted errors in {escape(task_name)}.* "
        f"Of {calibration.errors} calibration items with a known "
        f"{scale_in_force().named(scale_in_force().non_pass)}, they "
        f"graded {calibration.caught} as non-pass: a catch rate of *{rate:.0%}*, below "
        f"{calibration.min_catch_rate:.0%}. ({false_alarms}.) Trainers they grade may look "
        "better than they are.")}]
