"""Certificates a case needs: an assessment, a retake, the certificate, and an assignment.

Run: python examples/training.py
"""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import PermissionDenied, ServiceDesk

RULES = Path(__file__).resolve().parent.parent / "rules"
desk = ServiceDesk(RULES / "rhine-pumps.policy")  # requires "ATEX" when custom.hazardous
for staff_id, name, roles in [("m1", "Vogel", ["manager"]), ("cs1", "Lang", ["service_agent"]),
                              ("e9", "Brandt", ["engineer"])]:  # fmt: skip
    desk.staff.add(id=staff_id, name=name, roles=roles)
t0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))

# theory 30%, practical 50%, case study 20%; pass at 70; retake at most 2 times
good = {"theory": 90, "practical": 85, "case_study": 80}
first = desk.training.assess("e9", certificate="first aid", scores=good, by="m1", at=t0)
# the annual plan: an ATEX course with a session in two weeks, where failed attempts retake
desk.training.add_course(id="ATEX-26", title="Pumps in hazardous areas", year=2026,
                         area="safety", method="external", trainer="TÜV Rheinland",
                         certificate="ATEX", by="m1", at=t0)  # fmt: skip
session = desk.training.schedule("ATEX-26", starts_at=t0 + timedelta(days=14), hours=16,
                                 place="Köln", by="m1", at=t0)  # fmt: skip

weak = {"theory": 80, "practical": 60, "case_study": 70}
atex = desk.training.assess("e9", certificate="ATEX", scores=weak, by="m1", at=t0)
print(f"ATEX attempt {atex.attempt}: {atex.score} -> {'pass' if atex.passed else 'fail'}, "
      f"retake booked on {atex.retake_session}")  # fmt: skip

case = desk.cases.report(customer={"name": "Stadtwerke Köln", "tier": "gold"},
                         product={"model": "HP-200", "line": "pump", "serial": "HP200-77"},
                         fault="seal leaking on a hazardous-area pump", fault_code="SEAL-HZ",
                         severity="major", machine_down=True, channel="phone",
                         custom={"hazardous": True}, by="cs1",
                         at=t0 + timedelta(days=1))  # fmt: skip
desk.cases.respond(case.id, by="cs1", at=t0 + timedelta(days=1, minutes=5))
try:
    desk.cases.assign(case.id, engineer="e9", by="cs1", at=t0 + timedelta(days=1, minutes=10))
except PermissionDenied as exc:
    print("refused:", exc)

retake = desk.training.assess("e9", certificate="ATEX",
                              scores={"theory": 85, "practical": 80, "case_study": 75}, by="m1",
                              at=t0 + timedelta(days=1, minutes=20))  # fmt: skip
cert = desk.training.record("e9").valid("ATEX", t0 + timedelta(days=1, minutes=30))
print(
    f"ATEX attempt {retake.attempt}: {retake.score} -> pass; valid until {cert.expires_at:%Y-%m-%d}"
)
assigned = desk.cases.assign(
    case.id, engineer="e9", by="cs1", at=t0 + timedelta(days=1, minutes=30)
)
print(f"{assigned.number} assigned to {assigned.engineer}")
