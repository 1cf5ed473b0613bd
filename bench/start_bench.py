"""How long `auditbot serve` takes to start and how much memory it holds idle, beside the
floor of a bare Bolt app (`bench/bare_bolt.py`).

    .venv/bin/python bench/start_bench.py               # 5 runs each, medians
    .venv/bin/python bench/start_bench.py --runs 9 --settle 5

Each run starts a fresh process against the local Slack sandbox (a SQLite store upgraded
once beforehand, the example workspace, its scheduler on) and measures:

* start: from just before the process is spawned until ``/healthz`` first answers 200;
* idle RSS: ``VmRSS`` from ``/proc/PID/status`` once ``--settle`` seconds have passed after
  that (start-up work done, nothing asked of it);
* heavy packages: which of scipy, matplotlib, numpy... have compiled modules mapped in the
  idle process (``/proc/PID/maps``), so a lazy import pulled in at start-up shows too;
* import: a fresh interpreter importing the serve path (``bot.entry.cli``, ``bot.fronts.app``,
  ``bot.entry.server``, ``handlers``, ``schedules.runner``; for the floor ``slack_bolt`` and
  ``waitress``), and which heavy packages that loads.

Prints the medians (and the spread), the floor beside each figure and the ratio. Not a test:
the numbers depend on the machine and on what else runs on it.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.sandbox import SlackSandbox

REPO = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-startbench"
SECRET = "startbench-signing-secret"
CHANNELS = {"C0CLINICAL": "clinical", "C0LEGAL": "legal", "C0FINANCE": "finance"}
SERVE_IMPORTS = "import bot.entry.cli, bot.fronts.app, bot.entry.server, handlers, schedules.runner"
FLOOR_IMPORTS = "import slack_bolt, slack_bolt.adapter.wsgi, waitress"
HEAVY = ("scipy", "matplotlib", "numpy", "krippendorff", "pandas")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def mapped_heavy(pid: int) -> set[str]:
    """Heavy packages whose compiled modules the running process has loaded."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name for name in HEAVY if f"/site-packages/{name}/" in maps}


def one_run(argv: list[str], cwd: Path, env: dict[str, str], *,
            settle: float, timeout: float = 60) -> tuple[float, float, set[str]]:
    port = free_port()
    env = {**env, "PORT": str(port)}
    url = f"http://127.0.0.1:{port}/healthz"
    log = (cwd / "run.log").open("ab")
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while not healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"{argv} exited {process.returncode}; see {cwd / 'run.log'}")
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"{argv}: /healthz never answered 200")
            time.sleep(0.01)
        started = time.perf_counter() - start
        time.sleep(settle)
        return started, rss_mb(process.pid), mapped_heavy(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def import_run(statement: str) -> tuple[float, list[str]]:
    code = (f"import sys, time; t = time.perf_counter(); {statement}; "
            "d = time.perf_counter() - t; "
            f"print(d, *[m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), out[1:]


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds after /healthz before reading VmRSS")
    args = parser.parse_args()
    script = Path(sys.executable).parent / "auditbot"
    serve_argv = [str(script), "serve"] if script.exists() else \
        [sys.executable, "-m", "bot.entry.cli", "serve"]
    floor_argv = [sys.executable, str(REPO / "bench" / "bare_bolt.py")]
    with SlackSandbox(bot_token=TOKEN, channels=CHANNELS) as sandbox, \
            tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        shutil.copy(REPO / "examples" / "auditbot.toml", cwd / "auditbot.toml")
        settings = {"DATABASE_URL": "sqlite:///auditbot.db", "SLACK_BOT_TOKEN": TOKEN,
                    "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": sandbox.url}
        env = {name: value for name, value in os.environ.items()
               if name not in {*settings, "PORT", "AUDITBOT_CONFIG", "INGEST_TOKEN"}}
        env["PYTHONPATH"] = str(REPO)
        env.update(settings)
        subprocess.run([*serve_argv[:-1], "db", "upgrade"], cwd=cwd, env=env, check=True,
                       capture_output=True)
        serve, floor = [], []
        for _ in range(args.runs):  # interleaved, so a busy moment hits both alike
            serve.append(one_run(serve_argv, cwd, env, settle=args.settle))
            floor.append(one_run(floor_argv, cwd, env, settle=args.settle))
        serve_imports = [import_run(SERVE_IMPORTS) for _ in range(args.runs)]
        floor_imports = [import_run(FLOOR_IMPORTS) for _ in range(args.runs)]
    rows = [
        ("start to /healthz 200 (s)", [s for s, _, _ in serve], [s for s, _, _ in floor]),
        ("idle RSS (MB)", [m for _, m, _ in serve], [m for _, m, _ in floor]),
        ("import of the serve path (s)", [t for t, _ in serve_imports],
         [t for t, _ in floor_imports]),
    ]
    print(f"{args.runs} runs each; median (min–max); settle {args.settle:g} s; "
          f"{os.cpu_count()} CPUs")
    print(f"| {'measure':<30} | {'auditbot serve':<22} | {'bare Bolt floor':<22} | ratio |")
    print(f"| {'-' * 30} | {'-' * 22} | {'-' * 22} | ----- |")
    for name, ours, base in rows:
        ratio = statistics.median(ours) / statistics.median(base)
        print(f"| {name:<30} | {summary(ours):<22} | {summary(base):<22} | {ratio:5.2f} |")
    print(f"heavy packages imported by the serve path: "
          f"{', '.join(serve_imports[0][1]) or 'none'}; with native code mapped in the idle "
          f"serve process: {', '.join(sorted(set().union(*(h for *_, h in serve)))) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
