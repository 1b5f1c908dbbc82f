"""The installed base: a customer with a site, two machines, a service contract, and what
covers each fault they report (sales warranty, contract, repair warranty, chargeable).

Run: python examples/installed_base.py
"""

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import ServiceDesk, parse_policy

RULES = Path(__file__).resolve().parent.parent / "rules"
policy = parse_policy(
    (RULES / "default.policy").read_text("utf-8")
    + """
sales warranty 24 months or 2000 operating hours for line excavator
fault family "hydraulics": "HYD-PUMP", "HYD-HOSE", "HYD-VALVE"
""",
    "acme.policy",
)
t0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
desk = ServiceDesk(policy, clock=lambda: t0 + timedelta(days=30))
desk.staff.add(id="m1", name="Zhao", roles=["manager"], at=t0)
desk.staff.add(id="cs1", name="Lin", roles=["service_agent"], at=t0)
desk.staff.add(id="e7", name="Chen", roles=["engineer"], at=t0)

desk.customers.add(
    id="HL",
    name="Hengli Mining",
    tier="gold",
    region="north",
    sites=[{"id": "Q1", "address": "Quarry 1, Tangshan"}],
    contacts=[{"name": "Wang", "phone": "+86 138 0000 0000", "consent": True}],
    by="cs1",
    at=t0,
)
desk.machines.add(
    serial="EX350-0192",
    model="EX-350",
    line="excavator",
    customer="HL",
    site="Q1",
    commissioned=date(2026, 2, 1),
    hours=820,
    by="cs1",
    at=t0,
)
desk.machines.add(
    serial="EX200-0007",
    model="EX-200",
    line="excavator",
    customer="HL",
    site="Q1",
    commissioned=date(2020, 5, 1),
    hours=14200,
    by="cs1",
    at=t0,
)
desk.contracts.add(
    customer="HL",
    level="premium",
    starts=date(2026, 1, 1),
    ends=date(2026, 12, 31),
    covers=["labour", "travel"],
    machines=["EX200-0007"],
    response="4h",
    by="cs1",
    at=t0,
)

fault = {
    "fault": "boom will not lift",
    "fault_code": "HYD-PUMP",
    "severity": "major",
    "machine_down": True,
    "channel": "phone",
}
# by serial alone: the machine's record fills in its model, line and owner
young = desk.cases.report(product={"serial": "EX350-0192"}, **fault, by="cs1", at=t0)
old = desk.cases.report(product={"serial": "EX200-0007"}, **fault, by="cs1", at=t0)
for case in (young, old):
    c = case.coverage
    assert c is not None
    print(
        f"{case.number} {case.product.serial} ({case.customer.name}): {c.kind} - {c.reason}"
        f" [{c.location}]; pays {', '.join(c.covers) or 'nothing'}"
    )

desk.machines.reading("EX350-0192", 905, by="e7", at=t0 + timedelta(hours=3))
history = desk.machines.history("EX350-0192")
print(
    f"EX350-0192: {len(history.entries)} entries, latest reading "
    f"{desk.machines.get('EX350-0192').hours:g} h"
)
assert young.coverage is not None and young.coverage.kind == "sales_warranty"
assert old.coverage is not None and old.coverage.kind == "contract"
