"""History benchmarks (issue 16), side by side in one run: importing the Volvo IT log into
SQLite; replaying it under one and two policies, in one process and on every core; and
replaying generated histories of 100,000 and 1,000,000 events, to show the rate and that
memory stays flat as the history grows tenfold. Each replay runs in a fresh process, whose
peak resident memory (with its workers') is reported.

Run: python bench/history_bench.py [--sample] [--events N]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aftersales import ServiceDesk
from aftersales.testing.histories import write_history

ROOT = Path(__file__).resolve().parent.parent
FULL = ROOT.parent / "shared" / "data" / "bpic2013-volvo-incidents.csv.xz"
SAMPLE = ROOT / "tests" / "data" / "bpic2013-volvo-sample.csv.xz"
POLICY = ROOT / "examples" / "volvo.policy"
STRICT = ROOT / "examples" / "volvo-strict.policy"
TRUCKS = ROOT / "rules" / "lift-trucks.policy"
TRUCKS_B = ROOT / "rules" / "default.policy"

MEASURE = """
import json, resource, sys, time
from aftersales.replay import replay
path, a, b, mapping, workers = sys.argv[1:6]
started = time.perf_counter()
r = replay(path, a, compare_with=b or None, mapping=mapping or None,
           workers=int(workers) if workers else None)
took = time.perf_counter() - started
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) * 1024
print(json.dumps({"rows": r.a.result.rows, "cases": r.a.count, "took": took, "peak": peak,
                  "rejects": len(r.a.result.rejects)}))
"""


def measure(path: Path, a: Path, b: Path | None, mapping: str, workers: int | None) -> dict:
    args = [str(path), str(a), str(b or ""), mapping, str(workers or "")]
    done = subprocess.run([sys.executable, "-c", MEASURE, *args], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return json.loads(done.stdout)


def rate(m: dict, policies: int) -> str:
    return f"{m['rows'] / m['took']:,.0f} rows/s" + (" per policy" if policies == 2 else "")


def main() -> None:
    log = SAMPLE if "--sample" in sys.argv or not FULL.is_file() else FULL
    events = 1_000_000
    if "--events" in sys.argv:
        events = int(sys.argv[sys.argv.index("--events") + 1])
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        desk = ServiceDesk(POLICY, f"sqlite:///{Path(tmp) / 'h.db'}")
        started = time.perf_counter()
        result = desk.history.import_file(log, mapping="volvo-bpic2013")
        took = time.perf_counter() - started
        desk.close()
        actions = sum(result.actions.values()) + sum(result.implied.values())
        rows.append(("import into SQLite", f"{result.rows / took:,.0f} rows/s",
                     f"{result.rows:,} rows, {result.cases:,} cases, {actions:,} actions, "
                     f"{took:.1f} s, {len(result.rejects)} rejects"))  # fmt: skip
        for label, b, workers in (("replay, one policy, 1 process", None, 1),
                                  ("replay, one policy, every core", None, None),
                                  ("replay --compare, 1 process", STRICT, 1),
                                  ("replay --compare, every core", STRICT, None)):  # fmt: skip
            m = measure(log, POLICY, b, "volvo-bpic2013", workers)
            rows.append((label, rate(m, 2 if b else 1),
                         f"{m['rows']:,} rows, {m['cases']:,} cases in {m['took']:.1f} s, "
                         f"peak {m['peak'] / 1e6:,.0f} MB"))  # fmt: skip
        for size in sorted({events // 10, events}):
            path = Path(tmp) / f"generated-{size}.csv"
            write_history(path, size, seed=7)
            for label, b in (("one policy", None), ("--compare", TRUCKS_B)):
                m = measure(path, TRUCKS, b, "", None)
                rows.append((f"generated {size:,} events, {label}", rate(m, 2 if b else 1),
                             f"{m['cases']:,} cases in {m['took']:.1f} s, every core, peak "
                             f"{m['peak'] / 1e6:,.0f} MB, {m['rejects']} rejects"))  # fmt: skip
    print(f"history benchmarks on {log.name} and generated histories (target: 20,000 "
          "events/s per policy; memory flat in the number of cases)")  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>22}  {note}")


if __name__ == "__main__":
    main()
