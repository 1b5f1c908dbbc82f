"""The SLA report over a large store (issue 16): one month of a SQLite store of 1,000,000
cases, from the clock facts the store keeps with every action, beside the same report reading
and judging every case of the month (what the report did before, and what it still does over
a store plugin that keeps no facts). Each report runs in a fresh process, which reports its
time and its peak resident memory. Three readings:

- a past month, read 60 days on (every case of it closed since);
- the month as it stood at its end, read a year later (the cases acted on after the end are
  read and judged as they were then: their facts are newer);
- the month read live at its end (the store as a desk left it that moment: the month's last
  cases still open, their running clocks read from their deadlines).

The store is filled fast, straight into the SQLite file: the closed cases of a week's
simulation under lift-trucks.policy are copied over a year, moved by whole weeks and a few
seconds (their facts are the originals', so a copy near a holiday may judge differently when
read: the bench measures speed; tests/test_sla_facts.py checks that the two ways agree). For
the live reading, each copy open at the month's end is then replaced by the case its events
up to that moment make.

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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aftersales import ServiceDesk
from aftersales.core.convert import to_dict
from aftersales.core.workflow import fold
from aftersales.plugins.sql_writes import FACT_COLUMNS
from aftersales.ports.storage import CaseIndex, utc_text
from aftersales.services.ids import uuid7
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
    desk.storage.clock_facts = lambda *a, **k: None
    desk.storage.clock_fact_groups = lambda *a, **k: None
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


Copy = tuple[str, str, int, timedelta]  # case id, number, template, moved by


def fill(
    db: Path, sim: ServiceDesk, templates: list[Any], total: int, cut: datetime, start: int = 0
) -> tuple[datetime, datetime, list[Copy]]:
    """``total`` finished cases written straight into the SQLite file ``db`` (snapshots, the
    case index and the clock facts; not the events, which the report does not read): the
    templates (closed cases of ``sim``) copied over a year, each copy moved by whole weeks
    and a few seconds, numbered from ``start`` (a store filled in steps), with time-ordered
    ids as the desk gives. Returns the year's bounds and the copies still open at ``cut``."""
    weeks = 52
    per_week = -(-total // weeks)
    first = min(t.reported_at for t in templates)
    shapes = []
    for case in templates:
        snapshot = sim.storage.get("case", case.id)
        assert snapshot is not None
        text = json.dumps(snapshot.data, ensure_ascii=False, separators=(",", ":"))
        times = [(t, datetime.fromisoformat(t)) for t in sorted(set(_TIME.findall(text)))]
        index = sim.cases._judged(case, case.updated_at)
        shapes.append((text, times, index, case.id, case.reported_at, case.updated_at))
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    written = 0
    straddling: list[Copy] = []
    for week in range(weeks):
        for n in range(per_week):
            if written >= total:
                break
            text, times, index, template_id, reported, finished = shapes[n % len(shapes)]
            delta = timedelta(weeks=week, seconds=(start + n) // len(shapes))
            case_id, number = uuid7(), f"AS-B-{start + written:07d}"
            if reported + delta < cut < finished + delta:
                straddling.append((case_id, number, n % len(shapes), delta))
            moved = {t: (at + delta).isoformat() for t, at in times}
            data = _TIME.sub(lambda m, table=moved: table[m.group(0)], text)  # each moved once
            data = data.replace(f'"{template_id}"', f'"{case_id}"').replace(
                f'"{index.number}"', f'"{number}"')  # fmt: skip
            write(conn, case_id, number, data, index, delta)
            written += 1
        if week % 4 == 3:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    conn.execute("COMMIT")
    conn.close()
    return first, first + timedelta(weeks=weeks), straddling


def write(
    conn: sqlite3.Connection, case_id: str, number: str, data: str, index: CaseIndex,
    delta: timedelta,
) -> None:  # fmt: skip
    """One case's snapshot, index row and clock facts, the index's instants moved by
    ``delta``."""

    def moved(value: str | None) -> str | None:
        return None if value is None else utc_text(datetime.fromisoformat(value) + delta)

    conn.execute("INSERT OR REPLACE INTO snapshots VALUES ('case', ?, ?, ?)",
                 (case_id, 12, data))  # fmt: skip
    conn.execute(
        "INSERT OR REPLACE INTO case_index (id, number, status, engineer, reported_at, serial, "
        "fault_code, accepted_at, priority, followed_up_at, judged_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (case_id, number, index.status, index.engineer, moved(index.reported_at),
         index.serial, index.fault_code, moved(index.accepted_at), index.priority,
         moved(index.followed_up_at), moved(index.judged_at)),
    )  # fmt: skip
    conn.execute("DELETE FROM clock_facts WHERE case_id = ?", (case_id,))
    conn.executemany(
        f"INSERT INTO clock_facts ({FACT_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(case_id, f.milestone, moved(index.reported_at), moved(index.judged_at), number,
          f.priority, index.engineer, index.team, index.customer or "", f.state, f.working,
          f.clock, f.overrun, moved(f.due), moved(f.excused_until)) for f in index.facts or ()],
    )  # fmt: skip


def stop_at(db: Path, sim: ServiceDesk, templates: list[Any], copies: list[Copy],
            cut: datetime) -> None:  # fmt: skip
    """Each copy open at ``cut`` replaced by the case its events up to then make, judged
    then (as a desk left the store at that moment)."""
    made: dict[tuple[int, int], tuple[str, CaseIndex, str, str]] = {}
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    for case_id, number, n, delta in copies:
        events = sim.cases.history(templates[n].id)
        kept = [e for e in events if e.at + delta <= cut]
        if (n, len(kept)) not in made:
            case = fold(kept)
            text = json.dumps(to_dict(case), ensure_ascii=False, separators=(",", ":"))
            made[n, len(kept)] = (text, sim.cases._judged(case, case.updated_at), case.id,
                                  case.number)  # fmt: skip
        text, index, template_id, template_number = made[n, len(kept)]
        data = _TIME.sub(lambda m, d=delta: (datetime.fromisoformat(m.group(0)) + d).isoformat(),
                         text)  # fmt: skip
        data = data.replace(f'"{template_id}"', f'"{case_id}"').replace(
            f'"{template_number}"', f'"{number}"')  # fmt: skip
        write(conn, case_id, number, data, index, delta)
    conn.execute("COMMIT")
    conn.close()


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
        first = min(t.reported_at for t in templates)
        middle = first + timedelta(weeks=26)
        since = middle.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        until = (since + timedelta(days=32)).replace(day=1)
        started = time.perf_counter()
        first, last, open_at_end = fill(db, sim, templates, total, until)
        filled = time.perf_counter() - started
        rows = []

        def row(label: str, way: str, later: int) -> None:
            m = measure(db, since, until, way, later)
            rows.append((f"a month's SLA report {label}", f"{m['took']:.2f} s",
                         f"{m['clocks']:,} clocks ({m['met']:,} met); peak {m['peak'] / 1e6:,.0f}"
                         f" MB, of which the report {m['grew'] / 1e6:,.0f} MB"))  # fmt: skip

        row("read 60 days on, from the clock facts", "facts", 60)
        row("read 60 days on, reading every case", "reading", 60)
        row("as at its end read a year on, from the facts", "facts", 0)
        stop_at(db, sim, templates, open_at_end, until)
        row("read live at its end, from the clock facts", "facts", 0)
        row("read live at its end, reading every case", "reading", 0)
        sim.close()
    print(f"SLA report over a SQLite store of {total:,} cases ({len(templates)} shapes over "
          f"{(last - first).days // 7} weeks; filled in {filled:.0f} s), the month from "
          f"{since:%Y-%m-%d} ({len(open_at_end):,} of its cases open at its end); target: "
          "under 1 s and 150 MB")  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>8}  {note}")


if __name__ == "__main__":
    main()
