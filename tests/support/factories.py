"""Test data: workspace configs and trainer outputs, built in code so each test says its needs."""

from datetime import datetime, timedelta
from typing import Any

from bot.common.clock import as_utc
from bot.workspace import Workspace, parse_workspace

MANAGER = "U0MANAGER1"
NURSE, DOCTOR, LAWYER = "U0NURSE01", "U0MDOCTOR", "U0LAWYER1"
TRAINER1, TRAINER2, TRAINER3 = "U0TRAINER1", "U0TRAINER2", "U0TRAINER3"
OUTSIDER = "U0OUTSIDER"
LEAD = "U0LEAD0001"
CLINICAL_CHANNEL, LEGAL_CHANNEL = "C0CLINICAL", "C0LEGAL"

USERS = {
    MANAGER: "Maya Manager", NURSE: "Nora Nurse", DOCTOR: "Dev Doctor", LAWYER: "Lee Lawyer",
    TRAINER1: "Tara Trainer", TRAINER2: "Theo Trainer", TRAINER3: "Tess Trainer",
    OUTSIDER: "Olly Outsider", LEAD: "Lena Lead",
}
CHANNELS = {CLINICAL_CHANNEL: "audit-clinical", LEGAL_CHANNEL: "audit-legal",
            "C0QUALITY": "quality", "C0GENERAL": "general"}


def workspace_data(**policy: Any) -> dict[str, Any]:
    return {
        "workspace": {"timezone": "America/New_York", "managers": [MANAGER]},
        "schedule": {"weekly_audit": "mon 09:00", "escalation_check": "5m"},
        "policy": {"samples_per_trainer": 5, "double_review_fraction": 0.0, **policy},
        "task_types": [
            {"key": "clinical", "name": "Clinical NLP", "channel": CLINICAL_CHANNEL,
             "reviewers": [NURSE, DOCTOR],
             "error_categories": ["Clinical reasoning", "Factual error", "Unsafe advice",
                                  "Instruction not followed", "Other"]},
            {"key": "legal", "name": "Legal drafting", "channel": LEGAL_CHANNEL,
             "reviewers": [LAWYER],
             "error_categories": ["Misstated law", "Missed clause or risk", "Other"]},
        ],
        "trainers": [
            {"user": TRAINER1, "task_types": ["clinical"], "lead": LEAD},
            {"user": TRAINER2, "task_types": ["legal"], "lead": LEAD},
            # A reviewer who also writes outputs: nobody grades their own work.
            {"user": NURSE, "task_types": ["clinical"]},
        ],
        "escalation": {"levels": [{"notify": ["lead"], "ack_within": "4h"},
                                  {"notify": [MANAGER]}]},
    }


def make_workspace(**policy: Any) -> Workspace:
    return parse_workspace(workspace_data(**policy))


def output_record(n: int, *, trainer: str = TRAINER1, task_type: str = "clinical",
                  created_at: datetime, output: str | None = None,
                  gold: dict | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"out-{trainer}-{task_type}-{n:04d}",
        "trainer": trainer,
        "task_type": task_type,
        "prompt": f"Question {n}: a patient asks whether they can combine two medicines.",
        "output": output or f"Answer {n}: check the interaction table; ask a pharmacist.",
        "created_at": as_utc(created_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "metadata": {"project": "triage-v2"},
    }
    if gold:
        record["gold"] = gold
    return record


def week_of_records(now: datetime, *, trainer: str = TRAINER1, task_type: str = "clinical",
                    count: int = 8) -> list[dict[str, Any]]:
    """``count`` outputs spread over the 6.5 days before ``now``."""
    step = 150 / max(count, 1)
    return [
        output_record(i, trainer=trainer, task_type=task_type,
                      created_at=now - timedelta(hours=6 + step * i))
        for i in range(count)
    ]
