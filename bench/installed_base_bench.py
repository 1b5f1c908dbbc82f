"""The installed base at size, on a SQLite file (issue 19): machine lookup, a report by
serial against one whose serial the base does not know, the maintenance tick with nothing
due against reading every machine, and a CSV import.

Run: python bench/installed_base_bench.py [machines] [readings each] [csv rows]
     (defaults: 100 000, 10 and 3 000)
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from aftersales import ServiceDesk, to_dict
from aftersales.core.installed_base import Machine, Reading
from aftersales.ports.storage import event_record

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "rules" / "lift-trucks.policy"  # a forklift is due every 1000 h or 12 months
NOW = datetime.fromisoformat("2026-11-25T10:00+08:00")
FAULT = {
    "fault": "mast will not lift",
    "fault_code": "HYD-PUMP",
    "severity": "minor",
    "machine_down": False,
    "channel": "phone",
}


def seed(desk: ServiceDesk, machines: int, readings: int) -> None:
    """``machines`` forklifts of one customer, commissioned over the last 300 days, each with
    ``readings`` meter readings below its first 1000 hours (none is due yet), written as the
    desk writes them: the snapshot, an event per reading, the schedule row."""
    desk.customers.add(id="C1", name="Dalian Port", by="cs1", at=NOW - timedelta(days=400))
    rng = random.Random(7)
    batch = 1000
    for start in range(0, machines, batch):
        with desk.storage.transaction() as tx:
            for n in range(start, min(start + batch, machines)):
                serial = f"FL-{n:07d}"
                commissioned = (NOW - timedelta(days=rng.randint(10, 300))).date()
                first = datetime.combine(commissioned, datetime.min.time(), NOW.tzinfo)
                hours = sorted(rng.uniform(0, 900) for _ in range(readings))
                times = [first + timedelta(days=1 + i) for i in range(readings)]
                machine = Machine(
                    serial,
                    "FD-30",
                    "forklift",
                    "C1",
                    None,
                    commissioned,
                    reading=Reading(hours[-1], times[-1], "e1"),
                    readings=readings,
                    version=readings,
                )
                events = [
                    event_record(
                        1, "added", "cs1", times[0], {"hours": hours[0], "at": times[0].isoformat()}
                    )
                ]
                events += [
                    event_record(
                        i + 1,
                        "read",
                        "e1",
                        times[i],
                        {"hours": hours[i], "at": times[i].isoformat()},
                    )
                    for i in range(1, readings)
                ]
                tx.append("machine", serial, 0, events, to_dict(machine))
                desk.machines.reschedule(tx, machine)


def timed(action: object, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    machines = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    readings = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
    with tempfile.TemporaryDirectory() as folder:
        desk = ServiceDesk(
            POLICY, f"sqlite:///{folder}/base.db", entry_points=False, clock=lambda: NOW
        )
        desk.staff.add(id="cs1", name="Lin", roles=["service_agent"], at=NOW - timedelta(days=500))
        desk.staff.add(id="e1", name="Chen", roles=["engineer"], at=NOW - timedelta(days=500))
        started = time.perf_counter()
        seed(desk, machines, readings)
        seeded = time.perf_counter() - started
        print(
            f"installed base: {machines:,} machines, {machines * readings:,} readings "
            f"(seeded in {seeded:.1f} s), {POLICY.name}"
        )
        rng = random.Random(11)
        serials = [f"FL-{rng.randrange(machines):07d}" for _ in range(2000)]
        it = iter(serials)
        lookups = timed(lambda: desk.machines.get(next(it)), 2000)
        lookup = statistics.median(lookups) * 1e6
        print(f"  desk.machines.get, a machine at random     median {lookup:7.0f} us   (< 1 ms)")
        # a report by a known serial (machine, owner, warranty, contract, coverage) against
        # one whose serial the base does not know (the report of before the installed base),
        # alternating so both see the same store and the same machine noise
        known, unknown = [], []
        when = NOW
        for n in range(300):
            when += timedelta(minutes=1)
            started = time.perf_counter()
            desk.cases.report(product={"serial": serials[n]}, **FAULT, by="cs1", at=when)
            known.append(time.perf_counter() - started)
            started = time.perf_counter()
            desk.cases.report(
                customer={"name": "Dalian Port"},
                product={"model": "FD-30", "line": "forklift", "serial": f"NOT-{n}"},
                **FAULT,
                by="cs1",
                at=when,
            )
            unknown.append(time.perf_counter() - started)
        k, u = statistics.median(known), statistics.median(unknown)
        print(f"  a report by serial, machine known          median {k * 1e3:7.2f} ms")
        print(
            f"  a report, serial not in the base           median {u * 1e3:7.2f} ms"
            f"   (known / unknown {k / u:.2f}x)"
        )
        ticks = timed(lambda: desk.maintenance.open_due(NOW), 20)
        print(
            f"  the maintenance tick, nothing due          best {min(ticks) * 1e3:7.2f} ms,"
            f" median {statistics.median(ticks) * 1e3:.2f} ms   (target < 50 ms)"
        )
        policy = desk.policy
        started = time.perf_counter()
        due = [
            m
            for m in desk.machines.list()
            if (d := policy.next_maintenance(m)) is not None and d <= NOW
        ]
        every = time.perf_counter() - started
        print(
            f"  the same, reading every machine            {every * 1e3:7.0f} ms"
            f"   ({every / min(ticks):.0f}x the schedule; {len(due)} due)"
        )
        csv_path = Path(folder) / "base.csv"
        lines = ["serial,model,line,customer,commissioned,hours"]
        lines += [
            f"IM-{n:06d},FD-25,forklift,Customer {n % 50},2025-{1 + n % 12:02d}-01,{n % 900}"
            for n in range(rows)
        ]
        csv_path.write_text("\n".join(lines) + "\n", "utf-8")
        started = time.perf_counter()
        result = desk.machines.import_csv(csv_path, by="cs1", at=NOW)
        took = time.perf_counter() - started
        print(
            f"  import of {rows:,} machines from CSV          {took:7.2f} s"
            f"   ({result.added:,} added, {result.customers} customers created, "
            f"{len(result.rejected)} left out)"
        )
        assert result.added == rows and not result.rejected
        desk.close()


if __name__ == "__main__":
    main()
