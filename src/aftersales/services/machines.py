"""``desk.machines``: the installed base, machine by serial number.

A machine belongs to a customer record (and one of its sites), carries its commissioning
date and sales warranty, and its operating-hour meter readings: each reading is an event of
the machine, the latest is in its snapshot (what the rules read). Its history (cases,
repairs, reworks, parts fitted, readings, maintenance) is gathered from the cases reported
for its serial, which the case index finds.
"""

from __future__ import annotations

import builtins
import csv
import io
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.convert import from_dict, to_dict
from aftersales.core.errors import AftersalesError, NotFound, ValidationError
from aftersales.core.installed_base import (
    CustomerRecord,
    Machine,
    MaintenanceDone,
    Reading,
    SalesWarranty,
    age_months,
    sales_warranty_reason,
)
from aftersales.core.model import Case, CaseEvent
from aftersales.core.permissions import permit
from aftersales.core.values import shown
from aftersales.ports.storage import CaseQuery, Scheduler, Transaction, event_record, utc_text
from aftersales.services.basis import Basis
from aftersales.services.case_book import CaseBook
from aftersales.services.customers import CustomerService, name_key
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory

KIND = "machine"
VISITS = "machine-visit"
"""The schedule kind of machines with a maintenance visit open."""
MAX_HOURS = 1_000_000.0
"""The largest meter reading the desk takes (a machine's whole life is far less)."""
IMPORT_BATCH = 500
"""Machines written per transaction by an import."""
IMPORT_COLUMNS = (
    "serial",
    "model",
    "line",
    "customer",
    "customer_key",
    "tier",
    "region",
    "site",
    "commissioned",
    "warranty_months",
    "warranty_hours",
    "hours",
)
"""The columns ``import_csv`` reads (``serial`` is required; the rest may be left out)."""


@attrs.frozen
class FittedPart:
    """A part a case fitted to the machine."""

    sku: str
    quantity: int
    case: str  # the case's number
    at: datetime
    serials: tuple[str, ...] = ()  # the parts' own serials, where they have them


@attrs.frozen
class HistoryEntry:
    """One line of a machine's history: ``what`` happened at ``at``; ``case`` is the case's
    number where a case is behind it."""

    at: datetime
    what: str  # reported, repaired, rework, reading, commissioned, maintenance
    text: str
    case: str | None = None


@attrs.frozen
class MachineHistory:
    machine: Machine
    entries: tuple[HistoryEntry, ...]
    parts: tuple[FittedPart, ...]


@attrs.frozen
class Rejected:
    """A row an import left out, and why."""

    line: int
    serial: str | None
    reason: str


@attrs.frozen
class MachineImport:
    """What ``import_csv`` did: machines added and updated, customers created, rows left
    out with their reasons (none is left out silently)."""

    added: int
    updated: int
    customers: int
    rejected: tuple[Rejected, ...]


def _hours(value: Any, what: str) -> float:
    amount = values.amount(value, what, minimum=0)
    if amount > MAX_HOURS:
        raise ValidationError(f"{what} {amount:,} is more than a machine runs ({MAX_HOURS:,.0f})")
    return float(amount)


@public_api("desk.machines")
class MachineService:
    """Machines: add, update, read the meter, and their history."""

    def __init__(
        self,
        basis: Basis,
        *,
        staff: StaffDirectory,
        customers: CustomerService,
        cases: CaseBook,
    ) -> None:
        self._basis = basis
        self._staff = staff
        self._customers = customers
        self._cases = cases
        self._machines = Repository(basis.storage, KIND, Machine, "machine", key=lambda m: m.serial)

    # -- reading -------------------------------------------------------------------------------
    def get(self, serial: str) -> Machine:
        """The machine ``serial``; NotFound if the installed base has none."""
        return self._machines.get(serial, f"no machine {shown(serial)} in the installed base")

    def find(self, serial: str | None) -> Machine | None:
        """The machine ``serial``, or None (also for no serial)."""
        if serial is None:
            return None
        return self._machines.find(serial)

    def list(self, *, customer: str | None = None) -> builtins.list[Machine]:
        """Every machine (of one customer), by serial."""
        machines = self._machines.all()
        return [m for m in machines if customer is None or m.customer == customer]

    def warranty(self, machine: Machine) -> SalesWarranty | None:
        """The sales warranty that applies to ``machine``: its own, else the policy's for
        its line (None: neither gives one)."""
        if machine.warranty_months is not None or machine.warranty_hours is not None:
            return SalesWarranty(
                machine.warranty_months, machine.warranty_hours, f"machine {machine.serial}"
            )
        rule = self._basis.policy.sales_warranty(machine.line)
        return None if rule is None else SalesWarranty(rule.months, rule.hours, rule.location)

    def under_warranty(self, machine: Machine, on: date) -> str | None:
        """Why the sales warranty covers ``machine`` on ``on`` (None: it does not)."""
        warranty = self.warranty(machine)
        return None if warranty is None else sales_warranty_reason(machine, warranty, on)

    def age_months(self, machine: Machine, on: date) -> int | None:
        return age_months(machine, on)

    def readings(self, serial: str) -> builtins.list[Reading]:
        """Every meter reading of the machine, oldest first."""
        self.get(serial)
        return [
            Reading(e["data"]["hours"], datetime.fromisoformat(e["data"]["at"]), e["by"])
            for e in self._machines.events(serial)
            if e["type"] in ("added", "read") and e["data"].get("hours") is not None
        ]

    def parts(self, serial: str) -> builtins.list[FittedPart]:
        """The parts the machine's cases fitted, in the order they were fitted."""
        return [p for case in self._cases_of(serial) for p in self._fitted(case)]

    def history(self, serial: str) -> MachineHistory:
        """The machine's life in order: commissioning, its cases (reported, repaired, the
        reworks of earlier repairs), meter readings; and the parts fitted."""
        machine = self.get(serial)
        entries: list[HistoryEntry] = []
        parts: list[FittedPart] = []
        if machine.commissioned is not None:
            noon = datetime.combine(machine.commissioned, datetime.min.time())
            entries.append(
                HistoryEntry(
                    self._basis.policy.local(noon),
                    "commissioned",
                    f"commissioned at {machine.site or 'its site'}",
                )
            )
        for case in self._cases_of(serial):
            entries.extend(_case_entries(case))
            parts.extend(self._fitted(case))
        for reading in self.readings(serial):
            entries.append(HistoryEntry(reading.at, "reading", f"{reading.hours:g} h read"))
        entries.sort(key=lambda e: e.at)
        return MachineHistory(machine, tuple(entries), tuple(parts))

    def _fitted(self, case: Case) -> builtins.list[FittedPart]:
        return _fitted(case, self._cases.history(case.id)) if case.repair or case.rejections else []

    def _cases_of(self, serial: str) -> Iterator[Case]:
        return self._cases.matching(CaseQuery(serial=values.key(serial, "serial")))

    # -- writing -------------------------------------------------------------------------------
    def add(
        self,
        *,
        serial: str,
        by: str,
        model: str | None = None,
        line: str | None = None,
        customer: str | None = None,
        site: str | None = None,
        commissioned: date | None = None,
        warranty_months: int | None = None,
        warranty_hours: float | None = None,
        hours: float | None = None,
        at: datetime | None = None,
    ) -> Machine:
        """Add a machine to the installed base (a service agent or manager). ``customer``
        is a customer record's id and ``site`` one of its sites; ``hours`` a first meter
        reading, taken ``at``. ConflictError if the serial is there already."""
        permit(self._staff.actor(by), "machines.add", "add machines")
        when = self._basis.at(at)
        machine = self._checked(
            serial=serial,
            model=model,
            line=line,
            customer=customer,
            site=site,
            commissioned=commissioned,
            warranty_months=warranty_months,
            warranty_hours=warranty_hours,
            hours=hours,
            by=by,
            at=when,
        )
        data = {"hours": machine.hours, "at": when.isoformat()}
        with self._basis.storage.transaction() as tx:
            self._machines.create(machine, "added", by, when, data, tx=tx)
            self.reschedule(tx, machine)
        return machine

    def _checked(
        self,
        *,
        serial: Any,
        model: Any,
        line: Any,
        customer: Any,
        site: Any,
        commissioned: Any,
        warranty_months: Any,
        warranty_hours: Any,
        hours: Any,
        by: str,
        at: datetime,
        record: CustomerRecord | None = None,
    ) -> Machine:
        sid = values.name(serial, "serial")
        who = f"machine {sid}"
        owner = record
        if customer is not None and owner is None:
            owner = self._customers.get(values.key(customer, "customer"))
        site_id = values.name(site, f"{who}: site", required=False)
        if site_id is not None:
            if owner is None:
                raise ValidationError(f"{who}: a site needs the customer it belongs to")
            if owner.site(site_id) is None:
                known = ", ".join(s.id for s in owner.sites) or "none"
                raise ValidationError(
                    f"{who}: customer {owner.id} has no site {shown(site_id)}; its sites: {known}"
                )
        day = None if commissioned is None else values.day(commissioned, f"{who}: commissioned")
        if day is not None and day > self._basis.at(None).date():
            raise ValidationError(f"{who}: commissioned {day.isoformat()} lies in the future")
        months = None
        if warranty_months is not None:
            months = values.count(warranty_months, f"{who}: warranty_months", maximum=1200)
        w_hours = None
        if warranty_hours is not None:
            w_hours = _hours(warranty_hours, f"{who}: warranty_hours")
        reading = None
        if hours is not None:
            reading = Reading(_hours(hours, f"{who}: hours"), at, by)
        return Machine(
            sid,
            values.name(model, f"{who}: model", required=False),
            values.name(line, f"{who}: line", required=False),
            None if owner is None else owner.id,
            site_id,
            day,
            months,
            w_hours,
            reading,
            0 if reading is None else 1,
            version=1,
        )

    def update(
        self,
        serial: str,
        *,
        by: str,
        reason: str,
        model: Any = ...,
        line: Any = ...,
        customer: Any = ...,
        site: Any = ...,
        commissioned: Any = ...,
        warranty_months: Any = ...,
        warranty_hours: Any = ...,
        at: datetime | None = None,
    ) -> Machine:
        """Correct or change a machine's record (those given; a sale to another customer is
        a change of ``customer``, with ``site``), with the reason. Cases keep the machine as
        they were reported."""
        permit(self._staff.actor(by), "machines.update", "change machine records")
        before = self.get(serial)
        when = self._basis.at(at)
        given = {
            "model": model,
            "line": line,
            "customer": customer,
            "site": site,
            "commissioned": commissioned,
            "warranty_months": warranty_months,
            "warranty_hours": warranty_hours,
        }
        changed = {k: v for k, v in given.items() if v is not ...}
        if not changed:
            raise ValidationError("update needs one of: " + ", ".join(given))
        if "customer" in changed and "site" not in changed:
            changed["site"] = None  # a site belongs to the customer it was of
        merged = {k: getattr(before, k) for k in given} | changed
        checked = self._checked(serial=before.serial, hours=None, by=by, at=when, **merged)
        after = attrs.evolve(
            before, **{k: getattr(checked, k) for k in changed}, version=before.version + 1
        )
        data = {
            "reason": values.text(reason, "the reason"),
            "changes": {k: to_dict(after)[k] for k in changed},
        }
        return self._save(before, after, "updated", by, when, data)

    def reading(self, serial: str, hours: float, *, by: str, at: datetime | None = None) -> Machine:
        """Record the operating-hour meter at ``at`` (engineers read it on site; customer
        service takes it on the phone). Readings come in order and never fall: a reading
        below an earlier one, or dated before the latest, is refused."""
        permit(self._staff.actor(by), "machines.reading", "record meter readings")
        before = self.get(serial)
        when = self._basis.at(at)
        value = _hours(hours, f"machine {before.serial}: hours")
        last = before.reading
        if last is not None:
            if when < last.at:
                raise ValidationError(
                    f"machine {before.serial}: a reading at {when:%Y-%m-%d %H:%M} is older than "
                    f"the latest ({last.at:%Y-%m-%d %H:%M}); record readings in order"
                )
            if value < last.hours:
                raise ValidationError(
                    f"machine {before.serial}: {value:g} h is less than the {last.hours:g} h "
                    f"read at {last.at:%Y-%m-%d %H:%M}; a meter only rises (a replaced meter: "
                    "correct the record with update)"
                )
        after = attrs.evolve(
            before,
            reading=Reading(value, when, by),
            readings=before.readings + 1,
            version=before.version + 1,
        )
        return self._save(before, after, "read", by, when, {"hours": value, "at": when.isoformat()})

    def maintained(
        self,
        serial: str,
        *,
        plan: str,
        at: datetime,
        by: str,
        hours: float | None = None,
    ) -> Machine:
        """Record a maintenance visit done outside the desk (before the installed base came
        to it, or by a third party): the plan counts again from ``at`` and ``hours`` (the
        meter then). The plan must be one the policy has for the machine's line; a visit
        older than the last one recorded is refused."""
        permit(self._staff.actor(by), "machines.maintained", "record maintenance visits")
        before = self.get(serial)
        names = [p.name for p in self._basis.policy.maintenance_plans(before.line)]
        if plan not in names:
            raise ValidationError(
                f"machine {before.serial} ({before.line or 'no line'}) has no maintenance plan "
                f"{shown(plan)}; its plans: {', '.join(names) or 'none'}"
            )
        when = values.moment(at, "at")
        if when > self._basis.now():
            raise ValidationError(f"a visit at {when:%Y-%m-%d %H:%M} lies in the future")
        meter = None if hours is None else _hours(hours, f"machine {before.serial}: hours")
        last = before.done(plan)
        if last is not None and last.case is not None:
            raise ValidationError(
                f"machine {before.serial} has a visit of {plan} open ({last.case}); complete it"
            )
        if last is not None and last.at is not None and when < last.at:
            raise ValidationError(
                f"machine {before.serial}: {plan} was last done {last.at:%Y-%m-%d %H:%M}, "
                "after this visit"
            )
        kept = tuple(m for m in before.maintenance if m.plan != plan)
        after = attrs.evolve(before, maintenance=(*kept, MaintenanceDone(plan, when, meter)),
                             version=before.version + 1)  # fmt: skip
        data = {"plan": plan, "at": when.isoformat(), "hours": meter}
        return self._save(before, after, "maintained", by, self._basis.at(None), data)

    def _save(
        self,
        before: Machine,
        after: Machine,
        event: str,
        by: str,
        at: datetime,
        data: Mapping[str, Any],
    ) -> Machine:
        with self._basis.storage.transaction() as tx:
            self._machines.save(before, after, event, by, at, data, tx=tx)
            self.reschedule(tx, after)
        return after

    def reschedule(self, tx: Scheduler, machine: Machine) -> None:
        """Write when ``machine`` is next due for maintenance under the desk's policy, in
        ``tx`` (with the machine's own write, so the two never disagree)."""
        due = self._basis.policy.next_maintenance(machine)
        tx.schedule(KIND, [(machine.serial, None if due is None else utc_text(due))])
        # the machines with a visit open, by when the oldest fell due: what `maintenance due`
        # lists without reading every machine
        opened = [m.opened for m in machine.maintenance if m.case is not None and m.opened]
        tx.schedule(VISITS, [(machine.serial, utc_text(min(opened)) if opened else None)])

    def visit_ended(
        self, tx: Transaction, case: Case, *, done: bool, at: datetime, who: str
    ) -> None:
        """In ``tx``: the maintenance visit ``case`` ended (``done``: served, the plan counts
        again from now and the meter as last read; else cancelled, due again at once)."""
        visit = case.visit
        stored = None if visit is None else tx.get(KIND, case.product.serial or "")
        if visit is None or stored is None:
            return  # the machine left the installed base meanwhile
        before = from_dict(Machine, stored.data)
        last = before.done(visit.plan)
        if last is None or last.case != case.id:
            return  # another visit of the plan is the one that counts
        ended = (MaintenanceDone(visit.plan, at, before.hours) if done
                 else attrs.evolve(last, case=None, opened=None))  # fmt: skip
        kept = tuple(m for m in before.maintenance if m.plan != visit.plan)
        after = attrs.evolve(before, maintenance=(*kept, ended), version=stored.version + 1)
        data = {"plan": visit.plan, "case": case.number, "done": done}
        tx.append(KIND, before.serial, stored.version,
                  [event_record(after.version, "maintained" if done else "visit_cancelled",
                                who, at, data)], to_dict(after))  # fmt: skip
        self.reschedule(tx, after)

    def visit_opened(
        self,
        tx: Transaction,
        machine: Machine,
        opened: dict[str, tuple[str, datetime]],
        at: datetime,
    ) -> Machine:
        """In ``tx``: the maintenance cases ``opened`` (plan: case id and when it fell due)
        are the machine's open visits; its schedule moves on."""
        kept = {m.plan: m for m in machine.maintenance}
        for plan, (case_id, due) in opened.items():
            last = kept.get(plan) or MaintenanceDone(plan)
            kept[plan] = attrs.evolve(last, case=case_id, opened=due)
        after = attrs.evolve(machine, maintenance=tuple(kept.values()),
                             version=machine.version + 1)  # fmt: skip
        tx.append(KIND, machine.serial, machine.version,
                  [event_record(after.version, "visit_opened", "", at,
                                {"cases": {plan: case for plan, (case, _) in opened.items()}})],
                  to_dict(after))  # fmt: skip
        self.reschedule(tx, after)
        return after

    # -- importing an installed base -----------------------------------------------------------
    def import_csv(
        self,
        source: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
        *,
        by: str,
        at: datetime | None = None,
    ) -> MachineImport:
        """Add (or update) machines from a CSV file (or rows as mappings) with the columns
        :data:`IMPORT_COLUMNS`. A row's ``customer`` is matched to a record by id, key
        (``customer_key``) or name, and a record is created for a name that matches none.
        A machine already in the base is updated from the row's non-empty cells. A row with
        a mistake is left out with its line and reason; the others are written, 500 a
        transaction."""
        permit(self._staff.actor(by), "machines.import_csv", "import machines")
        when = self._basis.at(at)
        rows = self._rows(source)
        added = updated = created = 0
        rejected: list[Rejected] = []
        seen: set[str] = set()
        batch: list[tuple[int, Mapping[str, Any]]] = []

        def flush() -> None:
            nonlocal added, updated, created
            with self._basis.storage.transaction() as tx:
                made: dict[str, CustomerRecord] = {}
                for line, row in batch:
                    try:
                        outcome = self._import_row(tx, row, by, when, made)
                    except AftersalesError as exc:
                        rejected.append(Rejected(line, row.get("serial") or None, str(exc)))
                        continue
                    added += outcome == "added"
                    updated += outcome == "updated"
                created += len(made)
            batch.clear()

        for line, row in rows:
            serial = (row.get("serial") or "").strip()
            if serial in seen:
                rejected.append(
                    Rejected(line, serial, f"serial {serial} appears twice in the file")
                )
                continue
            seen.add(serial)
            batch.append((line, row))
            if len(batch) >= IMPORT_BATCH:
                flush()
        if batch:
            flush()
        return MachineImport(added, updated, created, tuple(rejected))

    def _rows(
        self, source: str | os.PathLike[str] | Iterable[Mapping[str, Any]]
    ) -> Iterator[tuple[int, Mapping[str, Any]]]:
        if not isinstance(source, (str, os.PathLike)):
            for number, row in enumerate(source, start=1):
                if not isinstance(row, Mapping):
                    raise ValidationError(f"row {number} is a mapping, not {type(row).__name__}")
                yield number, row
            return
        path = Path(source)
        try:
            text = path.read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"cannot read {path}: {exc}") from None
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = [c.strip() for c in reader.fieldnames or []]
        if "serial" not in columns:
            raise ValidationError(
                f"{path}: no serial column; the columns are " + ", ".join(IMPORT_COLUMNS)
            )
        unknown = [c for c in columns if c not in IMPORT_COLUMNS]
        if unknown:
            raise ValidationError(
                f"{path}: unknown column {', '.join(map(repr, unknown))}; the columns are "
                + ", ".join(IMPORT_COLUMNS)
            )
        reader.fieldnames = columns
        for row in reader:
            if None in row:
                yield reader.line_num, {"serial": row.get("serial"), "_extra": row[None]}
                continue
            yield reader.line_num, {k: v.strip() for k, v in row.items() if v and v.strip()}

    def _import_row(
        self,
        tx: Any,
        row: Mapping[str, Any],
        by: str,
        at: datetime,
        made: dict[str, CustomerRecord],
    ) -> str:
        if "_extra" in row:
            raise ValidationError("the row has more cells than the header has columns")
        unknown = sorted(set(row) - set(IMPORT_COLUMNS))
        if unknown:
            raise ValidationError(f"unknown field {', '.join(map(repr, unknown))}")
        if not row.get("serial"):
            raise ValidationError("the row has no serial")
        serial = values.name(row.get("serial"), "serial")
        # a new customer is written only once the row's machine checks out: a row left out
        # leaves nothing behind
        record, new = self._import_customer(tx, row)
        fields = {
            "model": row.get("model"),
            "line": row.get("line"),
            "site": row.get("site"),
            "commissioned": _day_of(row, "commissioned"),
            "warranty_months": _number(row.get("warranty_months"), "warranty_months", whole=True),
            "warranty_hours": _number(row.get("warranty_hours"), "warranty_hours"),
        }
        hours = _number(row.get("hours"), "hours")
        stored = tx.get(KIND, serial)
        if stored is None:
            machine = self._checked(
                serial=serial, customer=None, hours=hours, by=by, at=at, record=record, **fields
            )
            self._create_customer(tx, new, by, at, made)
            data = {"hours": machine.hours, "at": at.isoformat(), "imported": True}
            tx.append(KIND, serial, 0, [event_record(1, "added", by, at, data)], to_dict(machine))
            self.reschedule(tx, machine)
            return "added"
        before = from_dict(Machine, stored.data)
        given = {k: v for k, v in fields.items() if v is not None}
        if record is not None:
            given["customer"] = record.id
        merged = {k: getattr(before, k) for k in fields} | given
        owner = record
        if owner is None and before.customer is not None:
            stored_owner = tx.get("customer", before.customer)
            owner = None if stored_owner is None else from_dict(CustomerRecord, stored_owner.data)
        merged.pop("customer", None)
        checked = self._checked(
            serial=serial, customer=None, hours=None, by=by, at=at, record=owner, **merged
        )
        last = before.reading
        if hours is not None and last is not None and hours < last.hours:
            raise ValidationError(
                f"hours {hours:g} is less than the {last.hours:g} h read at "
                f"{last.at:%Y-%m-%d %H:%M}; a meter only rises"
            )
        self._create_customer(tx, new, by, at, made)
        after = attrs.evolve(
            before, **{k: getattr(checked, k) for k in given}, version=stored.version + 1
        )
        events = [
            event_record(
                after.version,
                "updated",
                by,
                at,
                {"reason": "import", "changes": {k: to_dict(after)[k] for k in given}},
            )
        ]
        if hours is not None and (before.reading is None or hours > before.reading.hours):
            after = attrs.evolve(
                after,
                reading=Reading(hours, at, by),
                readings=after.readings + 1,
                version=after.version + 1,
            )
            events.append(
                event_record(after.version, "read", by, at, {"hours": hours, "at": at.isoformat()})
            )
        tx.append(KIND, serial, stored.version, events, to_dict(after))
        self.reschedule(tx, after)
        return "updated"

    def _import_customer(
        self, tx: Any, row: Mapping[str, Any]
    ) -> tuple[CustomerRecord | None, CustomerRecord | None]:
        """The row's customer record, and that record again if it is new (not yet written)."""
        name, key = row.get("customer"), row.get("customer_key")
        if name is None and key is None:
            return None, None
        for found in (
            key is not None and self._indexed(tx, "customer-key", key),
            name is not None and tx.get("customer", name),
            name is not None and self._indexed(tx, "customer-name", name_key(name)),
        ):
            if found:
                return from_dict(CustomerRecord, found.data), None
        if name is None:
            raise NotFound(f"no customer with the key {shown(key)}, and no name to create one")
        record = self._customers.checked(
            name=name, key=key, tier=row.get("tier"), region=row.get("region")
        )
        return record, record

    def _create_customer(
        self,
        tx: Any,
        record: CustomerRecord | None,
        by: str,
        at: datetime,
        made: dict[str, CustomerRecord],
    ) -> None:
        if record is not None:
            self._customers.create(tx, record, by, at)
            made[record.id] = record

    @staticmethod
    def _indexed(tx: Any, index: str, value: str) -> Any:
        entry = tx.get(index, value)
        return None if entry is None else tx.get("customer", entry.data["customer"])


def _day_of(row: Mapping[str, Any], column: str) -> date | None:
    text = row.get(column)
    return None if text is None else values.day_text(text, column)


def _number(text: Any, what: str, *, whole: bool = False) -> Any:
    if text is None or isinstance(text, (int, float)):
        return text
    try:
        return int(text) if whole else float(text.replace(",", ""))
    except (ValueError, AttributeError):
        kind = "a whole number" if whole else "a number"
        raise ValidationError(f"{what} {shown(text)} is not {kind}") from None


def _fitted(case: Case, events: Iterable[CaseEvent]) -> list[FittedPart]:
    """The parts each repair of the case fitted (a rejected repair's too: they were fitted)."""
    return [
        FittedPart(p["sku"], p.get("quantity", 1), case.number, e.at, tuple(p.get("serials", ())))
        for e in events
        if e.type in ("repaired", "resolved")
        for p in e.data.get("parts_used", ())
    ]


def _case_entries(case: Case) -> list[HistoryEntry]:
    kind = "rework" if case.rework_of else "reported"
    coverage = f" ({case.coverage.kind.replace('_', ' ')})" if case.coverage else ""
    entries = [
        HistoryEntry(
            case.reported_at,
            kind,
            f"{case.fault_code or 'fault'}: {case.fault}{coverage}",
            case.number,
        )
    ]
    if case.repair is not None:
        entries.append(HistoryEntry(case.repair.at, "repaired", case.repair.actions, case.number))
    return entries


__all__ = [
    "IMPORT_COLUMNS",
    "FittedPart",
    "HistoryEntry",
    "MachineHistory",
    "MachineImport",
    "MachineService",
    "Rejected",
]
