"""``appraise_all`` for 1 000 staff over one month, with 200 000 cases in a SQLite store.

Run: python bench/appraisal_bench.py [staff] [cases]   (defaults: 1 000 and 200 000)
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from aftersales import ServiceDesk, to_dict
from aftersales.core.model import CaseEvent
from aftersales.core.workflow import fold
from aftersales.ports.storage import CaseIndex, utc_text

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "rules" / "rhine-pumps.policy"  # measures performance with four metrics
START = datetime.fromisoformat("2025-01-06T08:00+01:00")
PERIOD = "2026-11"


def main() -> None:
    staff = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    start = datetime.fromisoformat(sys.argv[3]) if len(sys.argv) > 3 else START
    rng = random.Random(9)
    with tempfile.TemporaryDirectory() as tmp:
        desk = ServiceDesk(POLICY, f"sqlite:///{Path(tmp) / 'a.db'}", entry_points=False)
        desk.staff.add(id="m1", name="Manager", roles=["manager"], at=START)
        desk.staff.add(id="cs1", name="Agent", roles=["service_agent"], at=START)
        engineers = [f"e{n:04d}" for n in range(staff)]
        for e in engineers:
            desk.staff.add(id=e, name=e, roles=["engineer"], supervisor="m1", at=START)
        # the template's engineer holds what the policy requires of whoever is assigned
        training = desk.policy.training
        full = {part.name: 100 for part in training.assessment} if training else {}
        for rule in training.certificates if training else ():
            desk.training.assess("e0000", certificate=rule.certificate, scores=full, by="m1",
                                 at=START)  # fmt: skip
        gear = list(desk.policy.safety.ppe) if desk.policy.safety else []
        template_case = desk.cases.report(
            customer={"name": "R", "tier": "gold"}, product={"model": "P", "serial": "S0"},
            fault="pump noisy", fault_code="BRG", severity="major", machine_down=False,
            channel="phone", by="cs1", at=START,
        )  # fmt: skip
        c, t = desk.cases, START
        for step in ("respond", "assign", "confirm", "contact", "arrive", "checklist",
                     "diagnose", "complete", "accept", "follow_up"):  # fmt: skip
            t += timedelta(minutes=30)
            kwargs: dict = {
                "by": "e0000" if step not in ("respond", "assign", "follow_up") else "cs1",
                "at": t,
            }
            if step == "assign":
                kwargs["engineer"] = "e0000"
            if step == "contact":
                kwargs["appointment"] = t + timedelta(minutes=30)
            if step == "checklist":
                desk.safety.checklist(template_case.id, gear, **kwargs)
                continue
            if step == "diagnose":
                kwargs.update(cause="bearing", complexity="simple")
            if step == "complete":
                kwargs.update(actions="new bearing", result="quiet")
            if step == "accept":
                kwargs["signed_by"] = "W"
            if step == "follow_up":
                kwargs["satisfaction"] = 5
            getattr(c, step)(template_case.id, **kwargs)
        template = desk.cases.history(template_case.id)
        span = (datetime.fromisoformat("2026-12-01T00:00+01:00") - start).total_seconds() / 60
        started = time.perf_counter()
        batch = 2000
        for first in range(0, total, batch):
            with desk.storage.transaction() as tx:
                for i in range(first, min(total, first + batch)):
                    shift = (start - START) + timedelta(minutes=rng.randrange(int(span) - 600))
                    engineer = engineers[rng.randrange(staff)]
                    case_id = str(uuid.uuid4())
                    events = []
                    for e in template:
                        data = dict(e.data)
                        if e.type == "reported":
                            data["number"] = f"AS-B-{i:07d}"
                            data["product"] = {**data["product"], "serial": f"S{i}"}
                        elif e.type == "assigned":
                            data["engineer"] = engineer
                        if e.type == "followed_up":
                            data["satisfaction"] = rng.choice([3, 4, 5, 5])
                        by = engineer if e.by == "e0000" else e.by
                        events.append(CaseEvent(case_id, e.version, e.type, e.at + shift, by, data))
                    case = fold(events)
                    stored = [{"version": e.version, "type": e.type, "at": e.at.isoformat(),
                               "by": e.by, "data": e.data} for e in events]  # fmt: skip
                    index = CaseIndex(
                        case.number, case.status, case.engineer, utc_text(case.reported_at),
                        case.product.serial, case.fault_code,
                        utc_text(case.milestones["accepted"]), case.priority, None,
                        utc_text(case.follow_up.at) if case.follow_up else None,
                    )  # fmt: skip
                    tx.append("case", case_id, 0, stored, to_dict(case), index)
        seeded = time.perf_counter() - started
        for e in engineers:
            for indicator in ("attitude", "skills"):
                desk.appraisals.rate(e, period=PERIOD, source="supervisor", indicator=indicator,
                                     score=rng.randrange(50, 100), by="m1", at=START)  # fmt: skip
        if "--profile" in sys.argv:
            import cProfile
            import pstats

            call = "desk.appraisals.appraise_all(PERIOD)"
            cProfile.runctx(call, globals(), locals(), "/tmp/ap.prof")
            pstats.Stats("/tmp/ap.prof").sort_stats("cumulative").print_stats(30)
            return
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            results = desk.appraisals.appraise_all(PERIOD)
            best = min(best, time.perf_counter() - started)
        graded = sum(1 for r in results if r.grade is not None)
        print(
            f"appraise_all, {staff:,} staff, {total:,} cases stored  {best:8.2f} s  "
            f"best of 3; {graded:,} graded; target < 5 s  (seeding took {seeded:.0f} s)"
        )
        desk.close()


if __name__ == "__main__":
    main()
