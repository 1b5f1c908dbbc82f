"""What telling the customer costs (issue 20), on SQLite files, side by side in one run: a
case's whole life (report to close, ten actions) under the default policy with its
`tell customer` line and under the same policy without it, alternating; the repair report
as HTML and as PDF; and the month's feedback digest at size.

Run: python bench/customers_bench.py [cases per round] [rounds] [digest cases]
     (defaults: 40, 5 and 5 000)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import ServiceDesk, parse_policy
from aftersales.testing import Outbox

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "rules" / "default.policy").read_text("utf-8")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CONTACT = {"name": "Wang", "email": "wang@hengli.example", "phone": "+86 139 1111 2222",
           "language": "zh-CN", "consent": True}  # fmt: skip


def desk_for(text: str, path: Path) -> ServiceDesk:
    desk = ServiceDesk(parse_policy(text, "bench.policy"), f"sqlite:///{path}",
                       plugins=[Outbox(reaches_customers=True)], entry_points=False)  # fmt: skip
    desk.staff.add(id="m1", name="Zhao", roles=["manager"], at=T0)
    desk.staff.add(id="cs1", name="Lin", roles=["service_agent"], supervisor="m1", at=T0)
    desk.staff.add(id="e7", name="Chen", roles=["engineer"], supervisor="m1", at=T0)
    desk.customers.add(id="HL", name="Hengli Mining", contacts=[CONTACT], by="cs1", at=T0)
    return desk


def life(desk: ServiceDesk, start: datetime) -> str:
    """One case from report to close: ten actions, seven messages where the policy tells."""

    def m(minutes: float) -> datetime:
        return start + timedelta(minutes=minutes)

    cases = desk.cases
    case = cases.report(customer={"id": "HL", "name": "Hengli Mining"}, contact="Wang",
                        product={"model": "EX-350"}, fault="leak", fault_code="HYD-PUMP",
                        severity="major", channel="phone", by="cs1", at=m(0))  # fmt: skip
    cases.respond(case.id, by="cs1", at=m(1))
    cases.assign(case.id, engineer="e7", by="cs1", at=m(2))
    cases.confirm(case.id, by="e7", at=m(3))
    cases.contact(case.id, by="e7", appointment=m(60), at=m(4))
    cases.arrive(case.id, by="e7", at=m(60))
    desk.safety.checklist(case.id, ["helmet", "gloves"], by="e7", at=m(61))
    cases.diagnose(case.id, cause="seal", complexity="simple", by="e7", at=m(62))
    cases.complete(case.id, actions="new seal", result="dry", by="e7", at=m(90))
    cases.accept(case.id, signed_by="Wang", by="e7", at=m(91))
    cases.follow_up(case.id, satisfaction=4, by="cs1", at=m(200))
    cases.close(case.id, by="cs1", at=m(201))
    return case.id


def main() -> None:
    per_round = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    digest_cases = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    quiet = "\n".join(line for line in TEXT.splitlines() if not line.startswith("tell customer"))
    with tempfile.TemporaryDirectory() as folder:
        told = desk_for(TEXT, Path(folder) / "told.db")
        silent = desk_for(quiet, Path(folder) / "silent.db")
        times: dict[str, list[float]] = {"told": [], "silent": []}
        start = T0
        for _ in range(rounds):  # alternating, so both see the same machine state
            for name, desk in (("told", told), ("silent", silent)):
                began = time.perf_counter()
                for n in range(per_round):
                    life(desk, start + timedelta(minutes=300 * n))
                times[name].append((time.perf_counter() - began) / per_round * 1000)
            start += timedelta(minutes=300 * per_round)
        a, b = statistics.median(times["told"]), statistics.median(times["silent"])
        print(f"a case's life, report to close (ten actions), median of {rounds} rounds of "
              f"{per_round}:")  # fmt: skip
        print(f"  telling the customer (7 messages, the report as PDF): {a:.2f} ms")
        print(f"  telling nobody (the policy without tell customer):    {b:.2f} ms")
        print(f"  ratio: {a / b:.2f}x")
        case_id = told.cases.find(limit=1)[0].id
        for fmt in ("html", "pdf"):
            runs = []
            for _ in range(20):
                began = time.perf_counter()
                told.cases.report_document(case_id, format=fmt)
                runs.append((time.perf_counter() - began) * 1000)
            print(f"the repair report as {fmt}: {statistics.median(runs):.2f} ms (median of 20)")
        month_db = f"sqlite:///{Path(folder) / 'month.db'}"
        month = ServiceDesk(parse_policy(quiet, "bench.policy"), month_db, entry_points=False)
        month.staff.add(id="cs1", name="Lin", roles=["service_agent"], at=T0)
        month.staff.add(id="e7", name="Chen", roles=["engineer"], at=T0)
        for n in range(digest_cases):
            case = month.cases.report(
                customer={"name": f"Customer {n % 97}"}, product={"model": f"M-{n % 13}"},
                fault="leak", fault_code=f"F-{n % 29}", severity="minor", channel="phone",
                by="cs1", at=T0 + timedelta(minutes=7 * n),
            )  # fmt: skip
            if n % 3 == 0:
                month.cases.respond(case.id, by="cs1", at=T0 + timedelta(minutes=7 * n + 1))
        for by in ("fault_code", "engineer"):
            began = time.perf_counter()
            rows = month.feedback.digest("2026-11", per=by)
            took = (time.perf_counter() - began) * 1000
            print(f"the feedback digest of {digest_cases:,} cases by {by}: {took:.0f} ms "
                  f"({len(rows)} rows)")  # fmt: skip
        for desk in (told, silent, month):
            desk.close()


if __name__ == "__main__":
    main()
