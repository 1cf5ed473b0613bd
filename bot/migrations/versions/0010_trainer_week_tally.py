"""trainer-week tallies: what each trainer's samples count as, per ISO week, kept with grades

Reads of `/audit status`, the Home and the digest take a trainer's window from these rows
instead of every grade. The backfill counts every existing sample by the one rule
(``bot.services.tallies.sample_kind``). Also indexes for the window-bounded reads: audit
threads by week and task type, trainer states by task type.

Revision ID: 0010
Revises: 0009
"""

from collections import Counter, defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.services.tallies import sample_kind

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SAMPLES = """
SELECT sample.id, audit_thread.trainer, audit_thread.task_type, audit_thread.iso_week,
       sample.needs_double_review, trainer_output.gold_grade, dispute_settlement.grade
FROM sample
JOIN audit_thread ON audit_thread.id = sample.thread_id
JOIN trainer_output ON trainer_output.id = sample.output_id
LEFT JOIN dispute_settlement ON dispute_settlement.sample_id = sample.id
"""


def upgrade() -> None:
    table = op.create_table(
        "trainer_week_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainer", sa.String(length=32), nullable=False),
        sa.Column("task_type", sa.String(length=64), nullable=False),
        sa.Column("iso_week", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trainer", "task_type", "iso_week", "kind", name="uq_tally_kind"),
    )
    op.create_index("ix_tally_task_week", "trainer_week_tally",
                    ["task_type", "iso_week", "kind", "samples"])
    op.create_index("ix_thread_week_task", "audit_thread", ["iso_week", "task_type"])
    op.create_index("ix_state_task_type", "trainer_state", ["task_type"])
    bind = op.get_bind()
    grades: dict[int, list[str]] = defaultdict(list)
    for sample_id, grade in bind.execute(sa.text("SELECT sample_id, grade FROM grade")):
        grades[sample_id].append(grade)
    tally: Counter[tuple[str, str, str, str]] = Counter()
    for sample_id, trainer, task_type, week, double, gold, settled in bind.execute(
            sa.text(SAMPLES)):
        kind = sample_kind(grades.get(sample_id, []), double_review=bool(double),
                           calibration=gold is not None, settled=settled)
        if kind is not None:
            tally[(trainer, task_type, week, kind)] += 1
    rows = [{"trainer": t, "task_type": k, "iso_week": w, "kind": kind, "samples": n}
            for (t, k, w, kind), n in tally.items()]
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_index("ix_state_task_type", table_name="trainer_state")
    op.drop_index("ix_thread_week_task", table_name="audit_thread")
    op.drop_index("ix_tally_task_week", table_name="trainer_week_tally")
    op.drop_table("trainer_week_tally")
