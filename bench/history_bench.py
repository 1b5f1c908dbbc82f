"""History benchmarks (issue 16): import into SQLite and replay in memory, rows per second,
on the Volvo IT log (the whole of ../shared/data's, or the 150-request sample in tests/data),
beside the desk's own actions on the same cases (the import's floor: it runs those actions
and adds the bridging and the marker).

Run: python bench/history_bench.py [--sample]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from aftersales import ServiceDesk
from aftersales.replay import replay

ROOT = Path(__file__).resolve().parent.parent
FULL = ROOT.parent / "shared" / "data" / "bpic2013-volvo-incidents.csv.xz"
SAMPLE = ROOT / "tests" / "data" / "bpic2013-volvo-sample.csv.xz"
POLICY = ROOT / "examples" / "volvo.policy"
STRICT = ROOT / "examples" / "volvo-strict.policy"


def main() -> None:
    log = SAMPLE if "--sample" in sys.argv or not FULL.is_file() else FULL
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
        rows.append(("  as desk actions", f"{actions / took:,.0f} actions/s",
                     "each built on a scratch desk, then stored in one transaction"))  # fmt: skip
    started = time.perf_counter()
    judged = replay(log, POLICY, compare_with=STRICT, mapping="volvo-bpic2013")
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # the whole process
    n = judged.a.result.rows
    rows.append(("replay under two policies", f"{2 * n / took:,.0f} rows/s",
                 f"{n:,} rows x 2 policies in {took:.1f} s; target 20,000 events/s per "
                 "policy: not met"))  # fmt: skip
    rows.append(
        (
            "  peak resident memory",
            f"{peak / 1e6:,.0f} MB",
            f"{len(judged.a.cases):,} cases; the rows are read whole, the cases are not",
        )
    )
    print(f"history benchmarks on {log.name}")
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>16}  {note}")


if __name__ == "__main__":
    main()
