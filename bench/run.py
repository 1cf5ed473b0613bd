"""`make bench`: issue 12's rows, each beside its floor measured in the same run.

    .venv/bin/python bench/run.py            # full sizes (long: prints progress)
    .venv/bin/python bench/run.py --quick    # small sizes, about two minutes (CI smoke test)
    .venv/bin/python bench/run.py --rows 2,4 # only some rows

Rows (see README, "Benchmark"):
1. click to ack: Pass clicks from 16 threads, signed, into `auditbot serve` (a subprocess,
   waitress) against the Slack sandbox; floor: `bench/bare_bolt.py`, whose listener only acks.
2. reads at scale on SQLite and PostgreSQL, at two history sizes, through signed HTTP into the
   real app (in-process, waitress, sandbox): `/audit status`, `status @trainer`, `pending`,
   `disputes`, a manager's Home (time until the answer reaches the sandbox); the weekly digest
   by the functions its job calls. Floor: one aggregate SQL over the window.
3. Monday: the weekly audit's plan on the large history; delivery through the outbox worker
   to the sandbox with its per-channel rate (time scaled) and 10% of posts answered 429.
4. `auditbot ingest` of JSON Lines into SQLite and PostgreSQL; floor: parse + bare executemany.
5. memory of `serve`: idle, and its peak (VmHWM) after row 1.

Prints one table (row, size, store, figure, floor, ratio, goal, met) and writes it as JSON to
``bench/results/<timestamp>.json`` and ``bench/results/latest.json``. Figures are printed,
never asserted: the exit status is 1 only if a row crashed.
"""

import argparse
import json
import os
import platform
import sys
import time
import traceback
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import rows  # noqa: E402
from bench.rows import Row, Sizes  # noqa: E402

RESULTS = REPO / "bench" / "results"

FULL = Sizes(name="full", trainers=5000, task_types=20, grades=(100_000, 1_000_000),
             clicks=2000, click_grades=100_000, ingest=1_000_000, deliver_trainers=400,
             plan_grades=1_000_000, read_repeats=5, scale=1.0)
QUICK = Sizes(name="quick", trainers=200, task_types=20, grades=(10_000, 40_000), clicks=200,
              click_grades=10_000, ingest=20_000, deliver_trainers=16, plan_grades=40_000,
              read_repeats=2, scale=1.0)


@dataclass
class Report:
    started: str
    sizes: str
    machine: str
    cpus: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] | None
    rows: list[Row]
    errors: list[str]
    seconds: float


def table(report: Report) -> str:
    head = (f"auditbot bench ({report.sizes}) {report.started} · {report.machine}, "
            f"{report.cpus} CPUs · load before {_load(report.load_before)}, after "
            f"{_load(report.load_after)}")
    columns = ("row", "what", "size", "store", "figure", "floor", "ratio", "goal", "met")
    cells = [[r.row, r.what, r.size, r.store, r.figure, r.floor, r.ratio, r.goal,
              {True: "yes", False: "NO", None: "-"}[r.met]] for r in report.rows]
    widths = [max(len(str(c)) for c in [h, *[row[i] for row in cells]])
              for i, h in enumerate(columns)]
    lines = [head, "", " | ".join(h.ljust(w) for h, w in zip(columns, widths, strict=True)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))
              for row in cells]
    lines += [f"ERROR {e}" for e in report.errors]
    lines.append(f"({report.seconds:.0f} s)")
    return "\n".join(lines)


def _load(load: tuple[float, float, float] | None) -> str:
    return "/".join(f"{x:.2f}" for x in load) if load else "-"


def _write(report: Report, size: str, started: float) -> None:
    report.load_after = os.getloadavg()
    report.seconds = time.perf_counter() - started
    RESULTS.mkdir(exist_ok=True)
    body = json.dumps(asdict(report), indent=1).replace("Infinity", "null")  # a timeout
    stamp = report.started.replace(":", "").replace("-", "")
    (RESULTS / f"{stamp}-{size}.json").write_text(body + "\n")
    (RESULTS / "latest.json").write_text(body + "\n")
    (RESULTS / f"{stamp}-{size}.txt").write_text(table(report) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke test)")
    parser.add_argument("--rows", default="1,2,3,4,5",
                        help="which rows, in this order, e.g. 4,2")
    parser.add_argument("--postgres", default=os.environ.get(
        "AUDITBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    wanted = {int(n) for n in args.rows.split(",")}
    if not wanted <= {1, 2, 3, 4, 5}:
        parser.error("rows are 1 to 5")
    started = time.perf_counter()
    report = Report(started=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    sizes=sizes.describe(), machine=platform.platform(),
                    cpus=os.cpu_count() or 0, load_before=os.getloadavg(), load_after=None,
                    rows=[], errors=[], seconds=0)
    postgres = rows.postgres_reachable(args.postgres)
    if postgres is None:
        print(f"PostgreSQL rows skipped: {args.postgres} is unreachable", file=sys.stderr)
    steps = {1: ("click to ack and memory", lambda: rows.clicks(sizes, memory=5 in wanted,
                                                                  one_by_one=sizes.clicks // 20)),
             2: ("reads at scale", lambda: rows.reads(sizes, postgres, so_far=partial)),
             3: ("Monday audit", lambda: rows.monday(sizes)),
             4: ("ingest", lambda: rows.ingest(sizes, postgres)),
             5: ("memory", lambda: rows.clicks(sizes, memory=True, only_memory=True))}
    def partial(measured: list[rows.Row]) -> None:  # row 2 is long: keep each part
        _write(replace(report, rows=report.rows + measured), sizes.name, started)

    order = [int(n) for n in args.rows.split(",")]  # in the order given
    if 1 in order and 5 in order:
        order.remove(5)  # row 1 measures it
    for number in order:
        name, step = steps[number]
        print(f"== row {number}: {name}", file=sys.stderr, flush=True)
        try:
            report.rows.extend(step())
        except Exception as error:  # a row that crashed is reported, the others still run
            traceback.print_exc()
            if isinstance(error, rows.RowsThenError):
                report.rows.extend(error.rows)
                error = error.__cause__ or error  # type: ignore[assignment]
            report.errors.append(f"row {number} ({name}): {error!r}")
        _write(report, sizes.name, started)  # so far: a long run stopped early keeps its rows
    _write(report, sizes.name, started)
    print(table(report))
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())

