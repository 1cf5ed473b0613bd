"""The code type-checks: mypy on bot, handlers and schedules, with pyproject's [tool.mypy]."""

from pathlib import Path

from mypy import api

REPO = Path(__file__).resolve().parents[2]


def test_bot_handlers_and_schedules_type_check_clean():
    report, errors, status = api.run([
        "--config-file", str(REPO / "pyproject.toml"),
        "--cache-dir", str(REPO / ".mypy_cache"),
        *(str(REPO / package) for package in ("bot", "handlers", "schedules")),
    ])
    assert status == 0, f"mypy found type errors:\n{report}{errors}"
