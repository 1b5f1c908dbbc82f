"""``desk.contracts``: service contracts (entitlements). A contract covers some or all of a
customer's machines for a period, pays for parts, labour and/or travel, and names the
response it promises; a case reported for a covered machine records it, and the policy's
rules can read it (``contract.level``, ``contract.response``)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import date, datetime

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.errors import ValidationError
from aftersales.core.installed_base import COVERED_ITEMS, Contract, CustomerRecord
from aftersales.core.permissions import permit
from aftersales.core.values import shown
from aftersales.services.basis import Basis
from aftersales.services.customers import CustomerService
from aftersales.services.machines import MachineService
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory

KIND = "contract"
MAX_YEARS = 30
"""The longest contract the desk takes."""


@public_api("desk.contracts")
class ContractService:
    """Service contracts: add, cancel, and which one covers a machine on a day."""

    def __init__(
        self,
        basis: Basis,
        *,
        staff: StaffDirectory,
        customers: CustomerService,
        machines: MachineService,
    ) -> None:
        self._basis = basis
        self._staff = staff
        self._customers = customers
        self._machines = machines
        self._contracts = Repository(basis.storage, KIND, Contract, "contract")

    # -- reading -------------------------------------------------------------------------------
    def get(self, id: str) -> Contract:
        return self._contracts.get(id)

    def list(self, *, customer: str | None = None) -> builtins.list[Contract]:
        """Every contract (of one customer: read through its record), by id."""
        if customer is None:
            return self._contracts.all()
        return [self.get(i) for i in self._customers.get(customer).contracts]

    def covering(
        self, customer: str | CustomerRecord | None, serial: str, on: date
    ) -> Contract | None:
        """The contract of ``customer`` (an id, or its record as read) that covers machine
        ``serial`` on ``on``: of several, the one that started last (a renewal over an old
        one); None: none does."""
        record = customer
        if isinstance(customer, str):
            record = self._customers.find(customer)
        if not isinstance(record, CustomerRecord):
            return None
        best: Contract | None = None
        for contract_id in record.contracts:
            contract = self._contracts.find(contract_id)
            if contract is None or not contract.valid_on(on) or not contract.covers_machine(serial):
                continue
            if best is None or (contract.starts, contract.id) > (best.starts, best.id):
                best = contract
        return best

    # -- writing -------------------------------------------------------------------------------
    def add(
        self,
        *,
        customer: str,
        level: str,
        starts: date,
        ends: date,
        by: str,
        covers: Iterable[str] = COVERED_ITEMS,
        machines: Iterable[str] = (),
        response: str | None = None,
        id: str | None = None,
        at: datetime | None = None,
    ) -> Contract:
        """Record a service contract of ``customer`` (a service agent or manager) from
        ``starts`` to ``ends`` (both included) for ``machines`` (serials of the customer's
        machines; none: all of them, including machines added later)."""
        permit(self._staff.actor(by), "contracts.add", "record service contracts")
        record = self._customers.get(values.key(customer, "customer"))
        first = values.day(starts, "starts")
        last = values.day(ends, "ends")
        if last < first:
            raise ValidationError(f"the contract ends ({last}) before it starts ({first})")
        if (last - first).days > MAX_YEARS * 366:
            raise ValidationError(f"a contract runs at most {MAX_YEARS} years")
        listed = [covers] if isinstance(covers, str) else values.items(covers, "covers")
        wrong = [c for c in listed if not isinstance(c, str) or c not in COVERED_ITEMS]
        items = tuple(dict.fromkeys(c for c in listed if isinstance(c, str)))
        if wrong:
            raise ValidationError(
                f"a contract covers {', '.join(COVERED_ITEMS)}, not {', '.join(map(shown, wrong))}"
            )
        serials = []
        for serial in values.items(
            [machines] if isinstance(machines, str) else machines, "machines"
        ):
            machine = self._machines.get(values.key(serial, "serial"))
            if machine.customer != record.id:
                raise ValidationError(
                    f"machine {machine.serial} is not customer {record.id}'s "
                    f"(it is {machine.customer or 'nobody'}'s)"
                )
            serials.append(machine.serial)
        when = self._basis.at(at)
        with self._basis.storage.transaction() as tx:
            cid = values.name(id, "contract id", required=False)
            if cid is None:
                cid = f"SC-{tx.next_number('contract'):06d}"
            contract = Contract(
                cid,
                record.id,
                values.name(level, "level"),
                first,
                last,
                items,
                tuple(dict.fromkeys(serials)),
                values.name(response, "response", required=False),
                version=1,
            )
            self._contracts.create(contract, "added", by, when, tx=tx)
            self._customers.add_contract(tx, record.id, cid, by, when)
        return contract

    def cancel(
        self, id: str, *, on: date, reason: str, by: str, at: datetime | None = None
    ) -> Contract:
        """End a contract early: it covers nothing from ``on`` (a manager)."""
        permit(self._staff.actor(by), "contracts.cancel", "cancel service contracts")
        before = self.get(id)
        day = values.day(on, "on")
        if before.cancelled is not None:
            raise ValidationError(f"contract {id} was cancelled from {before.cancelled} already")
        after = attrs.evolve(before, cancelled=day, version=before.version + 1)
        data = {"on": day.isoformat(), "reason": values.text(reason, "the reason")}
        return self._contracts.save(before, after, "cancelled", by, self._basis.at(at), data)

    def history(self, id: str) -> builtins.list[dict[str, object]]:
        self.get(id)
        return self._contracts.events(id)


__all__ = ["ContractService"]
