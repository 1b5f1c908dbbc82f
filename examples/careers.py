"""A career: placed on the ladder, a month appraised, promoted on it, rotated, and the record.

Run: python examples/careers.py
"""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import ServiceDesk

RULES = Path(__file__).resolve().parent.parent / "rules"
# the company's own ladder (default: engineer, senior_engineer, supervisor, manager)
desk = ServiceDesk(RULES / "default.policy",
                   levels=["technician", "engineer", "senior_engineer", "team_lead"])  # fmt: skip
t0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
desk.staff.add(id="m1", name="Zhao", roles=["manager"], at=t0)
desk.staff.add(id="e7", name="Chen", roles=["engineer"], supervisor="m1", level="technician",
               at=t0)  # fmt: skip

# November, rated by the supervisor and finalized by the manager
for indicator in ("performance", "attitude", "skills"):
    desk.appraisals.rate("e7", period="2026-11", source="supervisor", indicator=indicator,
                         score=92, by="m1", at=t0 + timedelta(days=20))  # fmt: skip
desk.appraisals.finalize("2026-11", by="m1", at=t0 + timedelta(days=30))

promoted = desk.staff.promote("e7", to="engineer", by="m1", reason="a strong first year",
                              at=t0 + timedelta(days=31))  # fmt: skip
basis = promoted.promotions[-1].appraisals
print(f"{promoted.id} is now {promoted.level}; on record: "
      + ", ".join(f"{a.period} {a.score} ({a.grade})" for a in basis))  # fmt: skip

desk.staff.rotate("e7", to="spare parts store", start=t0 + timedelta(days=35),
                  end=t0 + timedelta(days=65), reason="learn the stock", by="m1")  # fmt: skip
record = desk.staff.record("e7")
print("ladder:", " -> ".join(record.levels))
print("rotations:", [(r.assignment, f"{r.start:%Y-%m-%d}") for r in record.rotations])
print("appraisals:", [(a.period, a.grade) for a in record.appraisals],
      "outcomes:", [o.kind for o in record.outcomes])  # fmt: skip
