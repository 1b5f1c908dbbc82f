"""Benchmarks of the desk on a SQLite file: the full lifecycle, and find over a large store.

Run: python bench/desk_bench.py [cases] [stored]   (defaults: 10 000 and 100 000)
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import ServiceDesk, to_dict
from aftersales.core.workflow import OPEN, fold
from aftersales.ports.storage import CaseIndex, utc_text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "rules" / "default.policy"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=TZ)
ENGINEERS = [f"e{n}" for n in range(50)]
OPEN_DAYS = 3
REPORT = {
    "customer": {"name": "Hengli Mining", "tier": "gold", "region": "north"},
    "fault": "hydraulic pump leaking, boom will not lift",
    "fault_code": "HYD-PUMP",
    "severity": "major",
    "machine_down": True,
    "channel": "phone",
}


def new_desk(path: Path) -> ServiceDesk:
    desk = ServiceDesk(DEFAULT, f"sqlite:///{path}", entry_points=False)
    desk.staff.add(id="cs1", name="Lin", roles=["service_agent"], at=T0)
    desk.staff.add(id="m1", name="Zhao", roles=["manager"], at=T0)
    for e in ENGINEERS:
        desk.staff.add(id=e, name=e, roles=["engineer"], at=T0)
    return desk


def lifecycle(desk: ServiceDesk, i: int, start: datetime) -> int:
    """One case from report to close; returns the number of actions."""

    def m(k: int) -> datetime:
        return start + timedelta(minutes=k)

    engineer = ENGINEERS[i % len(ENGINEERS)]
    product = {"model": "EX-350", "line": "excavator", "serial": f"EX350-{i:06d}"}
    c = desk.cases.report(**REPORT, product=product, by="cs1", at=m(0))
    cases = desk.cases
    cases.respond(c.id, by="cs1", at=m(1))
    cases.assign(c.id, engineer=engineer, by="cs1", at=m(2))
    cases.confirm(c.id, by=engineer, at=m(3))
    cases.contact(c.id, by=engineer, at=m(4), appointment=m(60))
    cases.arrive(c.id, by=engineer, at=m(60))
    cases.checklist(c.id, ["helmet", "gloves"], by=engineer, at=m(61))
    cases.diagnose(c.id, by=engineer, at=m(70), cause="seal", complexity="simple")
    cases.complete(c.id, by=engineer, at=m(100), actions="new seal", result="no leak")
    cases.accept(c.id, signed_by="Wang", by=engineer, at=m(110))
    cases.follow_up(c.id, by="cs1", at=m(2000), satisfaction=5)
    cases.close(c.id, by="cs1", at=m(2001))
    return 12


def bench_lifecycle(n: int, rows: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        desk = new_desk(Path(tmp) / "life.db")
        actions = 0
        start = time.perf_counter()
        for i in range(n):
            actions += lifecycle(desk, i, T0 + timedelta(minutes=3 * i))
        elapsed = time.perf_counter() - start
        rows.append(
            (
                f"full lifecycle of {n:,} cases, SQLite file",
                f"{actions / elapsed:,.0f} actions/s",
                f"{actions:,} actions in {elapsed:.1f} s; one writer; WAL, synchronous=NORMAL "
                "(survives a process crash, may lose the last commits on power loss); "
                "target >= 2,000/s",
            )
        )
        desk.close()


def seed(desk: ServiceDesk, n: int) -> None:
    """``n`` stored cases reported over two years, through the storage contract: the events of
    a real lifecycle, shifted in time, and their fold as the snapshot.

    Which are still open follows Little's law: a case stays open about ``OPEN_DAYS`` (report
    to close, follow-up call included), so the cases reported in the last ``OPEN_DAYS`` of the
    span are open, at a step that grows with their age; everything older is closed. At
    100 000 cases that is ~0.4% open (~400), what a team closing ~140 cases a day carries."""
    template = desk.cases.history(desk.cases.find(limit=1)[0].id)
    rng = random.Random(5)
    storage = desk.storage
    span = 2 * 365 * 24 * 60
    batch = 1000
    for first in range(0, n, batch):
        with storage.transaction() as tx:
            for i in range(first, min(n, first + batch)):
                minute = rng.randrange(span)
                shift = timedelta(minutes=minute) + (T0 - template[0].at)
                age = (span - minute) / (24 * 60)  # days before the end of the span
                steps = len(template) if age >= OPEN_DAYS else 1 + int(8 * age / OPEN_DAYS)
                engineer = ENGINEERS[rng.randrange(len(ENGINEERS))]
                case_id = str(uuid.uuid4())
                events = []
                for e in template[:steps]:
                    data = dict(e.data)
                    if e.type == "reported":
                        data["number"] = f"AS-B-{i:07d}"
                        data["product"] = {**data["product"], "serial": f"B{i:07d}"}
                    elif e.type == "assigned":
                        data["engineer"] = engineer
                    by = engineer if e.by.startswith("e") else e.by
                    events.append(type(e)(case_id, e.version, e.type, e.at + shift, by, data))
                case = fold(events)
                stored = [
                    {"version": e.version, "type": e.type, "at": e.at.isoformat(), "by": e.by,
                     "data": e.data}
                    for e in events
                ]  # fmt: skip
                accepted = case.milestones.get("accepted")
                index = CaseIndex(
                    case.number,
                    case.status,
                    case.engineer,
                    utc_text(case.reported_at),
                    case.product.serial,
                    case.fault_code,
                    None if accepted is None else utc_text(accepted),
                    case.priority,
                )
                tx.append("case", case_id, 0, stored, to_dict(case), index)


def timed(fn, repeat: int = 5) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = len(fn())
        best = min(best, time.perf_counter() - start)
    return best, count


def bench_find(n: int, rows: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        desk = new_desk(Path(tmp) / "find.db")
        lifecycle(desk, 0, T0)
        start = time.perf_counter()
        seed(desk, n)
        seeded = time.perf_counter() - start
        day = T0 + timedelta(days=200)
        queries = [
            ("status on_site", lambda: desk.cases.find(status="on_site")),
            ("engineer e17, open", lambda: desk.cases.find(status=OPEN, engineer="e17")),
            ("one day of reports", lambda: desk.cases.find(
                since=day, until=day + timedelta(days=1))),
            ("one week, limit 100", lambda: desk.cases.find(
                since=day, until=day + timedelta(days=7), limit=100)),
            ("all of engineer e17 (2 years)", lambda: desk.cases.find(engineer="e17")),
        ]  # fmt: skip
        for name, query in queries:
            seconds, count = timed(query)
            per = f"; {seconds / count * 1e6:.0f} us per case returned" if count else ""
            target = "target < 50 ms" if "2 years" not in name else "decoding dominates"
            rows.append(
                (
                    f"find over {n:,} stored cases: {name}",
                    f"{seconds * 1000:.1f} ms",
                    f"{count} found{per}; {target}",
                )
            )
        rows.append((f"seeding {n:,} cases (12 events each)", f"{seeded:.0f} s", "setup"))
        desk.close()


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    stored = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rows: list[tuple[str, str, str]] = []
    bench_lifecycle(cases, rows)
    bench_find(stored, rows)
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>16}  {note}")


if __name__ == "__main__":
    main()
