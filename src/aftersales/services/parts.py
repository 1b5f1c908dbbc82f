"""``desk.parts``: the parts catalog, suppliers, locations and the stock ledger.

Every stock movement is an event of its part, written with the part's new snapshot in one
transaction that names the version it read: a movement that would take a location below
zero is refused and nothing is written, and of two movements racing for the last unit
exactly one succeeds (the other gets ConflictError, or on retry, the refusal).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from aftersales.core import values
from aftersales.core.approvals import check_approver, next_role
from aftersales.core.boundary import public_api
from aftersales.core.convert import from_dict, to_dict
from aftersales.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationError,
    WorkflowError,
)
from aftersales.core.model import Case, Notification, Staff
from aftersales.core.parts import (
    LOCATION_KINDS,
    MOVEMENTS,
    REQUISITION_STATES,
    Approval,
    CaseParts,
    CountLine,
    CountSheet,
    Location,
    Movement,
    Part,
    PlanLine,
    PurchaseOrder,
    Requisition,
    RequisitionLine,
    RequisitionStatus,
    Supplier,
    apply,
    expired,
)
from aftersales.core.permissions import not_own, permit, permit_role
from aftersales.core.values import shown
from aftersales.ports.storage import Transaction, event_record
from aftersales.services.basis import Basis
from aftersales.services.case_book import CaseBook
from aftersales.services.notifications import NotificationService
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory

_UNACCOUNTED_AFTER = timedelta(days=7)
_EXPIRY_WARNING = timedelta(days=30)


def _text(value: Any, what: str) -> str:
    return values.text(value, what)  # type: ignore[no-any-return]


def _quantity(value: Any, what: str = "quantity") -> int:
    return values.count(value, what, minimum=1)


def _lines(lines: Any, what: str) -> builtins.list[tuple[str, int]]:
    """``[{"sku": ..., "quantity": ...}]`` checked, with lines of one SKU added together (two
    lines of one part would otherwise write that part twice in one transaction)."""
    merged: dict[str, int] = {}
    for n, line in enumerate(values.items(lines, what), start=1):
        if not isinstance(line, Mapping):
            raise ValidationError(
                f"{what}: line {n} is a {type(line).__name__}, not {{'sku': ..., 'quantity': ...}}"
            )
        unknown = sorted(str(k) for k in set(line) - {"sku", "quantity"})
        if unknown:
            raise ValidationError(f"{what}: line {n} has an unknown field {unknown[0]!r:.40}")
        sku = values.name(line.get("sku"), f"{what}: the sku of line {n}")
        merged[sku] = merged.get(sku, 0) + _quantity(line.get("quantity", 1))
    if not merged:
        raise ValidationError(f"{what} needs at least one line")
    return list(merged.items())


def _movement_record(m: Movement) -> dict[str, Any]:
    return event_record(m.version, m.type, m.by, m.at, to_dict(m))


A = TypeVar("A", Part, Location, Supplier)


@attrs.frozen
class Consumption:
    """What a repair's parts write in its transaction, and the notices they send with it."""

    write: Callable[[Transaction], None]
    notes: tuple[Notification, ...] = ()


@attrs.frozen
class _Receipt:
    """One checked line of a delivery: the part before and after, and what to record."""

    before: Part
    after: Part
    movement: Movement | None
    sku: str
    quantity: int
    kept: int
    inspection: dict[str, bool]
    reason: str | None


@public_api("desk.parts")
class PartsService:
    def __init__(
        self,
        basis: Basis,
        *,
        staff: StaffDirectory,
        notifications: NotificationService,
        cases: CaseBook,
    ) -> None:
        self._basis = basis
        self._staff = staff
        self._notifications = notifications
        self._cases = cases
        storage = basis.storage
        self._catalog = Repository(storage, "part", Part, "part", key=lambda p: p.sku)
        self._locations = Repository(storage, "location", Location, "location")
        self._suppliers = Repository(storage, "supplier", Supplier, "supplier")
        self._orders = Repository(storage, "order", PurchaseOrder, "order")
        self._counts = Repository(storage, "count", CountSheet, "count sheet")
        self._requisitions = Repository(storage, "requisition", Requisition, "requisition")

    # -- who ----------------------------------------------------------------------------------
    def _actor(self, by: str, action: str, what: str) -> Staff:
        return permit(self._staff.actor(by), action, what)

    def _approver(self, approved_by: str) -> Staff:
        """Who approves a stock adjustment or a count sheet: a manager."""
        return permit_role(self._staff.actor(approved_by), ("manager",),
                           "approve stock adjustments")  # fmt: skip

    def _create(self, repo: Repository[A], value: A, by: str, at: datetime) -> A:
        """Add a catalog entry: version 1, its ``<kind>_added`` event holding the entry."""
        added = attrs.evolve(value, version=1)
        return repo.create(added, f"{repo.kind}_added", by, at, to_dict(value))

    # -- catalog ------------------------------------------------------------------------------
    def add_part(
        self,
        *,
        sku: str,
        name: str,
        category: str,
        unit_cost: Decimal | int | str,
        by: str,
        unit: str = "piece",
        specification: str | None = None,
        reorder_point: int = 0,
        reorder_quantity: int = 0,
        shelf_life_days: int | None = None,
        product_lines: Iterable[str] = (),
        at: datetime | None = None,
    ) -> Part:
        """Add a part to the catalog (a storekeeper or manager)."""
        self._actor(by, "parts.add_part", "add parts")
        cost = values.amount(unit_cost, "unit_cost")
        for value, what in (
            (reorder_point, "reorder_point"),
            (reorder_quantity, "reorder_quantity"),
        ):
            values.count(value, what)
        if shelf_life_days is not None:
            values.count(shelf_life_days, "shelf_life_days", minimum=1, maximum=100 * 366)
        lines = tuple(values.name(x, "a product line")
                      for x in values.items(product_lines, "product_lines"))  # fmt: skip
        part = Part(values.name(sku, "sku"), values.name(name, "name"),
                    values.name(category, "category"), cost, values.name(unit, "unit"),
                    values.text(specification, "specification", required=False),
                    reorder_point, reorder_quantity, shelf_life_days, lines)  # fmt: skip
        return self._create(self._catalog, part, by, self._basis.at(at))

    def part(self, sku: str) -> Part:
        return self._catalog.get(sku)

    def parts(self, *, category: str | None = None) -> builtins.list[Part]:
        found = self._catalog.all()
        return [p for p in found if category is None or p.category == category]

    def add_location(
        self,
        *,
        id: str,
        name: str,
        by: str,
        kind: str = "warehouse",
        engineer: str | None = None,
        at: datetime | None = None,
    ) -> Location:
        """A warehouse, a bin, or an engineer's van (``kind="van", engineer=...``)."""
        self._actor(by, "parts.add_location", "add locations")
        if kind not in LOCATION_KINDS:
            raise ValidationError(
                f"kind must be one of {', '.join(LOCATION_KINDS)}, not {shown(kind)}"
            )
        if (kind == "van") != (engineer is not None):
            raise ValidationError("a van names its engineer, and only a van does")
        if engineer is not None and not self._staff.get(engineer).has_role("engineer"):
            raise ValidationError(f"{engineer} is not an engineer")
        location = Location(_text(id, "id"), _text(name, "name"), kind, engineer)
        return self._create(self._locations, location, by, self._basis.at(at))

    def location(self, id: str) -> Location:
        return self._locations.get(id)

    def add_supplier(
        self, *, id: str, name: str, by: str, qualified: bool = False, at: datetime | None = None
    ) -> Supplier:
        """Add a supplier; only a manager may add one already qualified."""
        actor = self._actor(by, "parts.add_supplier", "add suppliers")
        if qualified:
            permit(actor, "parts.qualify", "qualify suppliers")
        supplier = Supplier(_text(id, "id"), _text(name, "name"), qualified)
        return self._create(self._suppliers, supplier, by, self._basis.at(at))

    def supplier(self, id: str) -> Supplier:
        return self._suppliers.get(id)

    def qualify(self, id: str, *, by: str, at: datetime | None = None) -> Supplier:
        """Mark a supplier qualified (a manager)."""
        self._actor(by, "parts.qualify", "qualify suppliers")
        before = self._suppliers.get(id)
        after = attrs.evolve(before, qualified=True, version=before.version + 1)
        return self._suppliers.save(before, after, "qualified", by, self._basis.at(at))

    # -- movements ----------------------------------------------------------------------------
    def receive(
        self,
        sku: str,
        quantity: int,
        *,
        location: str,
        supplier: str,
        inspection: Mapping[str, bool],
        by: str,
        accepted: int | None = None,
        reason: str | None = None,
        po: str | None = None,
        at: datetime | None = None,
    ) -> Part:
        """Take in a delivery after inspecting it. ``inspection`` says whether each check the
        policy's ``inspect incoming`` names passed; when one failed, ``accepted`` (less than
        ``quantity``) and a ``reason`` say what was kept. Only qualified suppliers deliver.
        ``po`` is the purchase order it answers: the delivery may not exceed what is still due.
        The stock, the order and the supplier's inspection record are one transaction.
        """
        self._actor(by, "parts.receive", "receive deliveries")
        when = self._basis.at(at)
        order = None if po is None else self.purchase_order(po)
        receipt = self._receipt(sku, quantity, location, supplier, inspection, accepted,
                                reason, order, by, when)  # fmt: skip
        self._take_in([receipt], order, supplier, by, when)
        return receipt.after

    def receive_order(
        self,
        po: str,
        lines: Iterable[Mapping[str, Any]],
        *,
        location: str,
        inspection: Mapping[str, bool],
        by: str,
        at: datetime | None = None,
    ) -> builtins.list[Part]:
        """Receive a delivery against a purchase order, line by line
        (``[{"sku": ..., "quantity": ..., "accepted": ..., "reason": ...}]``, the last two
        when the inspection failed): see :meth:`receive`. Every line is checked before
        anything is written, and all of them are taken in in one transaction."""
        self._actor(by, "parts.receive_order", "receive deliveries")
        when = self._basis.at(at)
        order = self.purchase_order(po)
        receipts: builtins.list[_Receipt] = []
        for n, li in enumerate(values.items(lines, "a delivery's lines"), start=1):
            if not isinstance(li, Mapping):
                raise ValidationError(f"line {n} is a {type(li).__name__}, not a mapping")
            unknown = sorted(str(k) for k in set(li) - {"sku", "quantity", "accepted", "reason"})
            if unknown:
                raise ValidationError(f"line {n}: unknown field {unknown[0]!r:.40}")
            receipt = self._receipt(li.get("sku"), li.get("quantity"), location, order.supplier,
                                    inspection, li.get("accepted"), li.get("reason"), order, by,
                                    when)  # fmt: skip
            # compared as checked (" AAA" is AAA): two receipts of a part write it twice
            if any(r.sku == receipt.sku for r in receipts):
                raise ValidationError(f"line {n}: {receipt.sku} has a line already; one per part")
            receipts.append(receipt)
        if not receipts:
            raise ValidationError("a delivery needs at least one line")
        self._take_in(receipts, order, order.supplier, by, when)
        return [r.after for r in receipts]

    def _receipt(
        self, sku: Any, quantity: Any, location: str, supplier: str, inspection: Any,
        accepted: Any, reason: Any, order: PurchaseOrder | None, by: str, when: datetime,
    ) -> _Receipt:  # fmt: skip
        """One line of a delivery checked, and the part after it (nothing written)."""
        sku = values.name(sku, "sku")
        quantity = _quantity(quantity)
        source = self.supplier(supplier)
        if not source.qualified:
            raise PermissionDenied(f"supplier {supplier} is not qualified; a manager qualifies it")
        self.location(location)
        checks = self._basis.policy.parts.inspect_incoming if self._basis.policy.parts else ()
        if not isinstance(inspection, Mapping):
            raise ValidationError(
                "inspection maps each check to True or False, e.g. {'quantity': True, ...}"
            )
        for check, passed in inspection.items():
            values.flag(passed, f"the inspection's {check!r:.40}")
        missing = [c for c in checks if c not in inspection]
        if missing:
            raise ValidationError(
                f"the policy inspects incoming {', '.join(checks)}; "
                f"the inspection says nothing of {', '.join(missing)}"
            )
        failed = [c for c in checks if not inspection[c]]
        reason = values.text(reason, "the reason", required=False)
        kept = quantity if accepted is None else accepted
        if failed and (accepted is None or accepted >= quantity or not reason):
            raise ValidationError(
                f"the {', '.join(failed)} check failed: give accepted= (less than {quantity}) "
                "and the reason for what is sent back"
            )
        if isinstance(kept, bool) or not isinstance(kept, int) or not 0 <= kept <= quantity:
            raise ValidationError(f"accepted must be from 0 to {quantity}, not {shown(accepted)}")
        part = self.part(sku)
        if order is not None:
            if order.supplier != supplier:
                raise ValidationError(f"order {order.id} is with {order.supplier}, not {supplier}")
            if order.still_due(sku) < quantity:
                raise ValidationError(
                    f"order {order.id} expects {order.still_due(sku)} more of {sku}, not {quantity}"
                )
        movement = None
        after = part
        if kept:
            movement = Movement(part.sku, part.version + 1, "received", when, by, kept,
                                location=location, supplier=supplier, reason=reason)  # fmt: skip
            after = apply(part, movement)
        return _Receipt(part, after, movement, sku, quantity, kept, dict(inspection), reason)

    def _take_in(
        self, receipts: Sequence[_Receipt], order: PurchaseOrder | None, supplier: str,
        by: str, when: datetime,
    ) -> None:  # fmt: skip
        """Write a delivery: the stock of each part, the order, the supplier's inspections."""
        with self._basis.storage.transaction() as tx:
            for r in receipts:
                if r.movement is not None:
                    tx.append("part", r.before.sku, r.before.version,
                              [_movement_record(r.movement)], to_dict(r.after))  # fmt: skip
            if order is not None:
                received = dict(order.received)
                for r in receipts:
                    received[r.sku] = received.get(r.sku, 0) + r.quantity
                after = attrs.evolve(order, received=received, version=order.version + 1)
                self._orders.save(order, after, "received", by, when,
                                  {"skus": [r.sku for r in receipts]}, tx=tx)  # fmt: skip
            # read in the transaction: inspections by other desks meanwhile are kept
            record = tx.get("supplier", supplier)
            assert record is not None  # checked by _receipt; suppliers are never deleted
            events = [
                event_record(record.version + n, "inspected", by, when,
                             {"sku": r.sku, "delivered": r.quantity, "accepted": r.kept,
                              "rejected": r.quantity - r.kept, "inspection": r.inspection,
                              "reason": r.reason})
                for n, r in enumerate(receipts, start=1)
            ]  # fmt: skip
            snapshot = {**record.data, "version": record.version + len(events)}
            tx.append("supplier", supplier, record.version, events, snapshot)

    def inspections(self, supplier: str) -> builtins.list[dict[str, Any]]:
        """The supplier's record of inspected deliveries, oldest first."""
        self.supplier(supplier)
        return [e["data"] for e in self._basis.storage.events("supplier", supplier)
                if e["type"] == "inspected"]  # fmt: skip

    def transfer(
        self, sku: str, quantity: int, *, from_location: str, to_location: str, by: str,
        at: datetime | None = None,
    ) -> Part:  # fmt: skip
        """Move stock between locations (a storekeeper)."""
        self._actor(by, "parts.transfer", "move stock")
        self.location(from_location)
        self.location(to_location)
        when = self._basis.at(at)
        return self._move(self.part(sku), "transferred", _quantity(quantity), by, when,
                          location=from_location, to_location=to_location)  # fmt: skip

    def scrap(
        self, sku: str, quantity: int, *, location: str, reason: str, by: str,
        at: datetime | None = None,
    ) -> Part:  # fmt: skip
        """Write off damaged or expired stock, with the reason."""
        self._actor(by, "parts.scrap", "scrap stock")
        self.location(location)
        return self._move(self.part(sku), "scrapped", _quantity(quantity), by, self._basis.at(at),
                          location=location, reason=_text(reason, "the reason"))  # fmt: skip

    def adjust(
        self, sku: str, quantity: int, *, location: str, increase: bool, reason: str, by: str,
        approved_by: str, at: datetime | None = None,
    ) -> Part:  # fmt: skip
        """Correct the books to the shelf: only with a reason and a manager's approval (not
        the storekeeper's own)."""
        values.flag(increase, "increase")
        self._actor(by, "parts.adjust", "adjust stock")
        approver = self._approver(approved_by)
        not_own(approver, by, "approve their own adjustment", "another manager approves")
        return self._move(self.part(sku), "adjusted", _quantity(quantity), by, self._basis.at(at),
                          location=location, reason=_text(reason, "the reason"),
                          approved_by=approver.id, increase=increase)  # fmt: skip

    def _move(
        self, part: Part, kind: str, quantity: int, by: str, at: datetime, **fields: Any
    ) -> Part:
        movement = Movement(part.sku, part.version + 1, kind, at, by, quantity, **fields)
        after = apply(part, movement)  # refuses going below zero: nothing written
        with self._notifications.transaction(self._reorder_notes([(part, after)], at), at) as tx:
            tx.append("part", part.sku, part.version, [_movement_record(movement)], to_dict(after))
        return after

    def _reorder_notes(
        self, moves: Iterable[tuple[Part, Part]], at: datetime
    ) -> list[Notification]:
        """``stock_below_reorder_point`` for each part a move takes across the policy's
        reorder rule: written with the move, so each crossing is told once."""
        rules = self._basis.policy.parts
        if rules is None or rules.reorder is None:
            return []
        notes = []
        people: tuple[str, ...] | None = None
        for before, after in moves:
            if not rules.reorder(after.record()) or rules.reorder(before.record()):
                continue
            if people is None:
                people = tuple(self._staff.with_role("storekeeper", "manager"))
            note = Notification(
                "stock_below_reorder_point", None, people,
                f"{after.sku} ({after.name}): {after.total} {after.unit} left, reorder "
                f"{after.reorder_quantity}",
                {"sku": after.sku, "on_hand": after.total, "reorder_point": after.reorder_point,
                 "reorder_quantity": after.reorder_quantity, "rule": rules.reorder.location},
                at,
            )  # fmt: skip
            notes.append(note)
        return notes

    # -- purchasing ---------------------------------------------------------------------------
    def order(
        self,
        supplier: str,
        lines: Iterable[Mapping[str, Any]],
        *,
        by: str,
        at: datetime | None = None,
    ) -> PurchaseOrder:
        """Order parts (``[{"sku": ..., "quantity": ...}]``) from a qualified supplier."""
        self._actor(by, "parts.order", "order parts")
        source = self.supplier(supplier)
        if not source.qualified:
            raise PermissionDenied(f"supplier {supplier} is not qualified; a manager qualifies it")
        wanted = tuple(
            RequisitionLine(self.part(sku).sku, quantity)
            for sku, quantity in _lines(lines, "an order")
        )
        when = self._basis.at(at)
        po = PurchaseOrder(f"PO-{uuid.uuid4().hex[:10]}", supplier, wanted, when, by, version=1)
        return self._orders.create(po, "ordered", by, when)

    def purchase_order(self, id: str) -> PurchaseOrder:
        return self._orders.get(id)

    def orders(self, *, open_only: bool = False) -> builtins.list[PurchaseOrder]:
        found = self._orders.all()
        return sorted((o for o in found if o.open or not open_only), key=lambda o: o.ordered_at)

    def purchase_plan(self, *, at: datetime | None = None) -> builtins.list[PlanLine]:
        """Proposed orders: parts the policy's ``reorder when`` flags, or that open
        requisitions would empty, each for ``max(reorder quantity, three months' mean use)``
        plus what requisitions wait for, less what is already on order."""
        when = self._basis.at(at)
        rules = self._basis.policy.parts
        requested: dict[str, int] = {}
        for req in self.requisitions():
            if req.status in ("requested", "approved"):
                for line in req.lines:
                    requested[line.sku] = requested.get(line.sku, 0) + line.quantity
        on_order: dict[str, int] = {}
        for po in self.orders(open_only=True):
            for line in po.lines:
                on_order[line.sku] = on_order.get(line.sku, 0) + max(0, po.still_due(line.sku))
        plan = []
        for part in self.parts():
            flagged = (
                rules is not None and rules.reorder is not None and rules.reorder(part.record())
            )
            short = part.total - requested.get(part.sku, 0) <= part.reorder_point
            if not (flagged or short):
                continue
            used = sum(
                m.quantity
                for m in self.movements(part.sku)
                if m.type == "consumed" and when - m.at <= timedelta(days=91)
            )
            monthly = Decimal(used) / 3
            need = max(
                part.reorder_quantity, int(monthly.to_integral_value(rounding="ROUND_CEILING"))
            )
            quantity = need + requested.get(part.sku, 0) - on_order.get(part.sku, 0)
            if quantity > 0:
                plan.append(PlanLine(part.sku, quantity, part.total, part.reorder_point,
                                     requested.get(part.sku, 0), on_order.get(part.sku, 0),
                                     monthly))  # fmt: skip
        return plan

    # -- stocktake ----------------------------------------------------------------------------
    def count(
        self,
        location: str,
        counts: Mapping[str, int],
        *,
        by: str,
        at: datetime | None = None,
    ) -> CountSheet:
        """Record a count sheet for a location: every part the books hold there, and any
        counted there, against the books. Variances are settled with :meth:`settle`."""
        self._actor(by, "parts.count", "count stock")
        self.location(location)
        if not isinstance(counts, Mapping) or not all(isinstance(k, str) for k in counts):
            raise ValidationError("counts maps each SKU to the number counted: {'SEAL-9': 8}")
        books = {p.sku: p.on_hand.get(location, 0) for p in self.parts()}
        unknown = sorted(set(counts) - set(books))
        if unknown:
            raise NotFound(f"no part {shown(unknown[0])} in the catalog")
        for sku, n in counts.items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValidationError(f"count of {sku} must be a whole number, 0 or more")
        missing = sorted(sku for sku, n in books.items() if n and sku not in counts)
        if missing:
            raise ValidationError(
                f"the books hold {', '.join(missing)} at {location}: count them too (0 if gone)"
            )
        when = self._basis.at(at)
        lines = tuple(
            CountLine(sku, books[sku], counts.get(sku, 0))
            for sku in sorted(set(counts) | {s for s, n in books.items() if n})
        )
        sheet = CountSheet(f"{location}/{when.date().isoformat()}/{uuid.uuid4().hex[:6]}",
                           location, when, by, lines, version=1)  # fmt: skip
        return self._counts.create(sheet, "counted", by, when)

    def settle(
        self, sheet_id: str, *, reason: str, approved_by: str, by: str, at: datetime | None = None
    ) -> CountSheet:
        """Adjust the books to a count sheet: one adjustment per variance, each with the
        reason and a manager's approval (not the counter's own)."""
        sheet = self._counts.get(sheet_id)
        if sheet.settled_by is not None:
            raise WorkflowError(f"count sheet {sheet_id} is settled already")
        self._actor(by, "parts.settle", "settle a stocktake")
        approver = self._approver(approved_by)
        for who, role in ((by, "settle it"), (sheet.counted_by, "counted it")):
            not_own(approver, who, f"approve count sheet {sheet_id}: they {role}",
                    "another manager approves")  # fmt: skip
        reason = _text(reason, "the reason")
        when = self._basis.at(at)
        # Every adjustment and the settled mark go in one transaction: a failure writes
        # nothing, and a settled sheet can never be applied twice. Each variance is what
        # the count found wrong in the books, so it is applied to the books as they stand
        # now (moves since the count were real and stay).
        moves: builtins.list[tuple[Part, Part, Movement]] = []
        for line in sheet.variances:
            part = self.part(line.sku)
            movement = Movement(part.sku, part.version + 1, "adjusted", when, by,
                                abs(line.variance), location=sheet.location,
                                reason=f"stocktake {sheet_id}: {reason}",
                                approved_by=approver.id, increase=line.variance > 0)  # fmt: skip
            moves.append((part, apply(part, movement), movement))
        after = attrs.evolve(
            sheet, settled_by=approver.id, reason=reason, version=sheet.version + 1
        )
        notes = self._reorder_notes([(before, moved) for before, moved, _ in moves], when)
        with self._notifications.transaction(notes, when) as tx:
            for before, moved, movement in moves:
                tx.append("part", before.sku, before.version, [_movement_record(movement)],
                          to_dict(moved))  # fmt: skip
            self._counts.save(sheet, after, "settled", by, when, tx=tx)
        return after

    def stocktake_due(self, now: datetime | None = None) -> builtins.list[tuple[str, datetime]]:
        """Locations whose last count is older than the policy's ``stocktake every`` (or that
        were never counted, then due from when they were added): ``(location, due)``."""
        rules = self._basis.policy.parts
        if rules is None or rules.stocktake_every is None:
            return []
        when = self._basis.at(now)
        last: dict[str, datetime] = {}
        for sheet in self._counts.all():
            if sheet.location not in last or sheet.counted_at > last[sheet.location]:
                last[sheet.location] = sheet.counted_at
        overdue = []
        for record in self._basis.storage.scan("location"):
            since = last.get(record.id)
            if since is None:
                events = self._basis.storage.events("location", record.id)
                since = from_dict(datetime, events[0]["at"])
            due = self._basis.policy.add(since, rules.stocktake_every)
            if due <= when:
                overdue.append((record.id, due))
        return overdue

    def remind_stocktakes(self, now: datetime | None = None) -> builtins.list[Notification]:
        """Send ``stocktake_due`` for each overdue location, once per location and due date
        (the SLA tick calls this); returns what it sent."""
        when = self._basis.at(now)
        rules = self._basis.policy.parts
        overdue = self.stocktake_due(when)
        if not overdue:  # the tick's usual case: no staff lookup
            return []
        people = tuple(self._staff.with_role("storekeeper", "manager"))
        rule = rules.location if rules is not None else None
        return self._notifications.once([
            (f"stocktake:{location}", due.isoformat(),
             Notification("stocktake_due", None, people,
                          f"stocktake of {location} was due {due:%Y-%m-%d}",
                          {"location": location, "due": due.isoformat(), "rule": rule}, when))
            for location, due in overdue
        ], when)  # fmt: skip

    # -- requisitions -------------------------------------------------------------------------
    def request(
        self,
        case_id: str,
        lines: Iterable[Mapping[str, Any]],
        *,
        by: str,
        at: datetime | None = None,
    ) -> Requisition:
        """The case's assigned engineer asks for parts (``[{"sku": ..., "quantity": ...}]``).
        The policy's ``approve requisition`` rules pick who must approve; with none matching,
        it is approved at once."""
        case = self._cases.get(case_id)
        permit(self._staff.actor(by), "parts.request", f"request parts for {case.number}",
               related=case.engineer == by,
               who=f"its engineer ({case.engineer or 'none yet'})")  # fmt: skip
        wanted = [
            RequisitionLine(sku, quantity) for sku, quantity in _lines(lines, "a requisition")
        ]
        value = sum((self.part(li.sku).unit_cost * li.quantity for li in wanted), Decimal(0))
        rules = self._basis.policy.parts
        # money in conditions is an amount in the policy's currency (checked when it loads)
        record = {"value": value, "quantity": sum(li.quantity for li in wanted)}
        rule = rules.requisition_approval_for(record) if rules is not None else None
        chain = rule.chain if rule is not None else ()  # a rule without "when" holds always
        when = self._basis.at(at)
        requisition = Requisition(
            str(uuid.uuid4()), case_id, by, tuple(wanted), value, tuple(chain),
            None if not chain or rule is None else rule.location,
            "requested" if chain else "approved", when, version=1,
        )  # fmt: skip
        self._save_requisition(requisition, 0, "requested", by, when)
        return requisition

    def requisition(self, id: str) -> Requisition:
        return self._requisitions.get(id)

    def requisitions(self, *, status: str | None = None) -> builtins.list[Requisition]:
        if status is not None and status not in REQUISITION_STATES:
            raise ValidationError(
                f"unknown requisition status {shown(status)}; statuses: "
                f"{', '.join(REQUISITION_STATES)}"
            )
        found = self._requisitions.all()
        return sorted(
            (r for r in found if status is None or r.status == status),
            key=lambda r: r.requested_at,
        )

    def approve(self, id: str, *, by: str, at: datetime | None = None) -> Requisition:
        """Approve the next step of the chain: ``by`` holds that role, did not ask for the
        parts, and did not approve an earlier step."""
        req = self.requisition(id)
        what = f"requisition {id}"
        waiting = req.status == "requested"
        role = next_role(req.chain, len(req.approvals), waiting, what, req.status)
        actor = self._staff.actor(by)
        check_approver(actor, role, req.engineer, (a.by for a in req.approvals), what,
                       "requisition")  # fmt: skip
        when = self._basis.at(at)
        approvals = (*req.approvals, Approval(role, actor.id, when))
        status: RequisitionStatus = "approved" if len(approvals) == len(req.chain) else "requested"
        after = attrs.evolve(req, approvals=approvals, status=status, version=req.version + 1)
        self._save_requisition(after, req.version, "approved", by, when)
        return after

    def reject(self, id: str, *, by: str, reason: str, at: datetime | None = None) -> Requisition:
        req = self.requisition(id)
        role = req.waiting_for
        if role is None:
            raise WorkflowError(f"requisition {id} is {req.status}, not waiting for approval")
        permit_role(self._staff.actor(by), (role,), f"reject requisition {id} as {role}")
        when = self._basis.at(at)
        after = attrs.evolve(req, status="rejected", reason=_text(reason, "the reason"),
                             version=req.version + 1)  # fmt: skip
        self._save_requisition(after, req.version, "rejected", by, when)
        return after

    def issue(
        self, id: str, *, from_location: str, by: str, to_location: str | None = None,
        at: datetime | None = None,
    ) -> Requisition:  # fmt: skip
        """A storekeeper issues an approved requisition: every line moves from
        ``from_location`` to the engineer's van (or ``to_location``), in one transaction."""
        self._actor(by, "parts.issue", "issue parts")
        req = self.requisition(id)
        if req.status != "approved":
            raise WorkflowError(f"requisition {id} is {req.status}; only an approved one is issued")
        target = to_location or self._van(req.engineer)
        self.location(from_location)
        self.location(target)
        when = self._basis.at(at)
        moves = []
        for line in req.lines:
            part = self.part(line.sku)
            movement = Movement(part.sku, part.version + 1, "issued", when, by, line.quantity,
                                location=from_location, to_location=target,
                                case_id=req.case_id)  # fmt: skip
            moved = apply(part, movement)  # refuses before writing
            # what is issued is no longer held for the requisition
            moved = attrs.evolve(moved, reserved=max(0, part.reserved - line.quantity))
            moves.append((part, moved, movement))
        ledger = self._case_parts(req.case_id)
        issued = dict(ledger.issued)
        for line in req.lines:
            issued[line.sku] = issued.get(line.sku, 0) + line.quantity
        after_ledger = attrs.evolve(ledger, location=target, issued=issued, last_issued_at=when,
                                    version=ledger.version + 1)  # fmt: skip
        after = attrs.evolve(req, status="issued", issued_to=target, version=req.version + 1)
        notes = self._reorder_notes(((before, moved) for before, moved, _ in moves), when)
        with self._notifications.transaction(notes, when) as tx:
            for before, part_after, movement in moves:
                tx.append("part", before.sku, before.version,
                          [_movement_record(movement)], to_dict(part_after))  # fmt: skip
            self._append_ledger(tx, ledger, after_ledger, "issued", by, when)
            self._requisitions.save(req, after, "issued", by, when, {"to": target}, tx=tx)
        return after

    def return_parts(
        self, case_id: str, lines: Iterable[Mapping[str, Any]], *, to_location: str, by: str,
        at: datetime | None = None,
    ) -> CaseParts:  # fmt: skip
        """Bring back parts issued for a case and not used."""
        ledger = self._case_parts(case_id)
        case = self._cases.get(case_id)
        if by != case.engineer:
            self._actor(by, "parts.return_parts", "return parts")
        self.location(to_location)
        when = self._basis.at(at)
        returned = dict(ledger.returned)
        moves = []
        for sku, quantity in _lines(lines, "a return"):
            if ledger.outstanding(sku) < quantity:
                raise ValidationError(
                    f"only {ledger.outstanding(sku)} of {sku} issued for {case.number} are "
                    f"neither used nor returned; cannot return {quantity}"
                )
            part = self.part(sku)
            movement = Movement(sku, part.version + 1, "returned", when, by, quantity,
                                location=ledger.location, to_location=to_location,
                                case_id=case_id)  # fmt: skip
            moves.append((part, apply(part, movement), movement))
            returned[sku] = returned.get(sku, 0) + quantity
        after_ledger = attrs.evolve(ledger, returned=returned, version=ledger.version + 1)
        with self._basis.storage.transaction() as tx:
            for before, part_after, movement in moves:
                tx.append("part", before.sku, before.version,
                          [_movement_record(movement)], to_dict(part_after))  # fmt: skip
            self._append_ledger(tx, ledger, after_ledger, "returned", by, when)
        return after_ledger

    def case_parts(self, case_id: str) -> CaseParts:
        """What the case got from stock, used and returned."""
        return self._case_parts(case_id)

    def consumption(
        self, case: Case, parts_used: Iterable[Mapping[str, Any]], by: str, at: datetime
    ) -> Consumption | None:
        """Check that a repair's ``parts_used`` were issued for the case (catalog parts only:
        a part the desk does not stock is recorded on the repair report as given), and return
        what writes their consumption in the repair's own transaction, with the reorder
        notices the stock they take away calls for (sent with the repair, as every other
        movement sends its own)."""
        ledger = self._case_parts(case.id)
        consumed = dict(ledger.consumed)
        moves = []
        for item in parts_used:
            sku, quantity = str(item["sku"]), int(item["quantity"])
            if self._basis.storage.version("part", sku) is None:
                continue
            if ledger.outstanding(sku) < quantity:
                raise ValidationError(
                    f"{case.number} used {quantity} of {sku}, but only "
                    f"{ledger.outstanding(sku)} were issued for it and not used or returned; "
                    "request and issue the parts first"
                )
            part = self.part(sku)
            movement = Movement(sku, part.version + 1, "consumed", at, by, quantity,
                                location=ledger.location, case_id=case.id)  # fmt: skip
            moves.append((part, apply(part, movement), movement))
            consumed[sku] = consumed.get(sku, 0) + quantity
        if not moves:
            return None
        after_ledger = attrs.evolve(ledger, consumed=consumed, version=ledger.version + 1)

        def write(tx: Transaction) -> None:
            for before, part_after, movement in moves:
                tx.append("part", before.sku, before.version,
                          [_movement_record(movement)], to_dict(part_after))  # fmt: skip
            self._append_ledger(tx, ledger, after_ledger, "consumed", by, at)

        notes = self._reorder_notes([(before, part_after) for before, part_after, _ in moves], at)
        return Consumption(write, tuple(notes))

    def unaccounted(
        self, *, now: datetime | None = None, after: timedelta = _UNACCOUNTED_AFTER
    ) -> builtins.list[tuple[str, str, str, int]]:
        """Parts issued for a case more than ``after`` ago and neither used nor returned:
        ``(engineer, case_id, sku, quantity)``, a variance against the engineer."""
        when = self._basis.at(now)
        rows = []
        for record in self._basis.storage.scan("case_parts"):
            ledger = from_dict(CaseParts, record.data)
            if ledger.last_issued_at is None or when - ledger.last_issued_at < after:
                continue
            engineer = self._cases.get(ledger.case_id).engineer or "(none)"
            for sku in ledger.issued:
                if ledger.outstanding(sku) > 0:
                    rows.append((engineer, ledger.case_id, sku, ledger.outstanding(sku)))
        return sorted(rows)

    def _van(self, engineer: str) -> str:
        vans = self._locations.all()
        for van in vans:
            if van.kind == "van" and van.engineer == engineer:
                return van.id
        raise ValidationError(f"{engineer} has no van; give to_location= for the issue")

    def _case_parts(self, case_id: str) -> CaseParts:
        record = self._basis.storage.get("case_parts", values.key(case_id, "case id"))
        return CaseParts(case_id) if record is None else from_dict(CaseParts, record.data)

    def _append_ledger(
        self, tx: Transaction, before: CaseParts, after: CaseParts, kind: str, by: str,
        at: datetime,
    ) -> None:  # fmt: skip
        tx.append("case_parts", before.case_id, before.version,
                  [event_record(after.version, kind, by, at, {})], to_dict(after))  # fmt: skip

    def _save_requisition(
        self, req: Requisition, expected: int, kind: str, by: str, at: datetime
    ) -> None:
        """Store a requisition; one that becomes approved reserves its parts, in the same
        transaction."""
        reserve = req.status == "approved" and kind in ("requested", "approved")
        parts = [(self.part(line.sku), line.quantity) for line in req.lines] if reserve else []
        with self._basis.storage.transaction() as tx:
            tx.append("requisition", req.id, expected,
                      [event_record(req.version, kind, by, at, {})], to_dict(req))  # fmt: skip
            for part, quantity in parts:
                after = attrs.evolve(part, reserved=part.reserved + quantity,
                                     version=part.version + 1)  # fmt: skip
                event = event_record(after.version, "reserved", by, at,
                               {"quantity": quantity, "requisition": req.id})  # fmt: skip
                tx.append("part", part.sku, part.version, [event], to_dict(after))

    # -- reading ------------------------------------------------------------------------------
    def movements(self, sku: str) -> builtins.list[Movement]:
        """The part's movements, oldest first (reservations are not movements)."""
        self.part(sku)
        return [from_dict(Movement, e["data"]) for e in self._basis.storage.events("part", sku)
                if e["type"] in MOVEMENTS]  # fmt: skip

    def expiring(
        self, *, now: datetime | None = None, within: timedelta = _EXPIRY_WARNING
    ) -> builtins.list[tuple[str, int, datetime | None]]:
        """Shelf-life parts with stock past its life, or whose oldest unit expires within
        ``within``: ``(sku, quantity expired, when the oldest unit expires)``."""
        when = self._basis.at(now)
        rows = []
        for part in self.parts():
            if part.shelf_life_days is None or not part.total:
                continue
            old, oldest = expired(part, self.movements(part.sku), when)
            if old or (oldest is not None and oldest <= when + within):
                rows.append((part.sku, old, oldest))
        return rows

    def stock(
        self, *, sku: str | None = None, location: str | None = None
    ) -> builtins.list[tuple[str, str, int]]:
        """``(sku, location, quantity)`` of every non-empty stock place, sorted."""
        parts = [self.part(sku)] if sku is not None else self.parts()
        return sorted(
            (p.sku, where, n)
            for p in parts
            for where, n in p.on_hand.items()
            if location is None or where == location
        )

    def valuation(self) -> tuple[Decimal, dict[str, Decimal]]:
        """The stock's value at unit cost: the total, and per category."""
        by_category: dict[str, Decimal] = {}
        for p in self.parts():
            by_category[p.category] = by_category.get(p.category, Decimal(0)) + p.value
        return sum(by_category.values(), Decimal(0)), dict(sorted(by_category.items()))


__all__ = ["PartsService"]
