"""How the desk scales with the store (issue 18): one SQLite store grown to 10,000, 100,000 and
1,000,000 cases, and at each size, each in a fresh process, what a desk does:

- an action on a case (a whole lifecycle of new cases, 11 actions each), actions/s;
- ``desk.cases.get`` and ``desk.cases.sla`` of stored cases picked at random, per call;
- one month's SLA report (from the stored clock facts);
- ``aftersales case list --limit 50``, the whole process;
- ``desk.cases.scan()`` through every case (and ``find()`` of all, up to 100,000): time and
  the process's peak memory.

The store is filled as ``report_bench.py`` fills it (closed cases of a week's simulation under
lift-trucks.policy copied over a year, straight into the file, with time-ordered ids), so a
larger store is also a denser year: the month's report covers ~8.8% of the cases at each size.

Run: python bench/scale_bench.py [sizes...]   (default: 10000 100000 1000000)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from report_bench import POLICY, fill

from aftersales import ServiceDesk
from aftersales.simulation import simulate

MEASURE = r"""
import json, random, resource, sqlite3, subprocess, sys, time
from pathlib import Path
from datetime import datetime, timedelta
from aftersales import ServiceDesk
db, policy, what, since, until, folder = sys.argv[1:7]
since, until = datetime.fromisoformat(since), datetime.fromisoformat(until)
started = time.perf_counter()
desk = ServiceDesk(policy, f"sqlite:///{db}", entry_points=False)
out = {"open": time.perf_counter() - started}

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

if what == "point":
    conn = sqlite3.connect(db)
    ids = [r[0] for r in conn.execute("SELECT id FROM case_index ORDER BY random() LIMIT 300")]
    conn.close()
    for name, call in (("get", lambda i: desk.cases.get(i)),
                       ("sla", lambda i: desk.cases.sla(i, until))):
        started = time.perf_counter()
        for i in ids:
            call(i)
        out[name] = (time.perf_counter() - started) / len(ids)
    cases, at = 40, until + timedelta(days=400)
    started = time.perf_counter()
    for n in range(cases):
        t = lambda minutes: at + timedelta(minutes=3 * n + minutes)
        c = desk.cases.report(customer={"name": "Scale", "tier": "silver"},
                              product={"model": "FL-25", "serial": f"SB-{n}"}, fault="leak",
                              severity="major", machine_down=False, channel="phone",
                              by="sb-cs", at=t(0))
        e = ("sb-e1", "sb-e2")[n % 2]
        desk.cases.respond(c.id, by="sb-cs", at=t(1))
        desk.cases.assign(c.id, engineer=e, by="sb-cs", at=t(2))
        desk.cases.confirm(c.id, by=e, at=t(3))
        desk.cases.contact(c.id, by=e, at=t(4), appointment=t(60))
        desk.cases.arrive(c.id, by=e, at=t(60))
        desk.cases.diagnose(c.id, by=e, at=t(70), cause="seal", complexity="simple")
        desk.cases.complete(c.id, by=e, at=t(100), actions="new seal", result="no leak")
        desk.cases.accept(c.id, signed_by="Wang", by=e, at=t(110))
        desk.cases.follow_up(c.id, by="sb-cs", at=t(200), satisfaction=5)
        desk.cases.close(c.id, by="sb-cs", at=t(201))
    out["action"] = (time.perf_counter() - started) / (cases * 11)
elif what == "report":
    started = time.perf_counter()
    report = desk.sla.report(since, until, "milestone", now=until + timedelta(days=60))
    out["report"] = time.perf_counter() - started
    out["clocks"] = report.total.clocks
elif what == "list":
    command = str(Path(sys.executable).parent / "aftersales")  # what a user runs
    took = []
    for _ in range(3):  # the best of three: one process's start-up is noisy here
        started = time.perf_counter()
        done = subprocess.run([command, "case", "list", "--limit", "50"],
                              cwd=folder, capture_output=True, text=True, check=True)
        took.append(time.perf_counter() - started)
    out["list"] = min(took)
    out["list_peak"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    out["rows"] = sum(1 for line in done.stdout.splitlines() if line.startswith("│ AS-"))
else:  # scan / find: every case
    before = peak()
    started = time.perf_counter()
    if what == "scan":
        count = sum(1 for _ in desk.cases.scan())
    else:
        count = len(desk.cases.find())
    out[what] = time.perf_counter() - started
    out["count"], out["peak"], out["before"] = count, peak(), before
print(json.dumps(out))
"""


def measure(db: Path, what: str, since: str, until: str, folder: Path) -> dict[str, float]:
    args = [str(db), str(POLICY), what, since, until, str(folder)]
    done = subprocess.run([sys.executable, "-c", MEASURE, *args], capture_output=True,
                          text=True)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
    columns: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result = simulate(POLICY, db=folder / "sim.db", days=7, cases_per_day=40, seed=3)
        sim = ServiceDesk(POLICY, f"sqlite:///{folder / 'sim.db'}")
        templates = sim.cases.find(status="closed")
        db = folder / "big.db"
        desk = ServiceDesk(POLICY, f"sqlite:///{db}")
        for member in sim.staff.list(active=None):
            desk.staff.add(id=member.id, name=member.name, roles=list(member.roles),
                           team=member.team, at=result.start - timedelta(days=1))  # fmt: skip
        for id, role in (("sb-e1", "engineer"), ("sb-e2", "engineer"), ("sb-cs", "service_agent")):
            desk.staff.add(id=id, name=id, roles=[role], at=result.start - timedelta(days=1))
        desk.close()
        (folder / "aftersales.toml").write_text(
            f'policy = "{POLICY}"\nstorage = "sqlite:///{db}"\n', "utf-8"
        )
        first = min(t.reported_at for t in templates)
        since = (first + timedelta(weeks=26)).replace(day=1, hour=0, minute=0, second=0,
                                                      microsecond=0)  # fmt: skip
        until = (since + timedelta(days=32)).replace(day=1)
        filled = 0
        for size in sizes:
            started = time.perf_counter()
            fill(db, sim, templates, size - filled, first, start=filled)
            took = time.perf_counter() - started
            filled = size
            print(f"{size:,} cases stored (filled in {took:.0f} s)", file=sys.stderr)
            got: dict[str, float] = {}
            for what in ("point", "report", "list", "scan", "find"):
                if what == "find" and size > 100_000:
                    continue  # a list of every case: what scan is for
                got.update({f"{what}:{k}": v for k, v in
                            measure(db, what, since.isoformat(), until.isoformat(),
                                    folder).items()})  # fmt: skip
            columns[size] = got
        sim.close()
    print_table(sizes, columns)


ROWS = [
    ("action (lifecycle of 40 new cases)", "point:action", 1e6, "us"),
    ("get, a stored case at random", "point:get", 1e6, "us"),
    ("sla, a stored case at random", "point:sla", 1e6, "us"),
    ("a month's SLA report", "report:report", 1, "s"),
    ("case list --limit 50, whole process (best of 3)", "list:list", 1, "s"),
    ("  its peak memory", "list:list_peak", 1e-6, "MB"),
    ("scan() every case", "scan:scan", 1, "s"),
    ("  its peak memory", "scan:peak", 1e-6, "MB"),
    ("find() every case (a list)", "find:find", 1, "s"),
    ("  its peak memory", "find:peak", 1e-6, "MB"),
    ("opening the desk", "point:open", 1e3, "ms"),
]


def print_table(sizes: list[int], columns: dict[int, dict[str, float]]) -> None:
    print(f"The desk over a SQLite store of {', '.join(f'{s:,}' for s in sizes)} cases "
          f"(each figure from a fresh process; targets at 1,000,000: case list < 0.5 s, "
          "scan peak < 200 MB, report < 1 s)")  # fmt: skip
    header = ["", *(f"{s:,} cases" for s in sizes)]
    lines = [header]
    for label, key, scale, unit in ROWS:
        cells = [label]
        for s in sizes:
            value = columns[s].get(key)
            cells.append(
                "-" if value is None else f"{value * scale:,.{2 if unit == 's' else 0}f} {unit}"
            )
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(line, widths, strict=True))))  # fmt: skip


if __name__ == "__main__":
    main()
