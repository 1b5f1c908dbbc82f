"""Start-up (issue 18): how long a fresh process takes before it does anything, side by side
in one run, each the median of interleaved rounds:

- bare Python, and Python importing click (the floor of any click command line);
- ``import aftersales``, and ``from aftersales import ServiceDesk`` (what a tick needs);
- ``aftersales --help``, and ``aftersales sla tick`` on a new project with nothing due (what
  cron runs every few minutes);
- the first policy load in a fresh process (import excluded), with bytecode files and where
  Python has none (``PYTHONDONTWRITEBYTECODE`` with an empty ``PYTHONPYCACHEPREFIX``: every
  module compiled from source, as in a container that never wrote them), beside building
  the parser from the grammar with lark's public API (what the shipped tables save).

Run: python bench/startup_bench.py [rounds]   (default 15)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "rules" / "default.policy"
QUICK = os.environ.get("AFTERSALES_BENCH_QUICK") == "1"

FIRST_LOAD = """
import sys, time
from aftersales import load_policy
from aftersales.policy import tables
if sys.argv[2] == "grammar":  # lark's public API, as without the shipped tables
    tables._load_shipped = lambda: None
started = time.perf_counter()
load_policy(sys.argv[1])
print(time.perf_counter() - started)
"""


def wall(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def inner(command: list[str], env: dict[str, str]) -> float:
    """The time the process reports for itself (the policy load, its imports excluded)."""
    return float(subprocess.check_output(command, env=env, cwd=ROOT).decode().split()[-1])


def main() -> None:
    rounds = 2 if QUICK else int(sys.argv[1]) if len(sys.argv) > 1 else 15
    python = sys.executable
    script = Path(python).with_name("aftersales")
    command = [str(script)] if script.exists() else [python, "-m", "aftersales.cli"]
    project = Path(tempfile.mkdtemp())
    env = {**os.environ}
    subprocess.run([*command, "init", str(project)], check=True, capture_output=True)
    no_bytecode = {**env, "PYTHONDONTWRITEBYTECODE": "1",
                   "PYTHONPYCACHEPREFIX": tempfile.mkdtemp()}  # fmt: skip
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [python, "-c", FIRST_LOAD, str(DEFAULT), "shipped"],
        env=env,
        check=True,
        capture_output=True,
    )  # fmt: skip  (writes the .pyc files once)
    runs = {
        "python -c pass (bare interpreter)": lambda: wall([python, "-c", "pass"], env, ROOT),
        "python -c 'import click'": lambda: wall([python, "-c", "import click"], env, ROOT),
        "import aftersales": lambda: wall([python, "-c", "import aftersales"], env, ROOT),
        "from aftersales import ServiceDesk": lambda: wall(
            [python, "-c", "from aftersales import ServiceDesk"], env, ROOT
        ),
        "aftersales --help": lambda: wall([*command, "--help"], env, ROOT),
        "aftersales sla tick (new project, nothing due)": lambda: wall(
            [*command, "sla", "tick"], env, project
        ),
        "first policy load, .pyc files": lambda: inner(
            [python, "-c", FIRST_LOAD, str(DEFAULT), "shipped"], env
        ),
        "first policy load, no bytecode anywhere": lambda: inner(
            [python, "-c", FIRST_LOAD, str(DEFAULT), "shipped"], no_bytecode
        ),
        "first policy load, parser built from grammar.lark": lambda: inner(
            [python, "-c", FIRST_LOAD, str(DEFAULT), "grammar"], env
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):  # interleaved, so a busy moment touches every row alike
        for name, run in runs.items():
            times[name].append(run())
    shutil.rmtree(project, ignore_errors=True)
    bare = statistics.median(times["python -c pass (bare interpreter)"])
    print(f"start-up, median of {rounds} interleaved rounds ({sys.version.split()[0]})")
    for name, values in times.items():
        median = statistics.median(values)
        ratio = f"{median / bare:5.1f}x bare" if "policy load" not in name else ""
        print(f"  {name:<52} {median * 1000:7.1f} ms  {ratio}")


if __name__ == "__main__":
    main()
