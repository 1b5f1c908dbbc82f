"""Spare parts from purchase to use on a case: order, inspect and receive, request, approve,
issue to the engineer's van, use in the repair, return the rest, count the shelf.

Run: python examples/parts.py
"""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import ServiceDesk

RULES = Path(__file__).resolve().parent.parent / "rules"
desk = ServiceDesk(RULES / "default.policy")  # memory:// by default
for staff_id, name, roles in [
    ("m1", "Zhao", ["manager"]),
    ("cs1", "Lin", ["service_agent"]),
    ("e7", "Chen", ["engineer"]),
    ("sk1", "Ma", ["storekeeper"]),
]:
    desk.staff.add(id=staff_id, name=name, roles=roles)

t0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def t(minutes: int) -> datetime:
    return t0 + timedelta(minutes=minutes)


parts = desk.parts
parts.add_location(id="WH", name="Main warehouse", by="sk1", at=t(0))
parts.add_location(id="VAN7", name="Chen's van", kind="van", engineer="e7", by="sk1", at=t(0))
parts.add_supplier(id="ACME", name="Acme Seals", by="sk1", at=t(0))
parts.qualify("ACME", by="m1", at=t(1))  # only qualified suppliers are ordered from
parts.add_part(sku="SEAL-9", name="Pump seal", category="seals", unit_cost="12.50",
               reorder_point=5, reorder_quantity=20, by="sk1", at=t(1))  # fmt: skip
parts.add_part(sku="PUMP-1", name="Hydraulic pump", category="pumps", unit_cost="2000",
               reorder_point=1, reorder_quantity=2, by="sk1", at=t(1))  # fmt: skip

# 1. What to buy: the purchase plan follows the policy's "reorder when on_hand <= reorder_point".
for line in parts.purchase_plan(at=t(2)):
    print(f"plan: order {line.quantity} x {line.sku} (on hand {line.on_hand})")
    order = parts.order("ACME", [{"sku": line.sku, "quantity": line.quantity, "price": "95"}],
                        promised=t(2).date() + timedelta(days=7), payment_terms="30 days net",
                        by="sk1", at=t(2))  # fmt: skip
    # 2. The delivery is inspected as the policy says ("inspect incoming quantity, ...").
    checks = {"quantity": True, "specification": True, "quality": line.sku != "PUMP-1"}
    if checks["quality"]:
        parts.receive(line.sku, line.quantity, location="WH", supplier="ACME", inspection=checks,
                      po=order.id, by="sk1", at=t(60))  # fmt: skip
    else:
        parts.receive(line.sku, line.quantity, location="WH", supplier="ACME", inspection=checks,
                      accepted=1, reason="one housing cracked", po=order.id, by="sk1",
                      at=t(60))  # fmt: skip
print("stock:", parts.stock())
print("rejected at inspection:", [i["rejected"] for i in parts.inspections("ACME")])

# 3. A case: the engineer needs a pump and seals.
case = desk.cases.report(customer={"name": "Hengli Mining", "tier": "gold"},
                         product={"model": "EX-350", "serial": "EX350-0192"},
                         fault="pump leaking", fault_code="HYD-PUMP", severity="major",
                         machine_down=True, channel="phone", by="cs1", at=t(100))  # fmt: skip
desk.cases.respond(case.id, by="cs1", at=t(105))
desk.cases.assign(case.id, engineer="e7", by="cs1", at=t(110))
desk.cases.confirm(case.id, by="e7", at=t(115))
desk.cases.contact(case.id, by="e7", at=t(120), appointment=t(240))
desk.cases.arrive(case.id, by="e7", at=t(240))
desk.safety.checklist(case.id, ["helmet", "gloves"], by="e7", at=t(240))
desk.cases.diagnose(case.id, by="e7", at=t(250), cause="worn pump", complexity="simple")

lines = [{"sku": "PUMP-1", "quantity": 1}, {"sku": "SEAL-9", "quantity": 4}]
req = parts.request(case.id, lines, by="e7", at=t(255))
print(f"requisition worth {req.value}: waiting for {req.waiting_for} ({req.rule})")
parts.approve(req.id, by="m1", at=t(260))  # "approve requisition by manager when value > 2000 CNY"
parts.issue(req.id, from_location="WH", by="sk1", at=t(270))  # to Chen's van

# 4. The repair uses the pump and two seals; two seals go back to the warehouse.
used = [{"sku": "PUMP-1", "quantity": 1}, {"sku": "SEAL-9", "quantity": 2}]
desk.cases.complete(case.id, by="e7", at=t(330), actions="replaced pump and seals",
                    result="no leak under load", parts_used=used)  # fmt: skip
parts.return_parts(
    case.id, [{"sku": "SEAL-9", "quantity": 2}], to_location="WH", by="e7", at=t(400)
)
ledger = parts.case_parts(case.id)
print("case used:", ledger.consumed, "returned:", ledger.returned)

# 5. A month on, the warehouse is counted; a variance is settled with the manager's approval.
sheet = parts.count("WH", {"SEAL-9": 17, "PUMP-1": 0}, by="sk1", at=t(0) + timedelta(days=30))
for line in sheet.variances:
    print(f"count: {line.sku} books {line.book}, shelf {line.counted}")
parts.settle(sheet.id, reason="two seals found damaged", approved_by="m1", by="sk1")
total, by_category = parts.valuation()
print("valuation:", total, dict(by_category))
print("SEAL-9 movements:", [m.type for m in parts.movements("SEAL-9")])
