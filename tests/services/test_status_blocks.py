"""The status, Home and nudge builders stay within Slack's limits on extreme data (pure)."""

from datetime import UTC, datetime, timedelta

from bot.sandbox.blockkit import validate_message_blocks, validate_view
from bot.services.escalation_view import EscalationLine, EscalationOverview
from bot.services.home import HomeData, Page, ReviewerStats
from bot.services.pending import PendingList, PendingSample
from bot.services.people import Roles
from bot.services.status import Backlog, TaskTypeStatus, TeamStatus
from bot.slack.home_blocks import home_view
from bot.slack.status_blocks import (
    ago,
    escalations_message,
    pending_message,
    team_status_message,
)

NOW = datetime(2026, 11, 23, 14, tzinfo=UTC)
LOUD = "<!channel> *bold* " + "x" * 400


def _task(i: int) -> TaskTypeStatus:
    return TaskTypeStatus(
        key=f"t{i}", name=f"{LOUD}{i}", threshold=0.85, confidence=0.95,
        window=("2026-W45", "2026-W46", "2026-W47", "2026-W48"), trainers=400, audited=390,
        away=("U0A",), paused=(), missing=tuple(f"U0M{n:04d}" for n in range(9)),
        samples_week=2000, graded_week=1500, samples_window=8000, graded_window=7000,
        score=0.8, lower=0.7, upper=0.9, weekly=(None, 0.8, 0.9, 0.7), scored_trainers=390,
        watch=tuple(f"U0W{n:04d}" for n in range(200)), escalated=("U0E1",),
        backlog=Backlog(500, NOW - timedelta(days=9)))


def _escalation(i: int) -> EscalationLine:
    return EscalationLine(
        id=i, trainer=f"U0T{i:04d}", task_type="t", task_name=LOUD, status="open", level=1,
        levels=3, opened_at=NOW - timedelta(days=2), notified=((0, "U0LEAD"), (1, "C0QUAL")),
        acknowledged_by=None, acknowledged_at=None, closed_by=None, closed_at=None,
        close_note=LOUD * 5, score=0.5, threshold=0.85)


def _pending(n: int) -> PendingList:
    samples = tuple(PendingSample(
        sample_id=i, task_type="t", trainer="U0T1", week="2026-W48", position=i % 5, count=5,
        channel="C0C", message_ts=f"{i}.0", waiting_since=NOW - timedelta(hours=i),
        second_review=bool(i % 2)) for i in range(n))
    return PendingList(user="U0R", task_types=("t",), total=n * 10, samples=samples)


def test_a_huge_team_status_is_one_valid_message():
    team = TeamStatus(iso_week="2026-W48", task_types=tuple(_task(i) for i in range(80)))
    failures = [(f"C0X{i}", "channel_not_found", "invite the bot", 3) for i in range(40)]
    _, blocks = team_status_message(team, now=NOW, failures=failures)
    assert validate_message_blocks(blocks) == [] and len(blocks) <= 50
    assert "<!channel>" not in str(blocks)


def test_long_pending_and_escalation_lists_are_valid_messages():
    links = {("C0C", f"{i}.0"): f"https://x/{i}" for i in range(100)}
    _, blocks = pending_message(_pending(100), task_names={"t": LOUD}, links=links, now=NOW)
    assert validate_message_blocks(blocks) == []
    overview = EscalationOverview(open=tuple(_escalation(i) for i in range(60)),
                                  closed=tuple(_escalation(i) for i in range(5)))
    _, blocks = escalations_message(overview, now=NOW)
    assert validate_message_blocks(blocks) == [] and len(blocks) <= 50


def test_a_home_with_every_role_fits_slacks_view_limits():
    roles = Roles(user="U0X", manager=True, reviews=("t",), leads=("U0T1",), trainer=None)
    team = TeamStatus(iso_week="2026-W48", task_types=tuple(_task(i) for i in range(8)))
    data = HomeData(
        user="U0X", roles=roles, managers=("U0X",), queue=_pending(8),
        queue_page=Page(0, 100, 800), stats=ReviewerStats(5, 40, 10, 4), team=team,
        team_page=Page(1, 10, 80), escalations=EscalationOverview(
            open=tuple(_escalation(i) for i in range(40)), closed=()))
    view = home_view(data, links={}, now=NOW, task_names={"t": LOUD})
    assert validate_view(view) == [] and len(view["blocks"]) <= 100


def test_ages_are_short():
    ages = [timedelta(minutes=0), timedelta(minutes=59), timedelta(hours=1),
            timedelta(days=1, hours=4), timedelta(days=1, minutes=20), timedelta(days=5, hours=3)]
    assert [ago(a) for a in ages] == ["0m", "59m", "1h", "1d 4h", "1d", "5d"]
