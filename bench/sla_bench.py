"""SLA benchmarks on a SQLite file: ticks over a large open store, and one case's clocks.

Run: python bench/sla_bench.py [open cases] [due]   (defaults: 100 000 and 10 000)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import attrs

from aftersales import ServiceDesk, to_dict
from aftersales.core.model import CaseEvent
from aftersales.core.workflow import fold
from aftersales.ports.storage import utc_text
from aftersales.services.ids import uuid7

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "rules" / "default.policy"
NOW = datetime.fromisoformat("2026-11-25T16:00+08:00")  # a Wednesday afternoon
REPORT = {
    "customer": {"name": "Hengli Mining", "tier": "silver", "region": "north"},
    "product": {"model": "EX-350", "line": "excavator", "serial": "EX350-0192"},
    "fault": "hydraulic pump leaking",
    "fault_code": "HYD-PUMP",
    "severity": "minor",
    "machine_down": False,
    "channel": "phone",
}


def new_desk(path: Path, notifier: bool = True) -> ServiceDesk:
    """A desk with the built-in log notifier (each warning: one outbox item written with the
    tick's decision and settled after its delivery), or, for comparison, with no notifier
    at all (nothing to write to the outbox)."""
    desk = ServiceDesk(DEFAULT, f"sqlite:///{path}", entry_points=False)
    if not notifier:
        desk.plugins.unregister(name="aftersales.plugins.log_notifier")
    desk.staff.add(id="cs1", name="Lin", roles=["service_agent"], at=NOW - timedelta(days=30))
    desk.staff.add(id="m1", name="Zhao", roles=["manager"], at=NOW - timedelta(days=30))
    return desk


def seed(desk: ServiceDesk, total: int, due: int, plans: bool = True) -> None:
    """``total`` open general cases. ``due`` of them were reported at 11:30, 3 h 30 of working
    time before NOW (lunch is 12:00-13:00), past the 80% warning of their 4-working-hour
    response; the others are young and their first alert is hours away. Each index row is
    the one the desk writes with the report, alert plan included, or (``plans=False``) as a
    store that keeps no plans holds it: the tick reads and judges the case."""
    template = desk.cases.report(**REPORT, by="cs1", at=NOW - timedelta(hours=4, minutes=30))
    first = desk.cases.history(template.id)[0]
    later = utc_text(NOW + timedelta(hours=1))
    batch = 2000
    for start in range(0, total, batch):
        with desk.storage.transaction() as tx:
            for i in range(start, min(total, start + batch)):
                case_id = uuid7()
                at = first.at if i < due else NOW - timedelta(minutes=5)
                data = {**first.data, "number": f"AS-B-{i:07d}"}
                event = CaseEvent(case_id, 1, "reported", at, "cs1", data)
                case = fold([event])
                stored = {"version": 1, "type": "reported", "at": at.isoformat(), "by": "cs1",
                          "data": data}  # fmt: skip
                index = desk.cases._judged(case, at)
                if not plans:
                    look = utc_text(at) if i < due else later
                    index = attrs.evolve(index, alert_plan=None, next_alert_at=look)
                tx.append("case", case_id, 0, [stored], to_dict(case), index)


def best_of(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    due = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rows: list[tuple[str, str, str]] = []
    fulls, bare, reading = [], [], []
    runs = 3  # a full tick changes the store: each run on a freshly seeded one
    for run in range(runs):
        for notifier, plans, times in ((False, True, bare), (True, False, reading)):
            with tempfile.TemporaryDirectory() as tmp:  # interleaved: all see the same disk
                desk = new_desk(Path(tmp) / "bare.db", notifier=notifier)
                seed(desk, total, due, plans=plans)
                start = time.perf_counter()
                desk.sla.tick(NOW)
                times.append(time.perf_counter() - start)
                desk.close()
        with tempfile.TemporaryDirectory() as tmp:
            desk = new_desk(Path(tmp) / "sla.db")
            seed(desk, total, due)
            start = time.perf_counter()
            sent = desk.sla.tick(NOW)
            fulls.append(time.perf_counter() - start)
            warnings = sum(1 for n in sent if n.kind == "sla_warning")
            if run < runs - 1:
                desk.close()
    full = min(fulls)
    with tempfile.TemporaryDirectory():
        rows.append((
            f"tick over {total:,} open cases, {due:,} due",
            f"{full * 1000:,.0f} ms",
            f"best of {runs} (median {statistics.median(fulls) * 1000:,.0f} ms); {warnings:,} "
            f"warnings sent ({full / max(1, len(sent)) * 1e6:.0f} us each), from the alert "
            "plans the actions wrote; target < 1 s",
        ))  # fmt: skip
        rows.append((
            "  the same reading and judging each due case",
            f"{min(reading) * 1000:,.0f} ms",
            f"best of {runs} (median {statistics.median(reading) * 1000:,.0f} ms); a store "
            f"that keeps no plans, or cases stored before them: {min(reading) / full:.2f}x",
        ))  # fmt: skip
        rows.append((
            "  the same with no notifier loaded",
            f"{min(bare) * 1000:,.0f} ms",
            f"best of {runs} (median {statistics.median(bare) * 1000:,.0f} ms); the outbox's "
            f"share: {full / min(bare):.2f}x",
        ))  # fmt: skip
        idle = best_of(lambda: desk.sla.tick(NOW))
        rows.append((
            f"tick over {total:,} open cases, nothing due",
            f"{idle * 1000:.2f} ms",
            "best of 5; target < 50 ms",
        ))  # fmt: skip
        desk.close()
    with tempfile.TemporaryDirectory() as tmp:
        desk = new_desk(Path(tmp) / "one.db")
        desk.staff.add(id="e7", name="Chen", roles=["engineer"], at=NOW - timedelta(days=30))
        t = NOW - timedelta(days=10)
        case = desk.cases.report(**{**REPORT, "machine_down": True, "customer": {
            "name": "H", "tier": "gold"}}, by="cs1", at=t)  # fmt: skip
        step = timedelta(minutes=7)
        desk.cases.respond(case.id, by="cs1", at=(t := t + step))
        desk.cases.assign(case.id, engineer="e7", by="cs1", at=(t := t + step))
        while len(desk.cases.history(case.id)) < 50:
            desk.cases.update(
                case.id, by="cs1", reason="note", machine_down=True, at=(t := t + step)
            )
        n = 200
        each = best_of(lambda: [desk.cases.sla(case.id, now=NOW) for _ in range(n)]) / n
        rows.append(
            ("sla() for one case with 50 events", f"{each * 1e6:.0f} us", "best of 5 x 200")
        )
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")


if __name__ == "__main__":
    main()
