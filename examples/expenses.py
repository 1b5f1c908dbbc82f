"""An expense claim from a site visit to its payment.

Run: python examples/expenses.py
"""

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import ServiceDesk

RULES = Path(__file__).resolve().parent.parent / "rules"
desk = ServiceDesk(RULES / "default.policy")
for staff_id, name, roles in [("m1", "Zhao", ["manager"]), ("f1", "Sun", ["finance"]),
                              ("e7", "Chen", ["engineer"])]:  # fmt: skip
    desk.staff.add(id=staff_id, name=name, roles=roles)
when = datetime(2026, 11, 25, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

claim = desk.expenses.draft(
    [
        {"category": "lodging", "amount": "900", "date": date(2026, 11, 24), "nights": 2,
         "invoice": "HZ-20261124-17"},
        {"category": "meals", "amount": "96", "date": date(2026, 11, 24), "days": 1,
         "invoice": "HZ-20261124-18"},
        {"category": "transport", "amount": "120", "currency": "USD", "rate": "7.10",
         "date": date(2026, 11, 23), "invoice": "UA-88812"},
    ],
    by="e7",
    at=when,
)  # fmt: skip
claim = desk.expenses.submit(claim.id, by="e7", at=when)
print(f"{claim.id}: {claim.total} CNY, chain {' then '.join(claim.chain)} ({claim.rule})")
for finding in claim.findings:
    print(f"  line {finding.line}: {finding.message} ({finding.rule})")

claim = desk.expenses.reject(claim.id, by="m1", reason="lodging over the limit: explain", at=when)
corrected = [
    {"category": "lodging", "amount": "800", "date": date(2026, 11, 24), "nights": 2,
     "invoice": "HZ-20261124-17"},
    {"category": "meals", "amount": "96", "date": date(2026, 11, 24), "days": 1,
     "invoice": "HZ-20261124-18"},
]  # fmt: skip
claim = desk.expenses.edit(claim.id, corrected, by="e7", at=when)  # the taxi goes on its own claim
claim = desk.expenses.submit(claim.id, by="e7", at=when)
claim = desk.expenses.approve(claim.id, by="m1", at=when)
claim = desk.expenses.approve(claim.id, by="f1", at=when)
claim = desk.expenses.pay(claim.id, by="f1", at=when)
print(f"{claim.id}: {claim.status}, {len(claim.findings)} finding(s) left")
print([e["type"] for e in desk.expenses.history(claim.id)])
for row in desk.expenses.report(date(2026, 11, 1), date(2026, 12, 1), by="category"):
    print(f"  {row['group']:10} {row['total']:>8} CNY  {row['lines']} line(s)")
