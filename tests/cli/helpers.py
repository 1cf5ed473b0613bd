"""Running `auditbot` as a user does: a subprocess in a directory holding `.env` and
`auditbot.toml`, with none of the test process's own settings leaking in."""

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = REPO / "examples" / "auditbot.toml"
# The console script `pip install` made (what `make demo` runs); `-m bot.entry.cli` if it is
# missing.
SCRIPT = Path(sys.executable).parent / "auditbot"

# Settings the contract reads from the environment: the test's own must not reach the child.
SETTINGS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL",
            "DATABASE_URL", "AUDITBOT_CONFIG", "PORT", "INGEST_TOKEN", "LOG_FORMAT")


def command(*args: str, module: bool = False) -> list[str]:
    if module or not SCRIPT.exists():
        return [sys.executable, "-m", "bot.entry.cli", *args]
    return [str(SCRIPT), *args]


def child_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in SETTINGS}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def log(self) -> str:
        """For assertion messages: the command, its exit code and everything it said."""
        return (f"$ {' '.join(self.args)}  → exit {self.returncode}\n"
                f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}")


def auditbot(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 30,
             module: bool = False) -> Run:
    """`auditbot ARGS` in `cwd`; `env` adds to the process environment (beside `.env`)."""
    argv = command(*args, module=module)
    done = subprocess.run(argv, cwd=cwd, env=child_env(**(env or {})), capture_output=True,
                          text=True, timeout=timeout, check=False)
    return Run(["auditbot", *args], done.returncode, done.stdout, done.stderr)


def write_env(directory: Path, **values: str) -> None:
    lines = [f"{name}={value}" for name, value in values.items()]
    (directory / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# TOML, written by hand: enough for `tests.support.factories.workspace_data()` (no TOML writer is
# installed, and none is needed for tables, arrays of tables and inline values).
def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def to_toml(data: dict[str, Any]) -> str:
    lines: list[str] = []
    for name, section in data.items():
        tables = section if isinstance(section, list) else [section]
        header = f"[[{name}]]" if isinstance(section, list) else f"[{name}]"
        for table in tables:
            lines.append(header)
            lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
            lines.append("")
    return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(url: str, timeout: float = 2) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
