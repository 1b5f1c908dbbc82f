"""The exception firewall: every public action, called with a hostile value in one of its
arguments, either works or raises an AftersalesError, and a fresh desk on the same store
still reads every record (issue 13, contracts 1 and 2).

Bounded for `make test`; `make fuzz` (AFTERSALES_FUZZ=1) runs many more examples."""

from __future__ import annotations

import base64
import math
import os
import tempfile
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import REPORT, RULES, T0, add_team, at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales import AftersalesError, ServiceDesk

EXAMPLES = 2000 if os.environ.get("AFTERSALES_FUZZ") else 100
ALL_PASSED = {"quantity": True, "specification": True, "quality": True}

HOSTILE: list[Any] = [
    None, [], ["x"], {}, {"x": 1}, b"x", 0, -1, 10**5000, 2**63, 1e308, math.nan, math.inf,
    -math.inf, Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), "", " ", "\x00", "a\x00b",
    "\ud800", "x" * 1_000_000, "[/bold]", "line\r\nBcc: x@example.com", "9" * 5000, True,
    datetime(1, 1, 1, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, 59, tzinfo=timezone.utc),
    datetime(2026, 11, 27, 16, 0), date(9999, 12, 31), date(1, 1, 1), timedelta.max,
    object(), ("a", "b"), {"sku": None}, [{"sku": "SEAL-9", "quantity": 10**30}],
]  # fmt: skip


def fresh_desk(path: Path) -> ServiceDesk:
    desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{path}", clock=lambda: at(600))
    add_team(desk)
    desk.parts.add_location(id="WH", name="Main", by="sk1", at=at(0))
    desk.parts.add_supplier(id="ACME", name="Acme", qualified=True, by="m1", at=at(0))
    desk.parts.add_part(sku="SEAL-9", name="Seal", category="seals", unit_cost="12.5",
                        by="sk1", at=at(0))  # fmt: skip
    desk.parts.receive("SEAL-9", 10, location="WH", supplier="ACME", inspection=ALL_PASSED,
                       by="sk1", at=at(1))  # fmt: skip
    desk.training.add_course(id="HYD", title="Hydraulics", year=2026, area="repair_skills",
                             method="internal", trainer="m1", by="m1")  # fmt: skip
    desk.customers.add(id="HL", name="Hengli Mining", sites=[{"id": "Q1"}], by="cs1", at=at(0))
    desk.machines.add(serial="EX-1", line="excavator", customer="HL", site="Q1",
                      commissioned=date(2026, 1, 1), hours=100, by="cs1", at=at(0))  # fmt: skip
    desk.contracts.add(id="SC-1", customer="HL", level="basic", starts=date(2026, 1, 1),
                       ends=date(2026, 12, 31), by="cs1", at=at(0))  # fmt: skip
    return desk


def case_id(desk: ServiceDesk) -> str:
    return desk.cases.report(**REPORT, by="cs1", at=at(2)).id


def case_at(desk: ServiceDesk, status: str) -> str:
    """A case moved up to ``status`` by the team of add_team."""
    case = case_id(desk)
    if status == "reported":
        return case
    steps = [
        ("responded", lambda: desk.cases.respond(case, by="cs1", at=at(5))),
        ("assigned", lambda: desk.cases.assign(case, engineer="e7", by="cs1", at=at(10))),
        ("confirmed", lambda: desk.cases.confirm(case, by="e7", at=at(15))),
        ("contacted", lambda: desk.cases.contact(case, by="e7", at=at(20), appointment=at(120))),
        ("on_site", lambda: (desk.cases.arrive(case, by="e7", at=at(120)),
                             desk.cases.checklist(case, by="e7", items=["helmet", "gloves"],
                                                  at=at(121)))),
        ("diagnosed", lambda: desk.cases.diagnose(case, by="e7", cause="seal",
                                                  complexity="simple", at=at(130))),
        ("repaired", lambda: desk.cases.complete(case, by="e7", actions="replaced",
                                                 result="ok", at=at(200))),
        ("accepted", lambda: desk.cases.accept(case, signed_by="Wang", by="e7", at=at(210))),
    ]  # fmt: skip
    for reached, step in steps:
        step()
        if reached == status:
            break
    return case


LINE = {"category": "meals", "amount": "85", "date": "2026-11-20"}

# action name -> (the call, its valid keyword arguments); one argument is made hostile


def _coaching(d: ServiceDesk) -> str:
    """e8's coaching after a failed October (default.policy: improve fail with coaching)."""
    if not d.appraisals.is_finalized("2026-10"):
        for indicator in ("performance", "attitude", "skills"):
            d.appraisals.rate("e8", period="2026-10", source="supervisor", indicator=indicator,
                              score=30, by="m1", at=at(1))  # fmt: skip
        d.appraisals.finalize("2026-10", by="m1", at=at(2))
    return "2026-10/e8/coaching"


ACTIONS: dict[str, tuple[Callable[..., Any], Callable[[ServiceDesk], dict[str, Any]]]] = {
    "cases.report": (lambda d, **k: d.cases.report(**k), lambda d: {**REPORT, "by": "cs1"}),
    "cases.respond": (lambda d, **k: d.cases.respond(k.pop("case"), **k),
                      lambda d: {"case": case_id(d), "by": "cs1", "at": at(5)}),
    "cases.hold": (lambda d, **k: d.cases.hold(k.pop("case"), **k),
                   lambda d: {"case": case_id(d), "by": "cs1", "reason": "parts", "at": at(5)}),
    "cases.find": (lambda d, **k: d.cases.find(**k), lambda d: {"status": "reported"}),
    "cases.by_number": (lambda d, **k: d.cases.by_number(**k),
                        lambda d: {"number": "AS-2026-000001"}),
    "staff.add": (lambda d, **k: d.staff.add(**k),
                  lambda d: {"id": "x1", "name": "New", "roles": ["engineer"],
                             "email": "x1@example.com", "team": "north",
                             "language": "zh-CN", "level": "engineer",
                             "level_since": date(2024, 3, 1)}),
    "staff.update": (lambda d, **k: d.staff.update(k.pop("id"), **k),
                     lambda d: {"id": "e7", "by": "m1", "phone": "123", "email": "e@example.com",
                                "language": "en"}),
    "staff.deactivate": (lambda d, **k: d.staff.deactivate(k.pop("id"), **k),
                         lambda d: {"id": "e8", "by": "m1"}),
    "parts.add_part": (lambda d, **k: d.parts.add_part(**k),
                       lambda d: {"sku": "X", "name": "x", "category": "c", "unit_cost": "1",
                                  "by": "sk1", "reorder_point": 1}),
    "parts.transfer": (lambda d, **k: d.parts.transfer(k.pop("sku"), k.pop("quantity"), **k),
                       lambda d: {"sku": "SEAL-9", "quantity": 1, "from_location": "WH",
                                  "to_location": "WH", "by": "sk1"}),
    "parts.count": (lambda d, **k: d.parts.count(k.pop("location"), k.pop("counts"), **k),
                    lambda d: {"location": "WH", "counts": {"SEAL-9": 9}, "by": "sk1"}),
    "expenses.draft": (lambda d, **k: d.expenses.draft(**k),
                       lambda d: {"lines": [dict(LINE)], "by": "e7"}),
    "appraisals.rate": (lambda d, **k: d.appraisals.rate(k.pop("staff"), **k),
                        lambda d: {"staff": "e7", "period": "2026-11", "source": "supervisor",
                                   "indicator": "attitude", "score": 80, "by": "m1"}),
    "customers.add": (lambda d, **k: d.customers.add(**k),
                      lambda d: {"name": "Dalian Port", "key": "ERP-1", "tier": "gold",
                                 "region": "north", "sites": [{"id": "P1", "timezone": "UTC"}],
                                 "contacts": [{"name": "Li", "email": "li@example.com",
                                               "channel": "email", "consent": True}],
                                 "by": "cs1", "at": at(3)}),
    "customers.update": (lambda d, **k: d.customers.update(k.pop("customer"), **k),
                         lambda d: {"customer": "HL", "tier": "gold", "region": "north",
                                    "sites": [{"id": "Q1"}], "contacts": [], "by": "cs1"}),
    "machines.add": (lambda d, **k: d.machines.add(**k),
                     lambda d: {"serial": "EX-2", "model": "EX-350", "line": "excavator",
                                "customer": "HL", "site": "Q1", "commissioned": date(2026, 2, 1),
                                "warranty_months": 24, "warranty_hours": 2000, "hours": 50,
                                "by": "cs1", "at": at(3)}),
    "machines.update": (lambda d, **k: d.machines.update(k.pop("machine"), **k),
                        lambda d: {"machine": "EX-1", "model": "EX-360", "reason": "typo",
                                   "warranty_months": 36, "by": "cs1", "at": at(3)}),
    "machines.reading": (lambda d, **k: d.machines.reading(k.pop("machine"), k.pop("hours"), **k),
                         lambda d: {"machine": "EX-1", "hours": 150, "by": "e7", "at": at(3)}),
    "machines.import_csv": (lambda d, **k: d.machines.import_csv([k.pop("row")], **k),
                            lambda d: {"row": {"serial": "EX-3", "customer": "Hengli Mining",
                                               "commissioned": "2026-01-01", "hours": "5"},
                                       "by": "cs1", "at": at(3)}),
    "contracts.add": (lambda d, **k: d.contracts.add(**k),
                      lambda d: {"customer": "HL", "level": "premium", "starts": date(2026, 1, 1),
                                 "ends": date(2026, 6, 30), "covers": ["parts"],
                                 "machines": ["EX-1"], "response": "4h", "by": "cs1",
                                 "at": at(3)}),
    "contracts.cancel": (lambda d, **k: d.contracts.cancel(k.pop("contract"), **k),
                         lambda d: {"contract": "SC-1", "on": date(2026, 6, 1), "reason": "sold",
                                    "by": "m1", "at": at(3)}),
    "cases.report_by_serial": (lambda d, **k: d.cases.report(**k),
                               lambda d: {"product": {"serial": "EX-1"}, "fault": "leak",
                                          "fault_code": "HYD-PUMP", "severity": "major",
                                          "channel": "phone", "by": "cs1", "at": at(3)}),
    "safety.add_tool": (lambda d, **k: d.safety.add_tool(**k),
                        lambda d: {"id": "TW", "name": "Wrench", "inspected": at(0), "by": "sk1"}),
    "training.assess": (lambda d, **k: d.training.assess(k.pop("staff"), **k),
                        lambda d: {"staff": "e8", "certificate": "x", "scores": {}, "by": "m1"}),
    "cases.assign": (lambda d, **k: d.cases.assign(k.pop("case"), **k),
                     lambda d: {"case": case_at(d, "responded"), "engineer": "e7", "by": "cs1",
                                "instructions": "bring seals", "at": at(11)}),
    "cases.contact": (lambda d, **k: d.cases.contact(k.pop("case"), **k),
                      lambda d: {"case": case_at(d, "confirmed"), "by": "e7",
                                 "appointment": at(120), "at": at(21)}),
    "cases.diagnose": (lambda d, **k: d.cases.diagnose(k.pop("case"), **k),
                       lambda d: {"case": case_at(d, "on_site"), "by": "e7", "cause": "seal",
                                  "complexity": "simple", "at": at(130)}),
    "cases.complete": (lambda d, **k: d.cases.complete(k.pop("case"), **k),
                       lambda d: {"case": case_at(d, "diagnosed"), "by": "e7",
                                  "actions": "replaced", "result": "ok", "at": at(200),
                                  "parts_used": [{"sku": "SEAL-9", "quantity": 1}]}),
    "cases.reject": (lambda d, **k: d.cases.reject(k.pop("case"), **k),
                     lambda d: {"case": case_at(d, "repaired"), "by": "e7", "signed_by": "Wang",
                                "reason": "still leaks", "at": at(210)}),
    "cases.notify_delay": (lambda d, **k: d.cases.notify_delay(k.pop("case"), **k),
                           lambda d: {"case": case_at(d, "assigned"), "milestone": "arrival",
                                      "reason": "snow", "new_eta": at(600), "by": "e7",
                                      "told": "Wang", "channel": "phone", "at": at(30)}),
    "cases.follow_up": (lambda d, **k: d.cases.follow_up(k.pop("case"), **k),
                        lambda d: {"case": case_at(d, "accepted"), "by": "cs1",
                                   "satisfaction": 4, "comments": "fine", "at": at(300)}),
    "cases.update": (lambda d, **k: d.cases.update(k.pop("case"), **k),
                     lambda d: {"case": case_id(d), "by": "cs1", "reason": "wrong",
                                "severity": "minor", "machine_down": False, "at": at(3)}),
    "cases.sla": (lambda d, **k: d.cases.sla(k.pop("case"), **k),
                  lambda d: {"case": case_id(d), "now": at(60)}),
    "parts.receive": (lambda d, **k: d.parts.receive(k.pop("sku"), k.pop("quantity"), **k),
                      lambda d: {"sku": "SEAL-9", "quantity": 3, "location": "WH",
                                 "supplier": "ACME", "inspection": dict(ALL_PASSED), "by": "sk1",
                                 "accepted": 2, "reason": "one bent"}),
    "parts.scrap": (lambda d, **k: d.parts.scrap(k.pop("sku"), k.pop("quantity"), **k),
                    lambda d: {"sku": "SEAL-9", "quantity": 1, "location": "WH",
                               "reason": "bent", "by": "sk1"}),
    "parts.order": (lambda d, **k: d.parts.order(k.pop("supplier"), k.pop("lines"), **k),
                    lambda d: {"supplier": "ACME",
                               "lines": [{"sku": "SEAL-9", "quantity": 5, "price": "12.5"}],
                               "promised": date(2027, 1, 15), "payment_terms": "30 days net",
                               "by": "sk1"}),
    "parts.request": (lambda d, **k: d.parts.request(k.pop("case"), k.pop("lines"), **k),
                      lambda d: {"case": case_at(d, "diagnosed"),
                                 "lines": [{"sku": "SEAL-9", "quantity": 2}], "by": "e7",
                                 "at": at(140)}),
    "safety.report_incident": (lambda d, **k: d.safety.report_incident(**k),
                               lambda d: {"happened_at": at(100), "severity": "minor",
                                          "description": "cut finger", "by": "e8",
                                          "people": ["e7"], "at": at(110)}),
    "safety.investigate": (lambda d, **k: d.safety.investigate(k.pop("id"), **k),
                           lambda d: {"id": d.safety.report_incident(
                               happened_at=at(100), severity="minor", description="cut",
                               by="e8", at=at(110)).id, "findings": "a slip", "by": "m1"}),
    "parts.review_supplier": (lambda d, **k: d.parts.review_supplier(k.pop("id"), **k),
                              lambda d: {"id": "ACME", "decision": "keep", "reason": "on time",
                                         "by": "m1"}),
    "training.plan_check": (lambda d, **k: d.training.plan_check(**k), lambda d: {"year": 2027}),
    "staff.eligibility": (lambda d, **k: d.staff.eligibility(k.pop("id"), **k),
                          lambda d: {"id": "e7", "at": at(10)}),
    "appraisals.complete_follow_up": (
        lambda d, **k: d.appraisals.complete_follow_up(k.pop("id"), **k),
        lambda d: {"id": _coaching(d), "note": "reviewed", "by": "m1"}),
    "training.add_course": (lambda d, **k: d.training.add_course(**k),
                            lambda d: {"id": "HYD", "title": "Hydraulics", "year": 2026,
                                       "area": "repair_skills", "method": "internal",
                                       "trainer": "m1", "certificate": "hydraulics",
                                       "by": "m1"}),
    "training.schedule": (lambda d, **k: d.training.schedule(**k),
                          lambda d: {"course_id": "HYD", "starts_at": at(600), "hours": 4,
                                     "place": "Workshop", "by": "m1"}),
    "staff.promote": (lambda d, **k: d.staff.promote(k.pop("id"), **k),
                      lambda d: {"id": "e7", "to": "senior_engineer", "by": "m1",
                                 "reason": "good"}),
    "staff.rotate": (lambda d, **k: d.staff.rotate(k.pop("id"), **k),
                     lambda d: {"id": "e7", "to": "hotline", "start": at(100),
                                "by": "m1", "reason": "cover"}),
    "appraisals.finalize": (lambda d, **k: d.appraisals.finalize(**k),
                            lambda d: {"period": "2026-11", "by": "m1"}),
    "expenses.report": (lambda d, **k: d.expenses.report(**k),
                        lambda d: {"since": date(2026, 1, 1), "until": date(2027, 1, 1)}),
    "sla.tick": (lambda d, **k: d.sla.tick(**k), lambda d: {"now": at(600)}),
    "sla.report": (lambda d, **k: d.sla.report(**k),
                   lambda d: {"since": T0, "until": at(60 * 24)}),
    "notifications.prune": (lambda d, **k: d.notifications.prune(**k),
                            lambda d: {"older_than": timedelta(days=1)}),
    "cases.on_the_way": (lambda d, **k: d.cases.on_the_way(k.pop("case"), **k),
                         lambda d: {"case": case_at(d, "contacted"), "by": "e7", "eta": at(100),
                                    "at": at(30)}),
    "cases.accept (signature)": (lambda d, **k: d.cases.accept(k.pop("case"), **k),
                                 lambda d: {"case": case_at(d, "repaired"), "by": "e7",
                                            "signed_by": "Wang", "signature": PNG,
                                            "at": at(210)}),
    "cases.answer_survey": (lambda d, **k: d.cases.answer_survey(**k),
                            lambda d: {"token": d.cases.messenger.tokens.make(
                                case_at(d, "accepted"), at(9000)), "satisfaction": 3,
                                "comments": "ok", "at": at(300)}),
    "cases.report_document": (lambda d, **k: d.cases.report_document(k.pop("case"), **k),
                              lambda d: {"case": case_at(d, "accepted"), "format": "html",
                                         "language": "zh"}),
    "complaints.open": (lambda d, **k: d.complaints.open(**k),
                        lambda d: {"source": "call", "summary": "late", "case": case_id(d),
                                   "owner": "m1", "staff": ["e7"], "by": "cs1", "at": at(30)}),
    "complaints.resolve": (lambda d, **k: d.complaints.resolve(k.pop("id"), **k),
                           lambda d: {"id": d.complaints.open(source="call", summary="x",
                                                              customer="A", by="m1",
                                                              at=at(30)).id,
                                      "root_cause": "r", "corrective_action": "a", "by": "m1",
                                      "at": at(40)}),
    "product_problems.record": (lambda d, **k: d.product_problems.record(k.pop("case"), **k),
                                lambda d: {"case": case_at(d, "assigned"), "evidence": "crack",
                                           "part": "BOOM", "fault": "F", "model": "M",
                                           "by": "e7", "at": at(40)}),
    "tokens.issue": (lambda d, **k: d.tokens.issue(k.pop("staff"), **k),
                     lambda d: {"staff": "e7", "by": "m1", "name": "phone",
                                "valid_for": timedelta(days=3), "at": at(1)}),
    "tokens.staff_of": (lambda d, **k: d.tokens.staff_of(**k),
                        lambda d: {"token": d.tokens.issue("e7", by="m1", at=at(1)).token,
                                   "now": at(2)}),
    "feedback.digest": (lambda d, **k: d.feedback.digest(**k),
                        lambda d: {"period": "2026-11", "per": "engineer"}),
}  # fmt: skip
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def read_everything(path: Path) -> None:
    """A fresh desk on the store reads every kind of record without an error."""
    with ServiceDesk(RULES / "default.policy", f"sqlite:///{path}") as desk:
        desk.cases.find()
        desk.staff.list(active=None)
        desk.expenses.claims()
        desk.parts.parts()
        desk.parts.valuation()
        desk.safety.tools()
        desk.notifications.pending()
        for customer in desk.customers.list():
            desk.contracts.list(customer=customer.id)
        for machine in desk.machines.list():
            desk.machines.history(machine.serial)
        desk.complaints.list()
        desk.product_problems.groups()
        desk.feedback.digest("2026-11")
        for case in desk.cases.find(status="accepted"):
            desk.cases.report_document(case.id)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    action=st.sampled_from(sorted(ACTIONS)),
    which=st.integers(min_value=0, max_value=20),
    value=st.sampled_from(HOSTILE),
)
def test_only_aftersales_errors_leave_the_api_and_nothing_bad_is_stored(
    action: str, which: int, value: Any
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "desk.db"
        desk = fresh_desk(path)
        call, valid = ACTIONS[action]
        kwargs = valid(desk)
        names = sorted(kwargs)
        kwargs[names[which % len(names)]] = value
        try:
            call(desk, **kwargs)
        except AftersalesError as exc:
            # a check meant to fire, not the boundary's catch-all (core/boundary.py)
            assert not getattr(exc, "unexpected", False), f"{action}: {exc}"
        desk.close()
        read_everything(path)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_argument_of_every_action_refuses_every_hostile_value(
    action: str, tmp_path: Path
) -> None:
    """The deterministic sweep: each argument of the action in turn, with each hostile value,
    on one desk; only intended AftersalesErrors, and the store stays readable."""
    path = tmp_path / "desk.db"
    desk = fresh_desk(path)
    call, valid = ACTIONS[action]
    for name in sorted(valid(desk)):
        for value in HOSTILE:
            kwargs = valid(desk)
            kwargs[name] = value
            try:
                call(desk, **kwargs)
            except AftersalesError as exc:
                assert not getattr(exc, "unexpected", False), f"{action}({name}=...): {exc}"
    desk.close()
    read_everything(path)
