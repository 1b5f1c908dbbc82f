"""Safety on site: the checklist before work, an overdue tool, and an incident.

Run: python examples/safety.py
"""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import PermissionDenied, ServiceDesk, WorkflowError

RULES = Path(__file__).resolve().parent.parent / "rules"
desk = ServiceDesk(RULES / "default.policy")  # require ppe helmet, gloves before work
TEAM = [("m1", "Zhou", "manager"), ("cs1", "Li", "service_agent"), ("sk1", "Ma", "storekeeper"),
        ("e7", "Chen", "engineer")]  # fmt: skip
for staff_id, name, role in TEAM:
    desk.staff.add(id=staff_id, name=name, roles=[role])
t0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def t(minutes: int) -> datetime:
    return t0 + timedelta(minutes=minutes)


# 1. The checklist: no diagnosis until the engineer has checked the gear the policy lists.
case = desk.cases.report(customer={"name": "Hengli Mining", "tier": "gold"},
                         product={"model": "EX-350", "serial": "EX350-0192"},
                         fault="boom drifts down", severity="major", machine_down=True,
                         channel="phone", by="cs1", at=t(0))  # fmt: skip
desk.cases.respond(case.id, by="cs1", at=t(5))
desk.cases.assign(case.id, engineer="e7", by="cs1", at=t(10))
desk.cases.confirm(case.id, by="e7", at=t(15))
desk.cases.contact(case.id, by="e7", at=t(20), appointment=t(120))
desk.cases.arrive(case.id, by="e7", at=t(120))
try:
    desk.cases.diagnose(case.id, by="e7", at=t(125), cause="?", complexity="simple")
except WorkflowError as exc:
    print("refused:", exc)
desk.safety.checklist(case.id, ["helmet", "gloves"], by="e7", at=t(121))
case = desk.cases.diagnose(case.id, by="e7", at=t(125), cause="valve seat", complexity="simple")
print(f"{case.number}: {case.status} after {case.safety_checks[-1].items}")

# 2. Tools: inspected every 6 months; an overdue one stays on the shelf.
desk.safety.add_tool(id="TW-1", name="Torque wrench", inspected=t0 - timedelta(days=200),
                     by="sk1", at=t(0))  # fmt: skip
try:
    desk.safety.check_out("TW-1", engineer="e7", by="sk1", at=t(30))
except PermissionDenied as exc:
    print("refused:", exc)
print("tick sent:", [n.kind for n in desk.sla.tick(now=t(31))])
desk.safety.inspect("TW-1", by="sk1", at=t(40))
print("checked out to", desk.safety.check_out("TW-1", engineer="e7", by="sk1", at=t(41)).holder)

# 3. An incident reported two days later is late ("report incidents within 24 hours").
incident = desk.safety.report_incident(
    happened_at=t(130), severity="minor", description="cut finger on a seal edge", by="e7",
    people=["e7"], case_id=case.id, at=t(130 + 48 * 60),
)  # fmt: skip
desk.safety.add_action(incident.id, description="cut-resistant gloves in every van",
                       owner="sk1", by="m1", at=t(49 * 60))  # fmt: skip
print(f"{incident.id}: late={incident.late}, open actions:",
      len(desk.safety.incidents(open_only=True)[0].open_actions))  # fmt: skip
desk.safety.complete_action(incident.id, 0, by="sk1", at=t(50 * 60))
print("open incidents after the action:", len(desk.safety.incidents(open_only=True)))
