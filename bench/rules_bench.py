"""What issue 22's rules cost at size, on a SQLite file, each beside the way it would be
done without the one read it makes: the tick's two new jobs (overdue incident
investigations, overdue coaching) over N stored records each, by the store's schedule
against reading every record; a month's appraisals of a
team with a year of follow-ups, read once (``appraise_all``) against once per member; the
suppliers to review over S suppliers and their orders, the orders read once against once
per supplier.

Run: python bench/rules_bench.py [records] [staff] [suppliers]
     (defaults: 5 000, 100 and 100)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import ServiceDesk
from aftersales.core.appraisal import FollowUp
from aftersales.core.convert import to_dict
from aftersales.core.parts import OrderLine, PurchaseOrder
from aftersales.core.safety import Incident
from aftersales.ports.storage import event_record

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def best(call: Callable[[], object], runs: int = 5) -> float:
    """The median of ``runs`` timings, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def stored(desk: ServiceDesk, kind: str, rows: list[tuple[str, dict[str, object]]]) -> None:
    """Records written as their services would have, in one transaction (the bench measures
    reading them)."""
    with desk.storage.transaction() as tx:
        for key, data in rows:
            tx.append(kind, key, 0, [event_record(1, "made", "m1", T0, data)], data)


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    staff = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    suppliers = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    with tempfile.TemporaryDirectory() as folder:
        desk = ServiceDesk(ROOT / "rules" / "default.policy", f"sqlite:///{folder}/d.db",
                           entry_points=False, clock=lambda: T0)  # fmt: skip
        desk.staff.add(id="m1", name="Zhao", roles=["manager"], at=T0)
        for n in range(staff):
            desk.staff.add(id=f"e{n}", name=f"E{n}", roles=["engineer"], supervisor="m1", at=T0)
        # closed incidents and done coaching: what a desk's years leave behind
        stored(desk, "incident", [
            (f"INC-{n}", to_dict(Incident(f"INC-{n}", T0, T0, "e1", "serious", "slip",
                                          rule="default.policy:101", told=("manager",),
                                          due=T0 + timedelta(days=7), findings="wet",
                                          version=1)))
            for n in range(records)
        ])  # fmt: skip
        stored(desk, "follow_up", [
            (f"2026-{n % 12 + 1:02d}/e{n % staff}/coaching-{n}",
             to_dict(FollowUp(f"2026-{n % 12 + 1:02d}/e{n % staff}/coaching-{n}",
                              f"e{n % staff}", f"2026-{n % 12 + 1:02d}", "coaching", "fail",
                              "m1", "default.policy:69", T0, due=T0 + timedelta(days=30),
                              status="done", version=1)))
            for n in range(records)
        ])  # fmt: skip
        now = T0 + timedelta(days=60)
        incidents = best(lambda: desk.safety.remind_incidents(now))
        scan = best(lambda: desk.safety.overdue_incidents(now))
        print(
            f"the tick's incident job over {records:,} closed incidents: {incidents:.2f} ms "
            f"by the schedule, {scan:.1f} ms reading them all ({scan / incidents:.0f}x)"
        )
        coaching = best(lambda: desk.appraisals.remind_follow_ups(now))
        scan = best(lambda: [f for f in desk.appraisals.follow_ups() if f.overdue(now)])
        print(
            f"the tick's coaching job over {records:,} done follow-ups: {coaching:.2f} ms "
            f"by the schedule, {scan:.1f} ms reading them all ({scan / coaching:.0f}x)"
        )

        period = "2026-12"
        members = [s.id for s in desk.staff.list()]
        once = best(lambda: desk.appraisals.appraise_all(period), runs=3)
        each = best(lambda: [desk.appraisals.appraise(m, period) for m in members], runs=3)
        print(
            f"{len(members)} members' month with {records:,} follow-ups: appraise_all "
            f"{once:.0f} ms, one by one {each:.0f} ms ({each / once:.1f}x)"
        )

        for n in range(suppliers):
            desk.parts.add_supplier(id=f"S{n}", name=f"Supplier {n}", qualified=True, by="m1",
                                    at=T0)  # fmt: skip
        orders = suppliers * 20
        stored(desk, "order", [
            (f"PO-{n}", to_dict(PurchaseOrder(f"PO-{n}", f"S{n % suppliers}",
                                              (OrderLine("SEAL-9", 5),), T0, "m1", version=1,
                                              promised=date(2026, 11, 20))))
            for n in range(orders)
        ])  # fmt: skip
        review = best(lambda: desk.parts.suppliers_to_review(), runs=3)
        one_by_one = best(lambda: [desk.parts.supplier_record(f"S{n}")
                                   for n in range(suppliers)], runs=3)  # fmt: skip
        print(
            f"{suppliers} suppliers, {orders:,} orders: suppliers_to_review {review:.0f} ms, "
            f"supplier_record one by one {one_by_one:.0f} ms ({one_by_one / review:.1f}x)"
        )
        desk.close()


if __name__ == "__main__":
    main()
