"""What the installed base tells a case at its report: the machine behind the serial (its
model, line, owner and site filled in), the customer's record (matched or to be created),
the contract that covers the machine, and so what covers the case. The case workflow asks
this; the decision itself is :func:`aftersales.core.installed_base.decide_coverage`."""

from __future__ import annotations

from datetime import datetime

import attrs

from aftersales.core.errors import ValidationError
from aftersales.core.installed_base import (
    Contract,
    ContractFacts,
    Coverage,
    CustomerRecord,
    Machine,
    MachineFacts,
    age_months,
    decide_coverage,
    sales_warranty_reason,
)
from aftersales.core.model import Customer, Product
from aftersales.ports.storage import EventWriter
from aftersales.services.basis import Basis
from aftersales.services.contracts import ContractService
from aftersales.services.customers import CustomerService, customer_of, name_key
from aftersales.services.machines import MachineService


@attrs.frozen
class Sighting:
    """The installed base as one report sees it."""

    customer: Customer  # as the case records it, with its record's id
    product: Product  # the report's, with the machine record's model and line filled in
    new_customer: CustomerRecord | None = None  # written with the case
    machine: Machine | None = None
    facts: MachineFacts | None = None
    contract: Contract | None = None
    sales: tuple[str, str] | None = None  # the sales warranty's reason and line, if it covers

    @property
    def contract_facts(self) -> ContractFacts | None:
        c = self.contract
        return None if c is None else ContractFacts(c.id, c.level, c.covers, c.response)

    def coverage(self, rework: tuple[str, str] | None) -> Coverage:
        """What covers the case, given the repair it repeats (if it does)."""
        return decide_coverage(rework=rework, sales=self.sales, contract=self.contract)


class InstalledBase:
    """The customers, machines and contracts, as the case workflow reads them."""

    def __init__(
        self,
        basis: Basis,
        *,
        customers: CustomerService,
        machines: MachineService,
        contracts: ContractService,
    ) -> None:
        self._basis = basis
        self.customers = customers
        self.machines = machines
        self.contracts = contracts

    def sight(self, customer: Customer | None, product: Product, when: datetime) -> Sighting:
        """What the installed base knows of a report's customer and machine at ``when``."""
        machine = self.machines.find(product.serial)
        if machine is not None:
            product = Product(
                product.model or machine.model, product.line or machine.line, machine.serial
            )
        owner = None
        if machine is not None and machine.customer is not None:
            owner = self.customers.find(machine.customer)
        if customer is None:
            if owner is None:
                raise ValidationError(
                    "customer is required: "
                    + (
                        "no machine record names an owner for serial " + str(product.serial)
                        if product.serial
                        else "the report names no machine serial"
                    )
                )
            customer = customer_of(owner)
        new = None
        record = owner if owner is not None and _names(customer, owner) else None
        if record is None:
            record = self.customers.match(customer)
        if record is None:
            new = self.customers.checked(
                name=customer.name,
                id=customer.id,
                key=customer.key,
                tier=customer.tier,
                region=customer.region,
            )
            record = new
        customer = Customer(
            customer.name,
            customer.tier or record.tier,
            customer.region or record.region,
            record.id,
            customer.key or record.key,
        )
        if machine is None:
            return Sighting(customer, product, new)
        day = when.astimezone(self._basis.policy.tz).date()
        warranty = self.machines.warranty(machine)
        reason = None if warranty is None else sales_warranty_reason(machine, warranty, day)
        sales = None if reason is None or warranty is None else (reason, warranty.location)
        facts = MachineFacts(
            machine.serial,
            machine.model,
            machine.line,
            machine.site,
            machine.hours,
            age_months(machine, day),
            sales is not None,
        )
        contract = self.contracts.covering(owner, machine.serial, day)
        return Sighting(customer, product, new, machine, facts, contract, sales)

    def write(self, tx: EventWriter, sighting: Sighting, who: str, at: datetime) -> Customer:
        """Store what a report's sighting found new (its customer record), in ``tx``; returns
        the case's customer, with the id of the record another desk may have stored first."""
        customer = sighting.customer
        if sighting.new_customer is None:
            return customer
        record = self.customers.create_or_match(tx, sighting.new_customer, who, at)
        return attrs.evolve(customer, id=record.id)


def _names(customer: Customer, record: CustomerRecord) -> bool:
    """Whether a report's ``customer`` is ``record`` as the desk matches customers (id, key,
    name), without reading the store again."""
    if customer.id:
        return customer.id == record.id
    if customer.key:
        return customer.key == record.key
    return name_key(customer.name) == name_key(record.name)


__all__ = ["InstalledBase", "Sighting"]
