"""The store: what auditbot remembers, and the unique constraints that make retries harmless.

Every table that a retry, a double click or a second replica could write twice carries a
unique constraint on its natural key; services insert and treat ``IntegrityError`` as
"someone already did it". Datetimes are timezone-aware UTC (SQLModel's UTCDateTime).
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

GRADE_KEY = "grade_level.key"  # every grade column references the scale's keys (below)


class GradeLevel(SQLModel, table=True):
    """The keys of the workspace's grade scale, the value domain of every grade column.

    A foreign key rather than a CHECK: the scale is workspace data ([[grade_scale]]), so
    its keys are rows written at start (``bot.services.grade_levels``), not a constraint
    baked into the schema by a migration; both stores enforce a foreign key alike (SQLite
    with ``PRAGMA foreign_keys=ON``, set on every connection by ``bot.store.db``). A key still
    used by a stored grade cannot be deleted.
    """

    __tablename__ = "grade_level"

    key: str = Field(primary_key=True, max_length=16)


class TrainerOutput(SQLModel, table=True):
    """One piece of a trainer's work, as ingested. ``gold_*`` set means a calibration item."""

    __tablename__ = "trainer_output"
    __table_args__ = (
        Index("ix_output_trainer_task_created", "trainer", "task_type", "created_at"),
        # The scorecard's and the disagreement threads' reads: a task type's outputs of the
        # window. (None looks outputs up by item alone: no index on it, migration 0028.)
        Index("ix_output_task_created", "task_type", "created_at"),
        # Only the labelled outputs (most have no label): the scorecard's consistency and
        # team alpha read a task type's window of them without visiting the rest.
        Index("ix_output_labelled", "task_type", "created_at",
              sqlite_where=text("item IS NOT NULL AND label IS NOT NULL"),
              postgresql_where=text("item IS NOT NULL AND label IS NOT NULL")),
    )

    id: str = Field(primary_key=True, max_length=200)
    trainer: str = Field(max_length=32)
    task_type: str = Field(max_length=64)
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    output: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    metadata_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    gold_grade: str | None = Field(default=None, max_length=16, foreign_key=GRADE_KEY)
    gold_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    content_hash: str = Field(max_length=64)
    ingested_at: datetime
    # The trainer's own side (optional): the task several trainers answered, their verdict
    # on it, and their written reasoning (bot.services.scorecard).
    item: str | None = Field(default=None, max_length=200)
    label: str | None = Field(default=None, max_length=64)
    reasoning: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class AuditThread(SQLModel, table=True):
    """One trainer's audit for one task type and ISO week: the parent message of a thread."""

    __tablename__ = "audit_thread"
    __table_args__ = (UniqueConstraint("trainer", "task_type", "iso_week", name="uq_thread_week"),
                      Index("ix_thread_week_task", "iso_week", "task_type"))

    id: int | None = Field(default=None, primary_key=True)
    trainer: str = Field(max_length=32)
    task_type: str = Field(max_length=64)
    iso_week: str = Field(max_length=10)
    channel: str = Field(max_length=32)
    seed: str = Field(max_length=64)
    # The ids the sample was drawn from, in draw order, so anyone can re-derive the choice.
    population_json: str = Field(sa_column=Column(Text, nullable=False))
    sample_count: int
    created_at: datetime
    parent_ts: str | None = Field(default=None, max_length=32)
    # Samples with every grade they need (two on a double review), calibration items too:
    # kept by the grading transaction (``bot.services.work_counts``), so the week's counts
    # and the backlog read one row per thread, never the grades.
    graded_samples: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Sample(SQLModel, table=True):
    """One output posted for review. An output is audited at most once, ever."""

    __tablename__ = "sample"
    __table_args__ = (UniqueConstraint("thread_id", "position", name="uq_sample_position"),)

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="audit_thread.id", index=True)
    output_id: str = Field(foreign_key="trainer_output.id", unique=True, max_length=200)
    position: int
    needs_double_review: bool = False
    message_ts: str | None = Field(default=None, max_length=32)


class Grade(SQLModel, table=True):
    """A reviewer's current grade of a sample: one row per reviewer and sample, latest wins.

    On a double review each reviewer takes a ``slot`` (1 or 2, unique per sample), so two
    people grading at once cannot both become the second reviewer; ``None`` elsewhere.
    """

    __tablename__ = "grade"
    __table_args__ = (UniqueConstraint("sample_id", "reviewer", name="uq_grade_reviewer"),
                      UniqueConstraint("sample_id", "slot", name="uq_grade_slot"),
                      CheckConstraint("slot IN (1, 2)", name="ck_grade_slot"))

    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="sample.id", index=True)
    reviewer: str = Field(max_length=32)
    grade: str = Field(max_length=16, foreign_key=GRADE_KEY)
    category: str | None = Field(default=None, max_length=100)
    explanation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    updated_at: datetime
    slot: int | None = None  # double review: which of its two reviews this is


class GradeEvent(SQLModel, table=True):
    """History: every change of a reviewer's grade, appended, never rewritten."""

    __tablename__ = "grade_event"
    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="sample.id", index=True)
    reviewer: str = Field(max_length=32)
    grade: str = Field(max_length=16, foreign_key=GRADE_KEY)
    category: str | None = Field(default=None, max_length=100)
    explanation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recorded_at: datetime


class JobRun(SQLModel, table=True):
    """A claim on one due time of a scheduled job, so replicas and restarts run it once."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_period"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    period: str = Field(max_length=64)
    started_at: datetime
    finished_at: datetime | None = None
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class OutboxItem(SQLModel, table=True):
    """A Slack write owed to the world, committed with the state it reports.

    ``kind`` and ``ref_id`` say what to send; the worker renders the message from the
    store at delivery time, so a late update always shows the latest state.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "channel", "id"),
                      Index("ix_outbox_home_feed", "home_feed_read", "id"))

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=32)
    ref_id: int
    channel: str = Field(max_length=32)
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    attempts: int = 0
    # Set while a post may have reached Slack without us hearing back (a crash or a lost
    # answer mid-send): the next attempt first looks for the message before posting again.
    in_doubt: bool = False
    next_attempt_at: datetime
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    result_ts: str | None = Field(default=None, max_length=32)
    # For one-off messages (kind "message"): the text and blocks, rendered when owed.
    payload_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    sent_at: datetime | None = None
    # Whether the App Home refresher has read this row (``bot.services.home_feed``). The
    # server default is migration 0009's (it filled the rows already there).
    home_feed_read: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class TrainerState(SQLModel, table=True):
    """Where a trainer stands in a task type after the last check: ok, watch or escalated."""

    __tablename__ = "trainer_state"
    __table_args__ = (UniqueConstraint("trainer", "task_type", name="uq_state_trainer"),
                      Index("ix_state_task_type", "task_type"))

    id: int | None = Field(default=None, primary_key=True)
    trainer: str = Field(max_length=32)
    task_type: str = Field(max_length=64)
    state: str = Field(max_length=16)  # ok | watch | escalate | insufficient
    sampling: str = Field(default="normal", max_length=16)  # reduced | normal | tightened
    score: float | None = None
    lower: float | None = None
    upper: float | None = None
    graded: int = 0
    since: datetime
    updated_at: datetime
    # A digest of the standing as the last check saw it (score, weeks, worst samples): an
    # open escalation's notices are updated only when it changes.
    shown: str | None = Field(default=None, max_length=64)


class Escalation(SQLModel, table=True):
    """A trainer whose quality fell: notified level by level until someone acts.

    ``open_key`` is set while the escalation is open and unique, so there is at most one
    open escalation per trainer and task type whatever runs concurrently; closing it clears
    the key (NULLs never collide).
    """

    __tablename__ = "escalation"

    id: int | None = Field(default=None, primary_key=True)
    trainer: str = Field(max_length=32, index=True)
    task_type: str = Field(max_length=64)
    open_key: str | None = Field(default=None, unique=True, max_length=100)
    status: str = Field(default="open", max_length=16)  # open | resolved | recovered
    level: int = 0  # the highest level notified so far (0-based)
    level_notified_at: datetime
    opened_at: datetime
    reason: str = Field(sa_column=Column(Text, nullable=False))
    score: float | None = None
    lower: float | None = None
    upper: float | None = None
    threshold: float
    acknowledged_by: str | None = Field(default=None, max_length=32)
    acknowledged_at: datetime | None = None
    reminders: int = 0
    closed_by: str | None = Field(default=None, max_length=32)
    closed_at: datetime | None = None
    close_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Snoozed (by a manager or the lead) until this moment: the climb and reminders pause.
    snoozed_until: datetime | None = None
    snoozed_by: str | None = Field(default=None, max_length=32)
    snooze_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    resumed_at: datetime | None = None  # the end of the last snooze: reminders count from it
    reminded_at: datetime | None = None  # the last reminder: the next counts from it
    # The current level's notices wait for its working hours until this moment (None: sent).
    notify_at: datetime | None = None
    repeats: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # path restarts
    stopped_at: datetime | None = None  # the path ran out (repeats used up): nobody is paged
    # The confidence test of the decision that opened it (None: opened on a severe week
    # without one): the window's last week, its bounds, and per week [week, graded,
    # audited, score] as JSON, oldest first.
    tested_through: str | None = Field(default=None, max_length=10)
    tested_lower: float | None = None
    tested_upper: float | None = None
    tested_weeks: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class EscalationEvent(SQLModel, table=True):
    """One state change of an escalation, with who and when: append-only, written in the
    transaction that makes the change (the timeline on the message and `/audit escalations`).

    ``kind``: opened | waiting | notified | climbed | reminded | acknowledged | snoozed |
    unsnoozed | repeated | stopped | resolved | recovered.
    """

    __tablename__ = "escalation_event"

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="escalation.id", index=True)
    at: datetime
    kind: str = Field(max_length=16)
    actor: str | None = Field(default=None, max_length=32)  # who acted (None: the bot)
    level: int | None = None  # 0-based
    until: datetime | None = None  # snoozed until / waiting until
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class EscalationNotice(SQLModel, table=True):
    """One message about an escalation to one person or channel (kept up to date)."""

    __tablename__ = "escalation_notice"
    __table_args__ = (
        UniqueConstraint("escalation_id", "target", "round", "cycle", name="uq_notice_target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="escalation.id", index=True)
    level: int
    target: str = Field(max_length=32)  # a user id (DM) or a channel id
    round: int = 0  # 0: the first notice; n: the n-th reminder after an acknowledgement
    cycle: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # path repeat
    notified_at: datetime
    channel: str | None = Field(default=None, max_length=32)  # where it landed (DM id)
    message_ts: str | None = Field(default=None, max_length=32)
    # A digest of what the message shows as last sent: an update that would show the same
    # is not sent (every check re-owes an update; Slack rate-limits chat.update).
    shown: str | None = Field(default=None, max_length=64)


import bot.store.models.consistency  # noqa: E402
import bot.store.models.feedback  # noqa: E402
import bot.store.models.pacing  # noqa: E402
import bot.store.models.people  # noqa: E402
import bot.store.models.precedents  # noqa: E402
import bot.store.models.tally  # noqa: E402
import bot.store.models.trainer  # noqa: E402,F401
