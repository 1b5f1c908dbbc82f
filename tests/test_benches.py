"""Every benchmark runs to its end (issue 18): each at a size that measures nothing, so a change
that breaks one (a policy that now asks for a certificate, a renamed column) fails the suite
instead of `make bench` half-way. The figures themselves are for `make bench` alone: no timing
is asserted here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
TINY = {
    "run.py": [],  # AFTERSALES_BENCH_QUICK=1 below
    "desk_bench.py": ["20", "100"],
    "sla_bench.py": ["200", "20"],
    "appraisal_bench.py": ["10", "200"],
    "parts_bench.py": ["20", "200"],
    "history_bench.py": ["--sample", "--events", "2000"],
    "installed_base_bench.py": ["300", "3", "50"],
    "customers_bench.py": ["2", "1", "50"],
    "rules_bench.py": ["50", "5", "3"],
    "http_load_bench.py": ["1", "2", "10"],
    "report_bench.py": ["2000"],
    "scale_bench.py": ["500", "1000"],
    "storage_bench.py": ["5"],
    "startup_bench.py": [],
}


def test_every_bench_is_listed_here_and_in_make_bench() -> None:
    benches = {p.name for p in BENCH.glob("*.py")}
    assert benches == set(TINY)
    makefile = (BENCH.parent / "Makefile").read_text("utf-8")
    assert all(name in makefile for name in benches)


@pytest.mark.parametrize("name", sorted(TINY))
def test_the_bench_runs_to_its_end(name: str) -> None:
    env = {**os.environ, "AFTERSALES_BENCH_QUICK": "1"}
    env.pop("AFTERSALES_TEST_POSTGRES", None)  # the storage bench: SQLite only, here
    done = subprocess.run([sys.executable, name, *TINY[name]], cwd=BENCH, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip()
