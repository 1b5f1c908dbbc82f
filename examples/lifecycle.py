"""One repair from the customer's call to the close, on a SQLite file.

Run: python examples/lifecycle.py [path/to/service.db]   (default: a temporary file)
"""

import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import (
    PermissionDenied,
    ServiceDesk,
    WorkflowError,
    load_policy,
    to_dict,
)
from aftersales.testing import Outbox

RULES = Path(__file__).resolve().parent.parent / "rules"
db = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "service.db"

policy = load_policy(RULES / "default.policy")
outbox = Outbox()  # collects notifications; production desks use notifier plugins
desk = ServiceDesk(policy, storage=f"sqlite:///{db.resolve()}", plugins=[outbox])

desk.staff.add(id="m1", name="Zhao", roles=["manager"])
desk.staff.add(id="cs1", name="Lin", roles=["service_agent"], supervisor="m1")
desk.staff.add(id="e7", name="Chen", roles=["engineer"], supervisor="m1")

t0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def t(minutes: int) -> datetime:
    return t0 + timedelta(minutes=minutes)


case = desk.cases.report(
    customer={"name": "Hengli Mining", "tier": "gold", "region": "north"},
    product={"model": "EX-350", "line": "excavator", "serial": "EX350-0192"},
    fault="hydraulic pump leaking, boom will not lift",
    fault_code="HYD-PUMP",
    severity="major",
    machine_down=True,
    channel="phone",
    contact="+86 138 0000 0000",
    by="cs1",
    at=t(0),
)
print(f"{case.number}: priority {case.priority} ({case.priority_location})")

desk.cases.respond(case.id, by="cs1", at=t(5))
desk.cases.assign(case.id, engineer="e7", by="cs1", at=t(10), instructions="bring seal kit")
print("notified:", [(n.kind, n.recipients) for n in outbox.notifications])

try:
    desk.cases.arrive(case.id, by="e7", at=t(12))  # too early: not confirmed, not contacted
except WorkflowError as exc:
    print("refused:", exc)

desk.cases.confirm(case.id, by="e7", at=t(15))
desk.cases.contact(case.id, by="e7", at=t(20), appointment=t(150))
desk.cases.arrive(case.id, by="e7", at=t(150))
try:  # the policy says "require ppe helmet, gloves before work"
    desk.cases.diagnose(case.id, by="e7", at=t(155), cause="?", complexity="simple")
except WorkflowError as exc:
    print("refused:", exc)
desk.safety.checklist(case.id, ["helmet", "gloves"], by="e7", at=t(155))
desk.cases.diagnose(case.id, by="e7", at=t(160), cause="worn pump seal", complexity="simple")
desk.cases.complete(
    case.id,
    by="e7",
    at=t(220),
    actions="replaced seal",
    parts_used=[{"sku": "SEAL-9", "quantity": 1}],
    result="lifts full load, no leak after 30 min test",
)

# The customer refuses the first repair: it goes back to be repaired again.
desk.cases.reject(
    case.id, signed_by="Wang (site manager)", by="e7", reason="drips at rest", at=t(230)
)
desk.cases.complete(case.id, by="e7", at=t(290), actions="replaced pump", result="dry after 1 h")
desk.cases.accept(case.id, signed_by="Wang (site manager)", by="e7", at=t(300))

try:
    desk.cases.follow_up(case.id, by="e7", at=t(2000), satisfaction=5)  # engineers do not
except PermissionDenied as exc:
    print("refused:", exc)

desk.cases.follow_up(case.id, by="cs1", at=t(2000), satisfaction=4, comments="second visit")
case = desk.cases.close(case.id, by="cs1", at=t(2010))

print(f"{case.number}: {case.status}, version {case.version}, {case.rejection_count} rejection")
for event in desk.cases.history(case.id):
    print(f"  {event.version:2} {event.type:12} {event.at:%a %H:%M} by {event.by}")
print("JSON keys:", ", ".join(list(to_dict(case))[:6]), "...")
desk.close()
