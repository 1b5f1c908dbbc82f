"""Keeping the customer informed, and hearing back: the messages a case's contact gets in
their language, a delay notice that counts because it reached them, the repair report as a
PDF, a survey answered through its signed link, the complaint a low score opens, and the
month's feedback digest.

Run: python examples/customers.py
"""

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import ServiceDesk
from aftersales.testing import Outbox

RULES = Path(__file__).resolve().parent.parent / "rules"
tz = ZoneInfo("Asia/Shanghai")
t0 = datetime(2026, 11, 23, 9, 0, tzinfo=tz)  # a Monday


def at(hours: float) -> datetime:
    return t0 + timedelta(hours=hours)


# stands in for the mail server or SMS gateway: it confirms each message reached the customer
gateway = Outbox(reaches_customers=True)
desk = ServiceDesk(RULES / "default.policy", plugins=[gateway])
desk.staff.add(id="m1", name="Zhao", roles=["manager"], at=t0)
desk.staff.add(id="cs1", name="Lin", roles=["service_agent"], supervisor="m1", at=t0)
desk.staff.add(id="e7", name="Chen", roles=["engineer"], supervisor="m1", at=t0)
CONTACT = {"name": "王工", "email": "wang@hengli.example", "phone": "+86 139 1111 2222",
           "language": "zh-CN", "channel": "sms", "consent": True}  # fmt: skip
desk.customers.add(
    id="HL",
    name="Hengli Mining",
    contacts=[CONTACT],
    by="cs1",
    at=t0,
)

case = desk.cases.report(
    customer={"id": "HL", "name": "Hengli Mining"},
    contact="王工",
    product={"model": "EX-350", "serial": "EX350-0192"},
    fault="boom will not lift",
    fault_code="HYD-PUMP",
    severity="critical",
    machine_down=True,
    channel="phone",
    by="cs1",
    at=t0,
)
desk.cases.respond(case.id, by="cs1", at=at(0.1))
desk.cases.assign(case.id, engineer="e7", by="cs1", at=at(0.2))
desk.cases.confirm(case.id, by="e7", at=at(0.3))
desk.cases.contact(case.id, appointment=at(6), by="e7", at=at(0.5))
# the road is closed: the customer is told by the policy's message, which the gateway delivers
desk.cases.notify_delay(case.id, milestone="arrival", reason="the mountain road is closed",
                        new_eta=at(10), by="e7", at=at(3))  # fmt: skip
desk.cases.on_the_way(case.id, eta=at(9.5), by="e7", at=at(7))
desk.cases.arrive(case.id, by="e7", at=at(9.5))
clock = {c.milestone: c for c in desk.cases.sla(case.id, now=at(9.5))}["arrival"]
print(f"arrival: {clock.state}, by the notice that reached them at "
      f"{clock.excuse.reached_at:%H:%M}" if clock.excuse and clock.excuse.reached_at
      else f"arrival: {clock.state}")  # fmt: skip

desk.safety.checklist(case.id, ["helmet", "gloves"], by="e7", at=at(9.6))
desk.cases.diagnose(case.id, cause="worn pump seal", complexity="simple", by="e7", at=at(10))
desk.product_problems.record(case.id, part="SEAL-9", evidence="lip cut by a housing burr",
                             by="e7", at=at(10.1))  # fmt: skip
desk.cases.complete(case.id, actions="replaced the seal", result="full load, no leak",
                    parts_used=[{"sku": "SEAL-9", "serials": ["S-77"]}], by="e7",
                    at=at(11))  # fmt: skip
desk.cases.accept(case.id, signed_by="王工", by="e7", at=at(11.2))
with tempfile.TemporaryDirectory() as folder:
    pdf = Path(folder) / f"{case.number}.pdf"
    pdf.write_bytes(desk.cases.report_document(case.id))
    print(f"repair report: {pdf.stat().st_size:,} bytes of PDF")
desk.cases.follow_up(case.id, satisfaction=4, by="cs1", at=at(24))
desk.cases.close(case.id, by="cs1", at=at(24.1))

for note in gateway.notifications:
    if note.to is not None:
        print(f"{note.kind:22} {note.to.channel:5} {note.subject}")

[survey] = gateway.of("customer_survey")
token = (survey.text or "").split("token=")[1].split()[0]
answered = desk.cases.answer_survey(token, satisfaction=2, comments="三天才修好", at=at(48))
for complaint in desk.complaints.list():
    print(f"complaint {complaint.id} ({complaint.source}): {complaint.summary}; "
          f"owner {complaint.owner}, respond by {complaint.respond_by:%m-%d %H:%M}")  # fmt: skip
for row in desk.feedback.digest("2026-11", per="fault_code"):
    print(
        f"feedback {row.key}: {row.cases} case(s), {row.complaints} complaint(s), "
        f"satisfaction {row.satisfaction}, {row.product_problems} product problem(s)"
    )
