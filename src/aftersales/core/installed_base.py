"""The installed base: customers as records, their machines and service contracts, and the
rule that decides what covers a case (sales warranty, contract, repair warranty or the
customer's own money).

Pure: the services read and write these records; what covers a case is decided here from
the records and the policy's numbers, handed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from aftersales.core.calendar import add_months
from aftersales.core.convert import from_dict

COVERAGE_KINDS = ("repair_warranty", "sales_warranty", "contract", "chargeable")
"""What can cover a case, in the order the desk tries them: a repeat of a repair still under
the repair warranty is re-repaired free first, then the machine's sales warranty, then a
service contract; what none covers is chargeable."""

COVERED_ITEMS = ("parts", "labour", "travel")
"""What a contract (or a warranty, which covers all three) pays for."""

CASE_PARTS = ("machine", "contract", "coverage", "visit")
"""What a case keeps of the installed base, as its events and histories name them."""

CHANNELS_PREFERRED = ("phone", "email", "sms", "chat", "post")
"""The ways a contact may prefer to be reached."""


@attrs.frozen
class Site:
    """Where a customer's machines stand: ``id`` is the customer's own name for it."""

    id: str
    address: str | None = None
    region: str | None = None
    timezone: str | None = None


@attrs.frozen
class Contact:
    """A person at the customer. ``consent``: whether they agreed to be contacted by the
    desk (messages other than answers to their own calls)."""

    name: str
    role: str | None = None
    phone: str | None = None
    email: str | None = None
    language: str | None = None
    channel: str | None = None  # the way they prefer (CHANNELS_PREFERRED)
    consent: bool = False


@attrs.frozen
class CustomerRecord:
    """A customer as a record. ``key`` is the value the integrator matches reports by
    (its ERP number, a normalised name...), unique in the store."""

    id: str
    name: str
    tier: str | None = None
    region: str | None = None
    key: str | None = None
    sites: tuple[Site, ...] = ()
    contacts: tuple[Contact, ...] = ()
    contracts: tuple[str, ...] = ()  # ids of its service contracts, oldest first
    version: int = 0

    def site(self, id: str | None) -> Site | None:
        return next((s for s in self.sites if s.id == id), None)


@attrs.frozen
class Reading:
    """An operating-hour meter reading, as recorded at ``at``."""

    hours: float
    at: datetime
    by: str


@attrs.frozen
class MaintenanceDone:
    """When a maintenance plan was last served on a machine: the visit's time and the hours
    read then (None: no reading). ``case``: the open maintenance case, while one is open,
    and ``opened`` when that visit fell due."""

    plan: str
    at: datetime | None = None
    hours: float | None = None
    case: str | None = None
    opened: datetime | None = None


@attrs.frozen
class MaintenanceVisit:
    """What a maintenance case is for: the plan, when it fell due (and at what reading), the
    checklist and the parts kit, and the policy line of the plan."""

    plan: str
    due: datetime
    checklist: tuple[str, ...] = ()
    kit: tuple[tuple[str, int], ...] = ()
    hours: float | None = None  # the meter when it was opened
    location: str = ""


def maintenance_priority(plan: str) -> str:
    """The priority a maintenance case of ``plan`` carries: its own clocks (the plan's
    window), apart from the policy's priorities (no priority name has a colon)."""
    return f"maintenance: {plan}"


@attrs.frozen
class Machine:
    """A machine of the installed base, by its serial number.

    ``warranty_months`` and ``warranty_hours`` are its own sales warranty (either may be
    left out; the policy's ``sales warranty`` for its line applies where both are), counted
    from ``commissioned``. ``reading`` is the latest meter reading; every reading is an
    event of the machine's history."""

    serial: str
    model: str | None = None
    line: str | None = None
    customer: str | None = None  # a customer record's id
    site: str | None = None  # a site id of that customer
    commissioned: date | None = None
    warranty_months: int | None = None
    warranty_hours: float | None = None
    reading: Reading | None = None
    readings: int = 0
    maintenance: tuple[MaintenanceDone, ...] = ()
    version: int = 0

    @property
    def hours(self) -> float | None:
        return None if self.reading is None else self.reading.hours

    def done(self, plan: str) -> MaintenanceDone | None:
        return next((m for m in self.maintenance if m.plan == plan), None)


@attrs.frozen
class Contract:
    """A service contract (an entitlement): the customer's machines it covers (all of
    them when ``machines`` is empty) from ``starts`` to ``ends`` inclusive, what it pays for
    (``covers``, from COVERED_ITEMS) and the response it promises (``response``, a name
    the policy's rules can read as ``contract.response``)."""

    id: str
    customer: str
    level: str
    starts: date
    ends: date
    covers: tuple[str, ...] = COVERED_ITEMS
    machines: tuple[str, ...] = ()
    response: str | None = None
    cancelled: date | None = None  # ended early from this day on
    version: int = 0

    def valid_on(self, day: date) -> bool:
        return self.starts <= day <= self.ends and (self.cancelled is None or day < self.cancelled)

    def covers_machine(self, serial: str) -> bool:
        return not self.machines or serial in self.machines


@attrs.frozen
class SalesWarranty:
    """A machine's sales warranty as it applies: months and operating hours from
    commissioning, whichever ends first; ``location`` is the policy line (or ``machine``,
    where the machine record sets its own)."""

    months: int | None
    hours: float | None
    location: str


@attrs.frozen
class Coverage:
    """What covers a case, decided at its report (and again when its machine or fault
    changes): ``kind`` from COVERAGE_KINDS, ``reason`` in words, ``location`` the policy
    line or record that decides, ``covers`` what is paid for."""

    kind: str
    reason: str
    location: str
    covers: tuple[str, ...] = ()
    contract: str | None = None  # the contract's id (kind contract)
    original: str | None = None  # the repaired case's number this one repeats (repair warranty)

    @property
    def chargeable(self) -> bool:
        return self.kind == "chargeable"


@attrs.frozen
class MachineFacts:
    """The machine as a case was reported for it: what the policy's ``machine.*`` fields
    read, kept on the case so a later decision reads what the first one did."""

    serial: str
    model: str | None = None
    line: str | None = None
    site: str | None = None
    hours: float | None = None
    age_months: int | None = None
    under_warranty: bool = False  # its sales warranty covered it at the report


@attrs.frozen
class ContractFacts:
    """The service contract covering a case's machine at its report (``contract.*``)."""

    id: str
    level: str
    covers: tuple[str, ...] = ()
    response: str | None = None


def facts_record(
    machine: MachineFacts | None, contract: ContractFacts | None, coverage: Coverage | None
) -> dict[str, object]:
    """``machine``, ``contract`` and ``coverage`` as policy expressions read them; a part
    the case does not have is left out (a missing field, which equals nothing)."""
    out: dict[str, object] = {}
    if machine is not None:
        out["machine"] = attrs.asdict(machine)
    if contract is not None:
        covers = {item: item in contract.covers for item in COVERED_ITEMS}
        out["contract"] = {
            "id": contract.id,
            "level": contract.level,
            "response": contract.response,
            **covers,
        }
    if coverage is not None:
        out["coverage"] = coverage.kind
    return out


def decide_coverage(
    *,
    rework: tuple[str, str] | None,
    sales: tuple[str, str] | None,
    contract: Contract | None,
) -> Coverage:
    """What covers a case, trying COVERAGE_KINDS in order: ``rework`` (the repaired case's
    number and the warranty line) when the fault repeats a repair under its warranty,
    ``sales`` (why, and the line or record) when the machine's sales warranty covers it,
    then the ``contract`` covering the machine; else the customer pays."""
    if rework is not None:
        number, location = rework
        return Coverage(
            "repair_warranty",
            f"repeats the repair of {number} under its warranty",
            location,
            COVERED_ITEMS,
            original=number,
        )
    if sales is not None:
        reason, location = sales
        return Coverage("sales_warranty", reason, location, COVERED_ITEMS)
    if contract is not None:
        ends = contract.ends if contract.cancelled is None else contract.cancelled
        return Coverage(
            "contract",
            f"{contract.level} contract {contract.id} until {ends}",
            f"contract {contract.id}",
            contract.covers,
            contract=contract.id,
        )
    return Coverage("chargeable", "no warranty or contract covers it", "")


def case_parts(data: Mapping[str, Any]) -> dict[str, Any]:
    """The installed-base parts (:data:`CASE_PARTS`) that ``data`` (an event's data, a
    history's record) names, read into their classes; a part given as None stays None."""
    classes = {"machine": MachineFacts, "contract": ContractFacts, "coverage": Coverage,
               "visit": MaintenanceVisit}  # fmt: skip
    return {
        name: None if data[name] is None else from_dict(classes[name], data[name])
        for name in CASE_PARTS
        if name in data
    }


def warranty_end(machine: Machine, warranty: SalesWarranty) -> date | None:
    """The last day the months of a sales warranty cover (None: no months, or the machine's
    commissioning date is not known)."""
    if warranty.months is None or machine.commissioned is None:
        return None
    return add_months(machine.commissioned, warranty.months)


def sales_warranty_reason(machine: Machine, warranty: SalesWarranty, on: date) -> str | None:
    """Why the sales warranty covers ``machine`` on ``on`` (words), or None when it does not:
    commissioned, not past its months, and under its hours by the latest reading. A warranty
    of hours alone needs a reading; one of months alone needs the commissioning date."""
    if machine.commissioned is None or on < machine.commissioned:
        return None
    end = warranty_end(machine, warranty)
    if warranty.months is not None and (end is None or on >= end):
        return None
    if warranty.hours is not None:
        if machine.hours is None:
            if warranty.months is None:
                return None
        elif machine.hours >= warranty.hours:
            return None
    parts = []
    if end is not None:
        parts.append(f"until {end.isoformat()}")
    if warranty.hours is not None:
        shown = "no reading" if machine.hours is None else f"{machine.hours:g} h read"
        parts.append(f"under {warranty.hours:g} operating hours ({shown})")
    return f"sales warranty of {machine.serial}: " + ", ".join(parts)


def age_months(machine: Machine, on: date) -> int | None:
    """Whole months since commissioning (None: not known)."""
    if machine.commissioned is None:
        return None
    c = machine.commissioned
    months = (on.year - c.year) * 12 + on.month - c.month - (on.day < c.day)
    return max(months, 0)


__all__ = [
    "CASE_PARTS",
    "CHANNELS_PREFERRED",
    "COVERAGE_KINDS",
    "COVERED_ITEMS",
    "Contact",
    "Contract",
    "ContractFacts",
    "Coverage",
    "CustomerRecord",
    "Machine",
    "MachineFacts",
    "MaintenanceDone",
    "MaintenanceVisit",
    "Reading",
    "SalesWarranty",
    "Site",
    "age_months",
    "case_parts",
    "decide_coverage",
    "facts_record",
    "maintenance_priority",
    "sales_warranty_reason",
    "warranty_end",
]
