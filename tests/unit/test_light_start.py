"""`auditbot serve` starts light: no scipy at all, and matplotlib, numpy and krippendorff
only once a chart is drawn, an agreement computed or an outlier test run."""

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVE_PATH = (
    "bot.entry.cli",
    "bot.fronts.app",
    "bot.entry.server",
    "bot.fronts.web",
    "bot.fronts.socket_mode",
    "handlers",
    "schedules.runner",
)
HEAVY = ("scipy", "matplotlib", "numpy", "krippendorff")


def loaded_after(code: str) -> list[str]:
    """The heavy packages in ``sys.modules`` after a fresh interpreter runs ``code``."""
    probe = (f"import sys\n{code}\n"
             f"print(*sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_serve_path_imports_none_of_scipy_matplotlib_numpy_or_krippendorff():
    assert loaded_after(f"import {', '.join(SERVE_PATH)}") == []


def test_the_outlier_module_and_an_undefined_alpha_need_none_of_them():
    assert loaded_after(
        "from bot.services.outliers import below_rest_p_values, store_outliers\n"
        "from bot.services.agreement import ordinal_alpha\n"
        "assert below_rest_p_values({'T1': [0.0], 'T2': []}) == {'T1': None, 'T2': None}\n"
        "assert ordinal_alpha([('pass', 'pass'), ('pass', 'pass')]) is None") == []


def test_an_alpha_loads_what_it_computes_with_and_a_chart_what_it_draws_with():
    # The lazy imports are real imports: the packages come in when they are needed.
    assert loaded_after(
        "from bot.services.agreement import ordinal_alpha\n"
        "assert ordinal_alpha([('pass', 'minor'), ('major', 'major')]) is not None"
    ) == ["krippendorff", "numpy"]
    assert loaded_after(
        "from bot.present.charts import trainer_chart\n"
        "from bot.services.trainer_report import TrainerReport\n"
        "report = TrainerReport('U0TRAINER1', None, None, False, None, ())\n"
        "assert trainer_chart(report).startswith(b'\\x89PNG')"
    ) == ["matplotlib", "numpy"]
    assert loaded_after(
        "from bot.services.outliers import below_rest_p_values\n"
        "assert below_rest_p_values({'T1': [0.0, 0.5], 'T2': [1.0, 1.0]})['T1'] < 1"
    ) == ["numpy"]


def test_scipy_is_a_test_dependency_only():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(requirements: list[str]) -> set[str]:
        return {r.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip()
                for r in requirements}
    assert "scipy" not in names(project["dependencies"])
    assert "scipy" in names(project["optional-dependencies"]["dev"])


# the demo (its texts too), the bot against the local Slack and that Slack
NOT_SERVED = ("bot.demo", "bot.demo.local", "bot.sandbox")


def loaded_of(prefixes: tuple[str, ...], code: str) -> list[str]:
    """The modules under ``prefixes`` in ``sys.modules`` after a fresh interpreter runs ``code``."""
    probe = (f"import sys\n{code}\n"
             f"print(*sorted(m for m in sys.modules if m.startswith({prefixes!r})))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_serve_path_imports_neither_the_demo_nor_the_sandbox():
    # The demo stays installable for `make demo`; `serve` ships beside it and never loads it.
    # The command line is parsed as `auditbot serve` would be, so a lazy import on its way
    # would count too.
    assert loaded_of(NOT_SERVED, f"import {', '.join(SERVE_PATH)}\n"
                                 "import bot.entry.cli\n"
                                 "bot.entry.cli._parser().parse_args(['serve'])") == []
    # and the probe does see them when they are imported
    assert "bot.sandbox.server" in loaded_of(NOT_SERVED, "import bot.demo.local")
