"""``desk.maintenance``: preventive maintenance as the policy's ``maintenance`` plans say.

Each machine of a plan's line falls due every so many operating hours or every period,
whichever comes first. The SLA tick opens a maintenance case for each plan that has fallen
due (:meth:`MaintenanceService.open_due`), exactly once: the case and the machine's note of
its open visit are one transaction that names the machine's version, so of two desks
ticking at once one opens it and the other finds it open. The case's clock is the plan's
window; repairing (completing) it counts the plan again from then, cancelling it makes the
plan due again at once. When each machine is next due is kept in the store's schedule, so
a tick with nothing due reads nothing but that.
"""

from __future__ import annotations

import builtins
from datetime import datetime, timedelta

import attrs

from aftersales.core.boundary import public_api
from aftersales.core.convert import from_dict
from aftersales.core.errors import ConflictError
from aftersales.core.installed_base import CustomerRecord, Machine, MaintenanceDone
from aftersales.core.model import Notification
from aftersales.ports.storage import utc_text
from aftersales.services.basis import Basis
from aftersales.services.cases import CaseService
from aftersales.services.customers import customer_of
from aftersales.services.machines import KIND, VISITS, MachineService

BATCH = 200
"""Machines a tick handles per read of the schedule."""


@attrs.frozen
class PlanState:
    """One maintenance plan of one machine: when it was last served (time and meter), when
    it is next due (None: nothing dates it yet) and the open visit's case, if any."""

    serial: str
    plan: str
    last_at: datetime | None
    last_hours: float | None
    due: datetime | None
    case: str | None
    location: str

    def overdue(self, now: datetime) -> bool:
        return self.case is None and self.due is not None and self.due <= now


@public_api("desk.maintenance")
class MaintenanceService:
    """Maintenance plans of the installed base: what is due, and the tick that opens visits."""

    def __init__(self, basis: Basis, *, machines: MachineService, cases: CaseService) -> None:
        self._basis = basis
        self._machines = machines
        self._cases = cases

    # -- reading -------------------------------------------------------------------------------
    def plan(self, serial: str) -> builtins.list[PlanState]:
        """The state of each maintenance plan of machine ``serial``'s line."""
        return self._states(self._machines.get(serial))

    def _states(self, machine: Machine) -> builtins.list[PlanState]:
        policy = self._basis.policy
        due = {plan.name: when for plan, when in policy.maintenance_due(machine)}
        out = []
        for plan in policy.maintenance_plans(machine.line):
            done = machine.done(plan.name) or MaintenanceDone(plan.name)
            out.append(PlanState(machine.serial, plan.name, done.at, done.hours,
                                 due.get(plan.name), done.case, plan.location))  # fmt: skip
        return out

    def due(
        self, now: datetime | None = None, *, within: timedelta = timedelta(0)
    ) -> builtins.list[PlanState]:
        """Every plan due by ``now`` plus ``within`` (the visits coming up), soonest first,
        and every visit still open, oldest first after them."""
        when = self._basis.at(now)
        until = when + within
        states: list[PlanState] = []
        for machine in self._candidates(until):
            states += [s for s in self._states(machine) if s.due is not None and s.due <= until]
        states.sort(key=lambda s: (s.due or until, s.serial, s.plan))
        return states + self._open_visits()

    def _open_visits(self) -> builtins.list[PlanState]:
        """The visits open as cases, the oldest first."""
        scheduled = self._basis.storage.scheduled(VISITS, "9999", 10**9)
        if scheduled is None:
            machines = self._machines.list()
        else:
            machines = [m for m in (self._machines.find(s) for s, _ in scheduled) if m]
        return [s for m in machines for s in self._states(m) if s.case]

    def _candidates(self, until: datetime) -> builtins.list[Machine]:
        """The machines whose schedule says they may be due by ``until``."""
        scheduled = self._basis.storage.scheduled(KIND, utc_text(until), 10**9)
        if scheduled is None:  # a store without schedules: every machine
            return [
                m for m in self._machines.list() if self._basis.policy.maintenance_plans(m.line)
            ]
        found = (self._machines.find(serial) for serial, _ in scheduled)
        return [m for m in found if m is not None]

    # -- the tick ------------------------------------------------------------------------------
    def open_due(self, now: datetime | None = None) -> builtins.list[Notification]:
        """Open a maintenance case for each plan fallen due by ``now`` (the SLA tick calls
        this), telling the desk; returns the notifications. A machine without an owner on
        record gets none (``due`` lists it)."""
        if not self._basis.policy.maintenance:
            return []  # the idle tick's usual case: nothing read
        when = self._basis.at(now)
        storage = self._basis.storage
        sent: list[Notification] = []
        skipped: set[str] = set()
        while True:
            scheduled = storage.scheduled(KIND, utc_text(when), BATCH + len(skipped))
            if scheduled is None:
                serials = [m.serial for m in self._candidates(when)]
            else:
                serials = [serial for serial, _ in scheduled if serial not in skipped]
            if not serials:
                return sent
            # a full read may have left due machines behind it: read again after these
            full = scheduled is not None and len(scheduled) >= BATCH + len(skipped)
            for serial in serials:
                try:
                    opened = self._open(serial, when)
                except ConflictError:
                    opened = None  # another desk opened it (or changed the machine) just now
                if opened is None:
                    skipped.add(serial)
                else:
                    sent += opened
            if not full:
                return sent

    def _open(self, serial: str, when: datetime) -> builtins.list[Notification] | None:
        """Open the visits of ``serial`` due by ``when`` in one transaction; None if none
        was opened."""
        storage = self._basis.storage
        policy = self._basis.policy
        done = []
        with storage.transaction() as tx:
            stored = tx.get(KIND, serial)  # held: another desk's tick waits or skips
            if stored is None:
                return None
            machine = from_dict(Machine, stored.data)
            due = [(plan, at) for plan, at in policy.maintenance_due(machine) if at <= when]
            owner = None
            if machine.customer is not None:
                found = tx.get("customer", machine.customer)
                owner = None if found is None else from_dict(CustomerRecord, found.data)
            if not due:
                self._machines.reschedule(tx, machine)  # its schedule was behind its record
                return None
            if owner is None:
                return None
            customer = customer_of(owner)
            opened: dict[str, tuple[str, datetime]] = {}
            for plan, at in due:
                event, case, items, note = self._cases.open_visit(tx, machine, customer, plan,
                                                                  at, when)  # fmt: skip
                opened[plan.name] = (case.id, at)
                done.append((event, case, items, note))
            self._machines.visit_opened(tx, machine, opened, when)
        for event, case, items, _ in done:
            self._cases.visit_opened(event, case, items)
        return [note for *_, note in done]

    def reschedule(self) -> int:
        """Work out again when every machine is next due (after the policy's plans changed:
        ``aftersales maintenance plan --reschedule``). Returns how many machines have a date."""
        dated = 0
        for machine in self._machines.list():
            with self._basis.storage.transaction() as tx:
                self._machines.reschedule(tx, machine)
            dated += self._basis.policy.next_maintenance(machine) is not None
        return dated


__all__ = ["MaintenanceService", "PlanState"]
