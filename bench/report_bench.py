"""The SLA report over a large store (issue 16): one month of a SQLite store of 1,000,000
finished cases, from the clock facts the store keeps, beside the same report reading and
judging every case of the month (what the report did before, and what it still does over a
store plugin that keeps no facts). Each report runs in a fresh process, which reports its
time and its peak resident memory.

The store is filled fast, straight into the SQLite file: the closed cases of a week's
simulation under lift-trucks.policy are copied over a year, moved by whole weeks and a few
seconds (their facts are the originals', so a copy near a holiday may judge differently when
read: the bench measures speed; tests/test_sla_facts.py checks that the two ways agree).

Run: python bench/report_bench.py [cases]   (default 1,000,000)
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aftersales import ServiceDesk
from aftersales.plugins.sql_writes import FACT_COLUMNS
from aftersales.ports.storage import utc_text
from aftersales.simulation import simulate

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "rules" / "lift-trucks.policy"
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[+-]\d\d:\d\d)")

MEASURE = """
import json, resource, sys, time
from datetime import datetime, timedelta
from aftersales import ServiceDesk
db, policy, since, until, way, later = sys.argv[1:7]
desk = ServiceDesk(policy, f"sqlite:///{db}")
if way == "reading":  # as over a store that keeps no facts
    desk.storage.clock_facts = lambda *args: None
    desk.storage.clock_fact_groups = lambda *args: None
since, until = datetime.fromisoformat(since), datetime.fromisoformat(until)
now = until + timedelta(days=int(later))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
report = desk.sla.report(since, until, "milestone", now=now)
took = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"took": took, "peak": peak * 1024, "grew": (peak - before) * 1024,
                  "clocks": report.total.clocks, "met": report.total.met}))
"""


def fill(db: Path, sim: ServiceDesk, templates: list[Any], total: int) -> tuple[datetime, datetime]:
    """``total`` finished cases written straight into the SQLite file ``db`` (snapshots, the
    case index and the clock facts; not the events, which the report does not read): the
    templates (closed cases of ``sim``) copied over a year, each copy moved by whole weeks
    and a few seconds."""
    weeks = 52
    per_week = -(-total // weeks)
    first = min(t.reported_at for t in templates)
    shapes = []
    for case in templates:
        snapshot = sim.storage.get("case", case.id)
        assert snapshot is not None
        text = json.dumps(snapshot.data, ensure_ascii=False, separators=(",", ":"))
        times = [(t, datetime.fromisoformat(t)) for t in sorted(set(_TIME.findall(text)))]
        index = sim.cases._judged(case, case.updated_at, False)
        shapes.append((text, times, index, case.id))
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    written = 0
    for week in range(weeks):
        for n in range(per_week):
            if written >= total:
                break
            text, times, index, template_id = shapes[n % len(shapes)]
            delta = timedelta(weeks=week, seconds=n // len(shapes))
            case_id, number = str(uuid.uuid4()), f"AS-B-{written:07d}"
            moved = {t: (at + delta).isoformat() for t, at in times}
            data = _TIME.sub(lambda m, table=moved: table[m.group(0)], text)  # each moved once
            data = data.replace(f'"{template_id}"', f'"{case_id}"').replace(
                f'"{index.number}"', f'"{number}"')  # fmt: skip
            columns = {k: None if v is None else utc_text(datetime.fromisoformat(v) + delta)
                       for k, v in (("reported_at", index.reported_at),
                                    ("finished_at", index.finished_at),
                                    ("accepted_at", index.accepted_at),
                                    ("followed_up_at", index.followed_up_at))}  # fmt: skip
            conn.execute("INSERT INTO snapshots VALUES ('case', ?, ?, ?)",
                         (case_id, 12, data))  # fmt: skip
            conn.execute(
                "INSERT INTO case_index VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?)",
                (case_id, number, index.status, index.engineer, columns["reported_at"],
                 index.serial, index.fault_code, columns["accepted_at"], index.priority,
                 columns["followed_up_at"], columns["finished_at"]),
            )  # fmt: skip
            conn.executemany(
                f"INSERT INTO clock_facts ({FACT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(case_id, f.milestone, columns["reported_at"], columns["finished_at"], number,
                  f.priority, index.engineer, index.team, index.customer or "", f.state,
                  f.working, f.clock, f.overrun) for f in index.facts or ()],
            )  # fmt: skip
            written += 1
        if week % 4 == 3:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    conn.execute("COMMIT")
    conn.close()
    return first, first + timedelta(weeks=weeks)


def measure(
    db: Path, since: datetime, until: datetime, way: str, later: int = 0
) -> dict[str, float]:
    args = [str(db), str(POLICY), since.isoformat(), until.isoformat(), way, str(later)]
    done = subprocess.run([sys.executable, "-c", MEASURE, *args], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return json.loads(done.stdout)


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        result = simulate(POLICY, db=Path(tmp) / "sim.db", days=7, cases_per_day=40, seed=3)
        sim = ServiceDesk(POLICY, f"sqlite:///{Path(tmp) / 'sim.db'}")
        templates = sim.cases.find(status="closed")
        db = Path(tmp) / "big.db"
        desk = ServiceDesk(POLICY, f"sqlite:///{db}")
        for member in sim.staff.list(active=None):
            desk.staff.add(id=member.id, name=member.name, roles=list(member.roles),
                           team=member.team, at=result.start - timedelta(days=1))  # fmt: skip
        desk.close()
        started = time.perf_counter()
        first, last = fill(db, sim, templates, total)
        filled = time.perf_counter() - started
        sim.close()
        middle = first + (last - first) / 2
        since = middle.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        until = (since + timedelta(days=32)).replace(day=1)
        rows = []
        for label, way, later in (
            ("read at its end, from the clock facts", "facts", 0),
            ("read at its end, reading every case", "reading", 0),
            ("read 60 days on, from the clock facts", "facts", 60),
            ("read 60 days on, reading every case", "reading", 60),
        ):
            m = measure(db, since, until, way, later)
            rows.append((f"a month's SLA report {label}", f"{m['took']:.2f} s",
                         f"{m['clocks']:,} clocks ({m['met']:,} met); peak {m['peak'] / 1e6:,.0f}"
                         f" MB, of which the report {m['grew'] / 1e6:,.0f} MB"))  # fmt: skip
    print(f"SLA report over a SQLite store of {total:,} finished cases ({len(templates)} "
          f"shapes over {(last - first).days // 7} weeks; filled in {filled:.0f} s), the month "
          f"from {since:%Y-%m-%d}; target: under 1 s and 150 MB")  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>8}  {note}")


if __name__ == "__main__":
    main()
