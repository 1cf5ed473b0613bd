"""`auditbot serve` replicas as subprocesses on one PostgreSQL schema and one SlackSandbox."""

import subprocess
import time
import urllib.error
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.sandbox import SlackDriver, SlackSandbox
from tests.cli.helpers import child_env, command, free_port, http_get
from tests.support.factories import MANAGER, workspace_data

QUALITY = "C0QUALITY"


@dataclass
class Replica:
    name: str
    process: subprocess.Popen
    url: str
    driver: SlackDriver
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return f"--- {self.name} ---\n{self.log_path.read_text(errors='replace')}"

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM and wait: the exit code (a graceful stop is 0)."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise AssertionError(f"{self.name} ignored SIGTERM\n{self.log()}") from None


def start_replica(cwd: Path, name: str, *, sandbox: SlackSandbox, signing_secret: str = "",
                  scheduler: bool = True, socket_mode: bool = False) -> Replica:
    """`auditbot serve` in ``cwd`` (its .env names the database and the sandbox); with
    `socket_mode`, ``serve --socket-mode`` and a driver that sends envelopes."""
    port = free_port()
    log_path = cwd / f"{name}.log"
    args = ["serve"] if scheduler else ["serve", "--no-scheduler"]
    if socket_mode:
        args.append("--socket-mode")
    with log_path.open("wb") as log:
        process = subprocess.Popen(command(*args), cwd=cwd, env=child_env(PORT=str(port)),
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if socket_mode:
        driver = SlackDriver(sandbox=sandbox, socket_mode=True)
    else:
        driver = SlackDriver(app_url=f"{url}/slack/events", signing_secret=signing_secret,
                             sandbox=sandbox)
    return Replica(name, process, url, driver, log_path)


def wait_healthy(replica: Replica, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert replica.process.poll() is None, f"exited {replica.process.returncode}\n" \
                                                f"{replica.log()}"
        assert time.monotonic() < deadline, f"/healthz never answered 200\n{replica.log()}"
        try:
            if http_get(f"{replica.url}/healthz", timeout=1)[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)


def replica_workspace(now: datetime) -> dict[str, Any]:
    """The test workspace, in UTC, with its weekly audit due a minute ago (so every replica
    catches it up at start), a check every second and a climb every two seconds."""
    data = workspace_data()
    data["workspace"]["timezone"] = "UTC"
    due = now - timedelta(minutes=1)
    data["schedule"] = {"weekly_audit": f"{due:%a} {due:%H:%M}".lower(),
                        "escalation_check": "1s"}
    data["escalation"] = {"levels": [{"notify": ["lead"], "ack_within": "2s"},
                                     {"notify": [MANAGER], "ack_within": "2s"},
                                     {"notify": [QUALITY]}]}
    return data


def same_iso_week_as_a_minute_ago() -> datetime:
    """Now, unless the week turned within the last two minutes (then wait for that)."""
    while True:
        now = datetime.now(UTC)
        if (now - timedelta(minutes=2)).isocalendar()[:2] == now.isocalendar()[:2]:
            return now
        time.sleep(5)
