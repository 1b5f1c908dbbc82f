"""The permission matrix: every action that takes ``by=``, called by a member of each role
who has nothing else to do with the record, is allowed exactly when
``aftersales.core.permissions.PERMISSIONS`` says so. A new action without a row in the table,
or without a situation here, fails this file."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from conftest import REPORT, RULES, T0, add_team, at, certify

from adversarial.test_firewall import ALL_PASSED, LINE, case_at
from aftersales import AftersalesError, PermissionDenied, ServiceDesk, parse_policy
from aftersales.core.model import ROLES
from aftersales.core.permissions import NOT_ACTORS, PERMISSIONS

SERVICES = ("cases", "parts", "expenses", "staff", "appraisals", "safety", "training",
            "notifications", "sla", "customers", "machines", "contracts", "complaints",
            "product_problems", "tokens")  # fmt: skip


def actions_taking_by() -> set[str]:
    found = set()
    desk = ServiceDesk(RULES / "default.policy", "memory://")
    for service in SERVICES:
        obj = getattr(desk, service)
        for name, member in inspect.getmembers(type(obj), inspect.isfunction):
            if name.startswith("_"):
                continue
            params = inspect.signature(member).parameters
            if "by" in params or "approved_by" in params:
                found.add(f"{service}.{name}")
    return found - NOT_ACTORS


def test_every_action_that_names_its_actor_has_a_row_and_a_situation() -> None:
    actions = actions_taking_by()
    assert actions - set(PERMISSIONS) == set(), "add a row to core/permissions.py"
    assert set(PERMISSIONS) - actions == set(), "a row names no action"
    assert set(PERMISSIONS) - set(SITUATIONS) == set(), "add a situation to this file"


HOLDS = (RULES / "default.policy").read_text("utf-8") + (
    "\nhold when waiting for parts\nresolve remotely by service_agent, engineer\n"
)

TERMS = {"promised": date(2027, 12, 31), "payment_terms": "30 days net"}


def world() -> ServiceDesk:
    desk = ServiceDesk(parse_policy(HOLDS, "holds.policy"), "memory://",
                       clock=lambda: T0 + timedelta(days=90))  # fmt: skip
    add_team(desk)
    desk.staff.add(id="m2", name="Qian", roles=["manager"], at=T0)
    desk.staff.add(id="fin", name="Fan", roles=["finance"], at=T0)
    for role in ROLES:
        desk.staff.add(id=f"r_{role}", name=f"Member {role}", roles=[role], at=T0)
    certify(desk, "r_engineer")
    desk.staff.add(id="e9", name="Sun", roles=["engineer"], team="north", at=T0)
    desk.parts.add_location(id="WH", name="Main", by="sk1", at=at(0))
    desk.parts.add_location(id="VAN7", name="Van", kind="van", engineer="e7", by="sk1", at=at(0))
    desk.parts.add_supplier(id="ACME", name="Acme", qualified=True, by="m1", at=at(0))
    desk.parts.add_part(sku="SEAL-9", name="Seal", category="seals", unit_cost="12.5", by="sk1",
                        at=at(0))  # fmt: skip
    desk.parts.add_part(sku="PUMP", name="Pump", category="pumps", unit_cost="3000", by="sk1",
                        at=at(0))  # fmt: skip
    for sku in ("SEAL-9", "PUMP"):
        desk.parts.receive(sku, 50, location="WH", supplier="ACME", inspection=ALL_PASSED,
                           by="sk1", at=at(1))  # fmt: skip
    desk.safety.add_tool(id="TW", name="Wrench", inspected=at(0), by="sk1")
    desk.customers.add(id="CU1", name="Acme Quarry", sites=[{"id": "S1"}], by="m1", at=at(0))
    desk.machines.add(serial="M-1", model="EX-350", line="excavator", customer="CU1",
                      commissioned=date(2025, 1, 1), by="m1", at=at(0))  # fmt: skip
    desk.contracts.add(id="SC-1", customer="CU1", level="premium", starts=date(2026, 1, 1),
                       ends=date(2026, 12, 31), by="m1", at=at(0))  # fmt: skip
    desk.training.add_course(id="HYD", title="Hydraulics", year=2026, area="repair_skills",
                             method="internal", trainer="m1", certificate="hydraulics",
                             by="m1")  # fmt: skip
    return desk


def _claim(d: ServiceDesk, submitted: bool = False, approved: bool = False) -> str:
    claim = d.expenses.draft([{**LINE, "invoice": uuid.uuid4().hex}], by="e7", at=at(5))
    if submitted or approved:
        d.expenses.submit(claim.id, by="e7", at=at(6))
    if approved:
        d.expenses.approve(claim.id, by="m1", at=at(7))
        if d.expenses.get(claim.id).status != "approved":
            d.expenses.approve(claim.id, by="fin", at=at(8))
    return claim.id


def _requisition(d: ServiceDesk) -> str:  # 3,000 CNY: the chain waits for a manager
    case = case_at(d, "diagnosed")
    return d.parts.request(case, [{"sku": "PUMP", "quantity": 1}], by="e7", at=at(140)).id


def _issued_case(d: ServiceDesk) -> str:
    case = case_at(d, "diagnosed")
    req = d.parts.request(case, [{"sku": "SEAL-9", "quantity": 2}], by="e7", at=at(140))
    d.parts.issue(req.id, from_location="WH", by="sk1", at=at(141))
    return case


def _incident(d: ServiceDesk, with_action: bool = False) -> str:
    inc = d.safety.report_incident(happened_at=at(100), severity="minor", description="cut",
                                   by="e8", at=at(110))  # fmt: skip
    if with_action:
        d.safety.add_action(inc.id, description="gloves", owner="e8", by="m1", at=at(111))
    return inc.id


def _review(d: ServiceDesk) -> tuple[str, str]:
    if d.appraisals.is_finalized("2026-10"):
        return "e8", "2026-10"
    for period in ("2026-08", "2026-09", "2026-10"):
        for indicator in ("performance", "attitude", "skills"):
            d.appraisals.rate("e8", period=period, source="supervisor", indicator=indicator,
                              score=30, by="m1", at=at(1))  # fmt: skip
        if not d.appraisals.is_finalized(period):
            d.appraisals.finalize(period, by="m1", at=at(2))
    return "e8", "2026-10"


def _rotated(d: ServiceDesk) -> datetime:
    """e8 on an open rotation; returns a time to end it at."""
    rotations = d.staff.get("e8").rotations
    if not rotations or rotations[-1].end is not None:
        start = rotations[-1].end + timedelta(minutes=1) if rotations else at(10)
        d.staff.rotate("e8", to="store", start=start, by="m1")
        rotations = d.staff.get("e8").rotations
    return rotations[-1].start + timedelta(minutes=30)


def _session(d: ServiceDesk, enrolled: bool = False) -> str:
    s = d.training.schedule("HYD", starts_at=at(600), hours=4, by="m1", at=at(2))
    if enrolled:
        d.training.enroll(s.id, ["e7"], by="m1", at=at(3))
    return s.id


def closed_case(desk: ServiceDesk) -> str:
    case = case_at(desk, "accepted")
    desk.cases.follow_up(case, by="cs1", satisfaction=4, at=at(300))
    desk.cases.close(case, by="cs1", at=at(301))
    return case


Call = Callable[[ServiceDesk, str], Any]

SITUATIONS: dict[str, Call] = {
    "cases.report": lambda d, by: d.cases.report(**REPORT, by=by, at=at(2)),
    "cases.respond": lambda d, by: d.cases.respond(case_at(d, "reported"), by=by, at=at(5)),
    "cases.assign": lambda d, by: d.cases.assign(case_at(d, "responded"), engineer="e7", by=by,
                                                 at=at(10)),
    "cases.reassign": lambda d, by: d.cases.reassign(case_at(d, "assigned"), engineer="e8",
                                                     by=by, reason="sick", at=at(12)),
    "cases.unassign": lambda d, by: d.cases.unassign(case_at(d, "assigned"), by=by,
                                                     reason="e7 is away", at=at(12)),
    "cases.queue": lambda d, by: d.cases.queue(case_at(d, "responded"), team="north", by=by,
                                               at=at(10)),
    "cases.take": lambda d, by: d.cases.take(
        d.cases.queue(case_at(d, "responded"), team="north", by="cs1", at=at(10)).id, by=by,
        at=at(11)),
    "cases.resolve": lambda d, by: d.cases.resolve(case_at(d, "responded"), by=by, way="phone",
                                                   actions="reset", result="runs", at=at(10)),
    "cases.reopen": lambda d, by: d.cases.reopen(closed_case(d), by=by, reason="leaks again",
                                                 at=at(400)),
    "cases.confirm": lambda d, by: d.cases.confirm(case_at(d, "assigned"), by=by, at=at(15)),
    "cases.contact": lambda d, by: d.cases.contact(case_at(d, "confirmed"), by=by, at=at(20),
                                                   appointment=at(120)),
    "cases.arrive": lambda d, by: d.cases.arrive(case_at(d, "contacted"), by=by, at=at(120)),
    "cases.checklist": lambda d, by: d.cases.checklist(case_at(d, "contacted"), ["helmet"],
                                                       by=by, at=at(120)),
    "cases.diagnose": lambda d, by: d.cases.diagnose(case_at(d, "on_site"), by=by, cause="x",
                                                     complexity="simple", at=at(130)),
    "cases.complete": lambda d, by: d.cases.complete(case_at(d, "diagnosed"), by=by,
                                                     actions="a", result="r", at=at(200)),
    "cases.accept": lambda d, by: d.cases.accept(case_at(d, "repaired"), signed_by="W", by=by,
                                                 at=at(210)),
    "cases.reject": lambda d, by: d.cases.reject(case_at(d, "repaired"), signed_by="W", by=by,
                                                 reason="leaks", at=at(210)),
    "cases.hold": lambda d, by: d.cases.hold(case_at(d, "assigned"), reason="parts", by=by,
                                             at=at(30)),
    "cases.release": lambda d, by: d.cases.release(
        d.cases.hold(case_at(d, "assigned"), reason="parts", by="cs1", at=at(30)).id, by=by,
        at=at(40)),
    "cases.notify_delay": lambda d, by: d.cases.notify_delay(
        case_at(d, "assigned"), milestone="arrival", reason="snow", new_eta=at(600), by=by,
        told="Wang", channel="phone", at=at(30)),
    "cases.update": lambda d, by: d.cases.update(case_at(d, "reported"), by=by, reason="typo",
                                                 severity="minor", at=at(3)),
    "cases.follow_up": lambda d, by: d.cases.follow_up(case_at(d, "accepted"), by=by,
                                                       satisfaction=4, at=at(300)),
    "cases.close": lambda d, by: d.cases.close(
        d.cases.follow_up(case_at(d, "accepted"), by="cs1", satisfaction=4, at=at(300)).id,
        by=by, at=at(310)),
    "cases.cancel": lambda d, by: d.cases.cancel(case_at(d, "reported"), by=by, reason="dup",
                                                 at=at(3)),
    "cases.reapply_policy": lambda d, by: d.cases.reapply_policy(
        case_at(d, "reported"), by=by, reason="new rules"),
    "staff.update": lambda d, by: d.staff.update("e7", by=by, phone="123"),
    "staff.deactivate": lambda d, by: d.staff.deactivate("e8", by=by),
    "staff.reactivate": lambda d, by: (d.staff.get("e8").active
                                       and d.staff.deactivate("e8", by="m1"),
                                       d.staff.reactivate("e8", by=by)),
    "staff.promote": lambda d, by: d.staff.promote("e7", to="senior_engineer", by=by,
                                                   reason="good"),
    "staff.rotate": lambda d, by: d.staff.rotate("e7", to="hotline", start=at(1000), by=by),
    "staff.end_rotation": lambda d, by: d.staff.end_rotation("e8", end=_rotated(d), by=by),
    "appraisals.rate": lambda d, by: d.appraisals.rate(
        "e7", period="2026-11", source="supervisor", indicator="attitude", score=80, by=by),
    "appraisals.finalize": lambda d, by: d.appraisals.finalize("2026-12", by=by),
    "appraisals.decide_review": lambda d, by: d.appraisals.decide_review(
        *_review(d), decision="retain", reason="r", by=by),
    # e8's coaching is owned by m1, their supervisor (no role member is m1)
    "appraisals.complete_follow_up": lambda d, by: (_review(d), d.appraisals.complete_follow_up(
        "2026-10/e8/coaching", note="reviewed", by=by)),
    "parts.add_part": lambda d, by: d.parts.add_part(sku=f"X-{by}", name="x", category="c",
                                                     unit_cost="1", by=by),
    "parts.add_location": lambda d, by: d.parts.add_location(id=f"L-{by}", name="l", by=by),
    "parts.add_supplier": lambda d, by: d.parts.add_supplier(id=f"S-{by}", name="s", by=by),
    "parts.qualify": lambda d, by: d.parts.qualify(
        d.parts.add_supplier(id=f"Q-{by}", name="q", by="sk1").id, by=by),
    "parts.receive": lambda d, by: d.parts.receive("SEAL-9", 1, location="WH", supplier="ACME",
                                                   inspection=ALL_PASSED, by=by),
    "parts.receive_order": lambda d, by: d.parts.receive_order(
        d.parts.order("ACME", [{"sku": "SEAL-9", "quantity": 2, "price": 9}], **TERMS,
                      by="sk1").id,
        [{"sku": "SEAL-9", "quantity": 2}], location="WH", inspection=ALL_PASSED, by=by),
    "parts.transfer": lambda d, by: d.parts.transfer("SEAL-9", 1, from_location="WH",
                                                     to_location="VAN7", by=by),
    "parts.scrap": lambda d, by: d.parts.scrap("SEAL-9", 1, location="WH", reason="bent", by=by),
    "parts.adjust": lambda d, by: d.parts.adjust("SEAL-9", 1, location="WH", increase=True,
                                                 reason="found", by=by, approved_by="m2"),
    "parts.order": lambda d, by: d.parts.order("ACME", [{"sku": "SEAL-9", "quantity": 2,
                                                         "price": 9}], **TERMS, by=by),
    "parts.review_supplier": lambda d, by: d.parts.review_supplier(
        "ACME", decision="keep", reason="on time", by=by),
    "parts.count": lambda d, by: d.parts.count("VAN7", {}, by=by),
    "parts.settle": lambda d, by: d.parts.settle(
        d.parts.count("VAN7", {"SEAL-9": 1}, by="sk1").id, reason="count", approved_by="m2",
        by=by),
    "parts.request": lambda d, by: d.parts.request(case_at(d, "diagnosed"),
                                                   [{"sku": "SEAL-9", "quantity": 1}], by=by),
    "parts.approve": lambda d, by: d.parts.approve(_requisition(d), by=by),
    "parts.reject": lambda d, by: d.parts.reject(_requisition(d), by=by, reason="no"),
    "parts.issue": lambda d, by: d.parts.issue(
        d.parts.request(case_at(d, "diagnosed"), [{"sku": "SEAL-9", "quantity": 1}],
                        by="e7", at=at(140)).id, from_location="WH", by=by),
    "parts.return_parts": lambda d, by: d.parts.return_parts(
        _issued_case(d), [{"sku": "SEAL-9", "quantity": 1}], to_location="WH", by=by),
    "expenses.draft": lambda d, by: d.expenses.draft([dict(LINE)], by=by),
    "expenses.edit": lambda d, by: d.expenses.edit(_claim(d), [dict(LINE)], by=by),
    "expenses.submit": lambda d, by: d.expenses.submit(_claim(d), by=by),
    "expenses.approve": lambda d, by: d.expenses.approve(_claim(d, submitted=True), by=by),
    "expenses.reject": lambda d, by: d.expenses.reject(_claim(d, submitted=True), by=by,
                                                       reason="no"),
    "expenses.pay": lambda d, by: d.expenses.pay(_claim(d, approved=True), by=by),
    "safety.checklist": lambda d, by: d.safety.checklist(case_at(d, "contacted"), ["helmet"],
                                                         by=by),
    "customers.add": lambda d, by: d.customers.add(name=f"Customer of {by}", by=by, at=at(1)),
    "customers.update": lambda d, by: d.customers.update("CU1", tier="gold", by=by, at=at(1)),
    "machines.add": lambda d, by: d.machines.add(serial=f"M-{by}", customer="CU1", by=by,
                                                 at=at(1)),
    "machines.update": lambda d, by: d.machines.update("M-1", model="EX-360", reason="typo",
                                                       by=by, at=at(1)),
    "machines.reading": lambda d, by: d.machines.reading("M-1", 100 + len(by), by=by,
                                                         at=at(2 + len(by))),
    "machines.maintained": lambda d, by: d.machines.maintained("M-1", plan="nope", at=at(1),
                                                               by=by),
    "machines.import_csv": lambda d, by: d.machines.import_csv([{"serial": f"I-{by}"}], by=by,
                                                           at=at(1)),
    "contracts.add": lambda d, by: d.contracts.add(customer="CU1", level="basic",
                                                   starts=date(2026, 1, 1),
                                                   ends=date(2026, 6, 30), by=by, at=at(1)),
    "contracts.cancel": lambda d, by: d.contracts.cancel("SC-1", on=date(2026, 12, 1),
                                                         reason="sold", by=by, at=at(1)),
    "safety.add_tool": lambda d, by: d.safety.add_tool(id=f"T-{by}", name="t",
                                                       inspected=at(0), by=by),
    "safety.inspect": lambda d, by: d.safety.inspect("TW", by=by),
    "safety.check_out": lambda d, by: d.safety.check_out("TW", engineer="e7", by=by),
    "safety.check_in": lambda d, by: (d.safety.tool("TW").holder is None
                                      and d.safety.check_out("TW", engineer="e7", by="sk1"),
                                      d.safety.check_in("TW", by=by)),
    "safety.report_incident": lambda d, by: d.safety.report_incident(
        happened_at=at(100), severity="minor", description="cut", by=by, at=at(110)),
    "safety.add_action": lambda d, by: d.safety.add_action(_incident(d), description="gloves",
                                                           owner="e8", by=by),
    "safety.complete_action": lambda d, by: d.safety.complete_action(
        _incident(d, with_action=True), 0, by=by),
    "safety.investigate": lambda d, by: d.safety.investigate(_incident(d), findings="a slip",
                                                             by=by),
    "training.assess": lambda d, by: d.training.assess(
        "e8", certificate="hydraulics", scores={"theory": 90, "practical": 90,
                                                "case_study": 90}, by=by),
    "training.add_course": lambda d, by: d.training.add_course(
        id=f"C-{by}", title="c", year=2026, area="repair_skills", method="internal",
        trainer="m1", by=by),
    "training.schedule": lambda d, by: d.training.schedule("HYD", starts_at=at(600), hours=4,
                                                           by=by),
    "training.enroll": lambda d, by: d.training.enroll(_session(d), ["e7"], by=by),
    "training.attend": lambda d, by: d.training.attend(_session(d, enrolled=True), ["e7"],
                                                       by=by),
    "cases.on_the_way": lambda d, by: d.cases.on_the_way(case_at(d, "contacted"), by=by,
                                                         at=at(30)),
    "complaints.open": lambda d, by: d.complaints.open(source="call", summary="late again",
                                                       case=case_at(d, "assigned"), by=by,
                                                       at=at(30)),
    "complaints.respond": lambda d, by: d.complaints.respond(_complaint(d), response="sorry",
                                                             by=by, at=at(40)),
    "complaints.resolve": lambda d, by: d.complaints.resolve(
        _complaint(d), root_cause="no spare van", corrective_action="second van", by=by,
        at=at(40)),
    "complaints.confirm": lambda d, by: d.complaints.confirm(
        _complaint(d, resolved=True), confirmed_by="Wang", by=by, at=at(50)),
    "complaints.reassign": lambda d, by: d.complaints.reassign(_complaint(d), owner="m1",
                                                               by=by, at=at(40)),
    "tokens.issue": lambda d, by: d.tokens.issue("e8", by=by, at=at(1)),
    "tokens.revoke": lambda d, by: d.tokens.revoke(
        d.tokens.issue("e8", by="m1", at=at(1)).record.id, by=by, at=at(2)),
    "product_problems.record": lambda d, by: d.product_problems.record(
        case_at(d, "on_site"), evidence="crack at the weld", part="BOOM-1", by=by, at=at(130)),
}  # fmt: skip


def _complaint(desk: ServiceDesk, resolved: bool = False) -> str:
    """A complaint owned by m2 (a manager none of the role members is)."""
    made = desk.complaints.open(source="call", summary="late", customer="Acme Quarry",
                                owner="m2", by="m1", at=at(30))  # fmt: skip
    if resolved:
        desk.complaints.resolve(made.id, root_cause="c", corrective_action="a", by="m2",
                                at=at(35))  # fmt: skip
    return made.id


# the roles a situation itself admits: the requisition (3,000 CNY) and the claim wait for a
# manager in their approval chains; the policy lets a service agent resolve remotely
CHAIN = {"parts.approve": {"manager"}, "parts.reject": {"manager"},
         "cases.resolve": {"service_agent"},  # the policy's 'resolve remotely by'
         "expenses.approve": {"manager"}, "expenses.reject": {"manager"}}  # fmt: skip


@pytest.mark.parametrize("action", sorted(PERMISSIONS))
def test_each_role_may_take_exactly_the_actions_the_table_gives_it(action: str) -> None:
    desk = world()
    allowed = set(PERMISSIONS[action].roles) | CHAIN.get(action, set())
    for role in ROLES:
        try:
            SITUATIONS[action](desk, f"r_{role}")
        except PermissionDenied as exc:
            assert role not in allowed, f"{action}: a {role} was refused: {exc}"
        except AftersalesError as exc:
            assert role in allowed, f"{action}: a {role} got past the permission check: {exc}"
        else:
            assert role in allowed, f"{action}: a {role} was allowed"
