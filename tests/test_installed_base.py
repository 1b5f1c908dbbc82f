"""Issue 19: customers, machines and contracts as records; a report by serial fills in the
machine and its owner; every case records what covers it (repair warranty by fault code or
family, sales warranty by months and hours, contract, chargeable), on every store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import attrs
import pytest
from conftest import REPORT, RULES, T0, add_team, at, run_to

from aftersales import (
    ConflictError,
    NotFound,
    PermissionDenied,
    ServiceDesk,
    ValidationError,
    parse_policy,
)
from aftersales.core.workflow import start
from aftersales.testing import Outbox

POLICY = (
    (RULES / "default.policy").read_text("utf-8")
    + """
# the contract rule goes first (before the default policy's `otherwise`): see _policy_text
sales warranty 24 months or 2000 operating hours for line excavator
sales warranty 12 months
fault family "hydraulics": "HYD-PUMP", "HYD-HOSE"
priority urgent when contract.level == "premium" and machine_down
"""
)

FAULT: dict[str, Any] = {
    "fault": "boom will not lift",
    "fault_code": "HYD-PUMP",
    "severity": "major",
    "machine_down": True,
    "channel": "phone",
}


@pytest.fixture
def base(storage_url: str) -> Iterator[ServiceDesk]:
    """A desk whose policy gives sales warranties, a fault family and a contract rule, with
    one customer, two sites and three machines."""
    with ServiceDesk(parse_policy(_policy_text(), "base.policy"), storage_url, plugins=[Outbox()],
                     clock=lambda: T0 + timedelta(days=400)) as desk:  # fmt: skip
        add_team(desk)
        desk.customers.add(id="HL", name="Hengli Mining", tier="gold", region="north",
                           sites=[{"id": "Q1", "address": "Quarry 1", "region": "north"},
                                  {"id": "Q2"}],
                           contacts=[{"name": "Wang", "phone": "+86 138", "consent": True}],
                           by="cs1", at=at(-1))  # fmt: skip
        desk.machines.add(serial="EX-1", model="EX-350", line="excavator", customer="HL",
                          site="Q1", commissioned=date(2026, 1, 10), hours=400, by="cs1",
                          at=at(-1))  # fmt: skip
        desk.machines.add(serial="EX-OLD", model="EX-200", line="excavator", customer="HL",
                          site="Q2", commissioned=date(2021, 3, 1), hours=9000, by="cs1",
                          at=at(-1))  # fmt: skip
        desk.machines.add(serial="CR-1", model="QY-25", line="crane", customer="HL",
                          commissioned=date(2026, 6, 1), by="cs1", at=at(-1))  # fmt: skip
        yield desk


def report(desk: ServiceDesk, serial: str, minutes: float = 0, **extra: Any) -> Any:
    return desk.cases.report(product={"serial": serial}, **{**FAULT, **extra}, by="cs1",
                             at=at(minutes))  # fmt: skip


# -- customers ---------------------------------------------------------------------------------
def test_a_customer_is_a_record_with_sites_and_contacts(base: ServiceDesk) -> None:
    hl = base.customers.get("HL")
    assert (hl.name, hl.tier, hl.region) == ("Hengli Mining", "gold", "north")
    assert [s.id for s in hl.sites] == ["Q1", "Q2"] and hl.site("Q1").address == "Quarry 1"  # type: ignore[union-attr]
    assert hl.contacts[0].consent is True and hl.contacts[0].phone == "+86 138"
    assert base.customers.by_name("  hengli   MINING ") == hl
    updated = base.customers.update("HL", tier="platinum", by="m1", at=at(1))
    assert updated.tier == "platinum" and updated.version == hl.version + 1
    assert [e["type"] for e in base.customers.history("HL")] == ["added", "updated"]


def test_keys_and_names_are_each_one_customers(base: ServiceDesk) -> None:
    with pytest.raises(ConflictError, match="already a customer named 'hengli mining' \\(HL\\)"):
        base.customers.add(name="hengli mining", by="cs1")
    other = base.customers.add(name="Hengli Mining", key="ERP-77", by="cs1")  # a key tells apart
    assert base.customers.by_key("ERP-77") == other
    assert base.customers.by_name("Hengli Mining").id == "HL"  # type: ignore[union-attr]
    with pytest.raises(ConflictError, match="the key 'ERP-77'"):
        base.customers.add(name="Someone", key="ERP-77", by="cs1")
    with pytest.raises(ConflictError, match="already a customer 'HL'"):
        base.customers.add(id="HL", name="Other", by="cs1")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sites": [{"id": "A"}, {"id": "A"}]}, "the site 'A' is listed twice"),
        ({"sites": [{"id": "A", "timezone": "Mars/Base"}]}, "not an IANA zone"),
        ({"sites": [{"id": "A", "floor": 3}]}, "unknown field 'floor'"),
        ({"contacts": [{"name": "W", "channel": "pigeon"}]}, "channel 'pigeon' is not one of"),
        ({"contacts": [{"name": "W", "email": "nobody"}]}, "'nobody' is not an e-mail address"),
        ({"contacts": [{"name": "W", "consent": "yes"}]}, "consent must be True or False"),
        ({"contacts": ["W"]}, "a contact is a mapping"),
        ({"name": ""}, "name"),
        ({"name": "X\nY"}, "name"),
    ],
)
def test_careless_customer_records_are_refused_by_name(
    base: ServiceDesk, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        base.customers.add(**{"name": "New Co", **fields}, by="cs1")
    assert base.customers.by_name("New Co") is None


def test_a_report_matches_its_customer_or_creates_the_record(base: ServiceDesk) -> None:
    known = base.cases.report(customer={"name": "HENGLI mining"}, product={"model": "X"},
                              **FAULT, by="cs1", at=at(0))  # fmt: skip
    assert known.customer.id == "HL" and known.customer.tier == "gold"  # filled from the record
    new = base.cases.report(customer={"name": "Dalian Port", "tier": "silver", "key": "ERP-9"},
                            product={"model": "X"}, **FAULT, by="cs1", at=at(1))  # fmt: skip
    record = base.customers.by_key("ERP-9")
    assert record is not None and new.customer.id == record.id
    assert (record.name, record.tier) == ("Dalian Port", "silver")
    again = base.cases.report(customer={"name": "Other name", "key": "ERP-9"},
                              product={"model": "X"}, **FAULT, by="cs1", at=at(2))  # fmt: skip
    assert again.customer.id == record.id  # the key decides, not the name
    assert again.customer.name == "Other name"  # the case keeps what was reported
    with pytest.raises(ValidationError, match="customer is required"):
        base.cases.report(product={"model": "X"}, **FAULT, by="cs1", at=at(3))


def test_a_refused_report_creates_no_customer(base: ServiceDesk) -> None:
    with pytest.raises(ValidationError):
        base.cases.report(customer={"name": "Ghost Co"}, product={"model": "X"},
                          **{**FAULT, "channel": "telepathy"}, by="cs1", at=at(0))  # fmt: skip
    assert base.customers.by_name("Ghost Co") is None


# -- machines ----------------------------------------------------------------------------------
def test_reporting_by_serial_fills_in_the_machine_and_its_owner(base: ServiceDesk) -> None:
    case = report(base, "EX-1")
    assert (case.product.model, case.product.line) == ("EX-350", "excavator")
    assert (case.customer.name, case.customer.id, case.customer.tier) == ("Hengli Mining", "HL",
                                                                          "gold")  # fmt: skip
    assert case.machine is not None and case.machine.site == "Q1"
    assert case.machine.hours == 400 and case.machine.age_months == 10
    unknown = base.cases.report(customer={"name": "Hengli Mining"}, product={"serial": "ZZ-9"},
                                **FAULT, by="cs1", at=at(1))  # fmt: skip
    assert unknown.machine is None and unknown.product.model is None


def test_readings_rise_in_order_and_the_latest_is_what_rules_see(base: ServiceDesk) -> None:
    base.machines.reading("EX-1", 950.5, by="e7", at=at(10))
    with pytest.raises(ValidationError, match="a meter only rises"):
        base.machines.reading("EX-1", 900, by="e7", at=at(20))
    with pytest.raises(ValidationError, match="record readings in order"):
        base.machines.reading("EX-1", 1000, by="e7", at=at(5))
    for bad in (-1, float("nan"), float("inf"), "lots", True, 10**9):
        with pytest.raises(ValidationError):
            base.machines.reading("EX-1", bad, by="e7", at=at(30))  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        base.machines.reading("EX-1", 1000, by="sk1", at=at(30))
    assert base.machines.get("EX-1").hours == 950.5
    assert [r.hours for r in base.machines.readings("EX-1")] == [400, 950.5]
    assert report(base, "EX-1", 40).machine.hours == 950.5


def test_machine_records_are_checked(base: ServiceDesk) -> None:
    with pytest.raises(ConflictError):
        base.machines.add(serial="EX-1", by="cs1")
    with pytest.raises(NotFound, match="no customer 'NOPE'"):
        base.machines.add(serial="N-1", customer="NOPE", by="cs1")
    with pytest.raises(ValidationError, match="has no site 'Q9'; its sites: Q1, Q2"):
        base.machines.add(serial="N-1", customer="HL", site="Q9", by="cs1")
    with pytest.raises(ValidationError, match="lies in the future"):
        base.machines.add(serial="N-1", commissioned=date(2099, 1, 1), by="cs1")
    with pytest.raises(NotFound, match="no machine 'N-1' in the installed base"):
        base.machines.get("N-1")
    moved = base.machines.update("EX-1", site="Q2", reason="moved to the other quarry", by="cs1")
    assert moved.site == "Q2" and moved.hours == 400


def test_a_machines_history_lists_its_cases_repairs_reworks_parts_and_readings(
    base: ServiceDesk,
) -> None:
    first = run_to(base, "closed", product={"serial": "EX-1"}, customer=None)
    base.machines.reading("EX-1", 700, by="e7", at=at(4000))
    rework = report(base, "EX-1", 5000, fault_code="HYD-HOSE")
    history = base.machines.history("EX-1")
    kinds = [(e.what, e.case) for e in history.entries]
    assert kinds == [
        ("commissioned", None), ("reading", None), ("reported", first.number),
        ("repaired", first.number), ("reading", None), ("rework", rework.number),
    ]  # fmt: skip
    assert [(p.sku, p.quantity, p.case) for p in history.parts] == [("SEAL-9", 1, first.number)]
    assert base.machines.parts("EX-1") == list(history.parts)


def test_parts_fitted_keep_their_serials(base: ServiceDesk) -> None:
    case = run_to(base, "on_site", product={"serial": "EX-1"}, customer=None)
    base.cases.diagnose(case.id, by="e7", at=at(130), cause="pump", complexity="simple")
    with pytest.raises(ValidationError, match="2 serials for a quantity of 1"):
        base.cases.complete(case.id, by="e7", at=at(200), actions="new pump", result="ok",
                            parts_used=[{"sku": "PUMP-X", "serials": ["P1", "P2"]}])  # fmt: skip
    base.cases.complete(case.id, by="e7", at=at(200), actions="new pump", result="ok",
                        parts_used=[{"sku": "PUMP-X", "quantity": 2, "serials": ["P1"]},
                                    {"sku": "PUMP-X", "serials": ["P2"]}])  # fmt: skip
    (fitted,) = base.machines.parts("EX-1")
    assert (fitted.sku, fitted.quantity, fitted.serials) == ("PUMP-X", 3, ("P1", "P2"))


# -- coverage ----------------------------------------------------------------------------------
def test_the_sales_warranty_covers_a_young_machine_under_its_hours(base: ServiceDesk) -> None:
    case = report(base, "EX-1")
    assert case.coverage is not None and case.coverage.kind == "sales_warranty"
    assert case.coverage.location == "base.policy:" + str(_line("sales warranty 24 months"))
    assert "until 2028-01-10" in case.coverage.reason and not case.chargeable
    assert case.machine is not None and case.machine.under_warranty


def test_the_sales_warranty_ends_with_its_hours_or_its_months(base: ServiceDesk) -> None:
    base.machines.reading("EX-1", 2000, by="e7", at=at(1))
    assert report(base, "EX-1", 2).coverage.kind == "chargeable"  # 2,000 h: run out
    assert report(base, "EX-OLD", 3).coverage.kind == "chargeable"  # five years old
    crane = report(base, "CR-1", 4)  # the policy's warranty for every other line: 12 months
    assert crane.coverage.kind == "sales_warranty" and "until 2027-06-01" in crane.coverage.reason
    own = base.machines.update("EX-OLD", warranty_months=120, reason="extended", by="cs1")
    assert own.warranty_months == 120
    extended = report(base, "EX-OLD", 5)
    assert extended.coverage.kind == "sales_warranty"
    assert extended.coverage.location == "machine EX-OLD"


def test_a_contract_covers_what_no_warranty_does_and_rules_read_it(base: ServiceDesk) -> None:
    contract = base.contracts.add(customer="HL", level="premium", starts=date(2026, 1, 1),
                                  ends=date(2026, 12, 31), covers=["labour", "travel"],
                                  machines=["EX-OLD"], response="4h", by="cs1")  # fmt: skip
    assert contract.id == "SC-000001" and base.customers.get("HL").contracts == ("SC-000001",)
    old = report(base, "EX-OLD")
    assert old.coverage.kind == "contract" and old.coverage.contract == "SC-000001"
    assert old.coverage.covers == ("labour", "travel") and not old.chargeable
    assert old.contract is not None and old.contract.response == "4h"
    assert old.priority == "urgent" and old.priority_location == f"base.policy:{_rule_line()}"
    calm = report(base, "EX-OLD", 1, machine_down=False)
    assert calm.priority != "urgent"  # the contract alone does not make it urgent
    young = report(base, "EX-1", 2)  # not on the contract: its warranty covers it
    assert young.contract is None and young.coverage.kind == "sales_warranty"
    base.contracts.cancel("SC-000001", on=date(2026, 11, 23), reason="unpaid", by="m1")
    assert report(base, "EX-OLD", 3).coverage.kind == "chargeable"


def test_a_contract_for_all_machines_and_its_checks(base: ServiceDesk) -> None:
    base.contracts.add(customer="HL", level="basic", starts=date(2026, 1, 1),
                       ends=date(2026, 12, 31), by="cs1")  # fmt: skip
    assert report(base, "EX-OLD").coverage.kind == "contract"
    with pytest.raises(ValidationError, match=r"ends .* before it starts"):
        base.contracts.add(customer="HL", level="x", starts=date(2026, 2, 1),
                           ends=date(2026, 1, 1), by="cs1")  # fmt: skip
    with pytest.raises(ValidationError, match="covers parts, labour, travel, not 'food'"):
        base.contracts.add(customer="HL", level="x", starts=date(2026, 1, 1),
                           ends=date(2026, 2, 1), covers=["food"], by="cs1")  # fmt: skip
    base.customers.add(id="DP", name="Dalian Port", by="cs1")
    with pytest.raises(ValidationError, match="machine EX-1 is not customer DP's"):
        base.contracts.add(customer="DP", level="x", starts=date(2026, 1, 1),
                           ends=date(2026, 2, 1), machines=["EX-1"], by="cs1")  # fmt: skip
    with pytest.raises(PermissionDenied):
        base.contracts.cancel("SC-000001", on=date(2026, 6, 1), reason="x", by="cs1")


def test_the_repair_warranty_matches_the_fault_family_before_the_sales_warranty(
    base: ServiceDesk,
) -> None:
    first = run_to(base, "closed", product={"serial": "EX-1"}, customer=None)
    hose = report(base, "EX-1", 4000, fault_code="HYD-HOSE")  # same family, other code
    assert hose.coverage.kind == "repair_warranty" and hose.coverage.original == first.number
    assert hose.rework_of == first.id and not hose.chargeable
    assert hose.coverage.location == f"base.policy:{_line('warranty 90 days')}"
    other = report(base, "EX-1", 4010, fault_code="ENG-1")  # another fault: the sales warranty
    assert other.coverage.kind == "sales_warranty" and other.rework_of is None


def test_a_case_stored_before_coverage_reads_as_none(base: ServiceDesk) -> None:
    case = report(base, "EX-1")
    first = base.cases.history(case.id)[0]
    old = {k: v for k, v in first.data.items() if k not in ("machine", "contract", "coverage")}
    before = start(attrs.evolve(first, data=old))
    assert (before.coverage, before.machine, before.contract) == (None, None, None)
    assert "coverage" not in before.record() and "machine" not in before.record()


def _line(text: str) -> int:
    lines = _policy_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.startswith(text))


def _rule_line() -> int:
    return _line('priority urgent when contract.level == "premium"')


def _policy_text() -> str:
    text = POLICY
    rule = 'priority urgent when contract.level == "premium" and machine_down\n'
    text = text.replace(rule, "")
    first = text.index("priority ")
    return text[:first] + rule + text[first:]


def test_a_new_serial_or_fault_code_decides_the_coverage_again(base: ServiceDesk) -> None:
    typo = report(base, "EX-0LD", fault_code="ENG-1", customer={"name": "Hengli Mining"})
    assert typo.machine is None and typo.coverage.kind == "chargeable"
    fixed = base.cases.update(typo.id, serial="EX-1", reason="serial misread", by="cs1",
                              at=at(5))  # fmt: skip
    assert fixed.product.serial == "EX-1" and fixed.product.model == "EX-350"
    assert fixed.machine is not None and fixed.coverage.kind == "sales_warranty"
    assert not fixed.chargeable
    first = run_to(base, "closed", product={"serial": "EX-OLD"}, customer=None)
    later = report(base, "EX-OLD", 4000, fault_code="ENG-1")
    assert later.coverage.kind == "chargeable" and later.rework_of is None
    recoded = base.cases.update(later.id, fault_code="HYD-HOSE", reason="it was the hose",
                                by="cs1", at=at(4001))  # fmt: skip
    assert recoded.coverage.kind == "repair_warranty" and recoded.rework_of == first.id
    assert recoded.record()["under_warranty"] is True
    events = base.cases.history(recoded.id)
    assert events[-1].data["coverage"]["kind"] == "repair_warranty"
    assert events[-1].data["changes"] == {"fault_code": "HYD-HOSE"}


def test_two_desks_reporting_a_new_customer_at_once_file_both_under_one_record(
    postgres_url: str,
) -> None:
    """On a store whose writers run in parallel, the second report of a customer nobody
    knew is made again and matches the first's record (the HTTP load bench found it
    answered 409 instead)."""
    setup = ServiceDesk(RULES / "default.policy", postgres_url)
    add_team(setup)
    desks = [ServiceDesk(RULES / "default.policy", postgres_url) for _ in range(2)]
    errors: list[BaseException] = []
    for round_ in range(6):
        barrier = threading.Barrier(2)

        def report(desk: ServiceDesk, n: int = round_, start: threading.Barrier = barrier) -> None:
            start.wait()
            try:
                desk.cases.report(**{**REPORT, "customer": {"name": f"New Customer {n}"}},
                                  by="cs1", at=at(n))  # fmt: skip
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=report, args=(d,)) for d in desks]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert errors == []
    cases = setup.cases.find()
    assert len(cases) == 12
    for n in range(6):
        ids = {c.customer.id for c in cases if c.customer.name == f"New Customer {n}"}
        assert len(ids) == 1
