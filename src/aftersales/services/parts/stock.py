"""The stock ledger: every movement of a part through one writer, with the reorder notices,
and what the ledger says (stock on hand, movements, expiry, valuation)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.convert import from_dict, to_dict
from aftersales.core.errors import (
    PermissionDenied,
    ValidationError,
)
from aftersales.core.model import Notification
from aftersales.core.parts import (
    MOVEMENTS,
    Movement,
    Part,
    PurchaseOrder,
    apply,
    expired,
)
from aftersales.core.permissions import not_own
from aftersales.core.values import shown
from aftersales.ports.storage import EventWriter, Transaction, event_record
from aftersales.services.parts.base import (
    EXPIRY_WARNING,
    Move,
    Receipt,
    checked_text,
    quantity_of,
)
from aftersales.services.parts.catalog import Catalog


@public_api("desk.parts")
class Stock(Catalog):
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
        order = None if po is None else self._orders.get(po)
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
        order = self._orders.get(po)
        receipts: builtins.list[Receipt] = []
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
    ) -> Receipt:  # fmt: skip
        """One line of a delivery checked, and the part after it (nothing written)."""
        sku = values.name(sku, "sku")
        quantity = quantity_of(quantity)
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
        return Receipt(part, after, movement, sku, quantity, kept, dict(inspection), reason)

    def _take_in(
        self, receipts: Sequence[Receipt], order: PurchaseOrder | None, supplier: str,
        by: str, when: datetime,
    ) -> None:  # fmt: skip
        """Write a delivery: the stock of each part, the order, the supplier's inspections."""
        moves = [(r.before, r.after, r.movement) for r in receipts if r.movement is not None]
        # late: received after the promised day, in the policy's zone
        late = bool(order is not None and order.promised is not None
                    and when.astimezone(self._basis.policy.tz).date() > order.promised)  # fmt: skip
        with self._moving(moves, when) as tx:
            if order is not None:
                received = dict(order.received)
                for r in receipts:
                    received[r.sku] = received.get(r.sku, 0) + r.quantity
                after = attrs.evolve(order, received=received, version=order.version + 1,
                                     late_deliveries=order.late_deliveries + late)  # fmt: skip
                self._orders.save(order, after, "received", by, when,
                                  {"skus": [r.sku for r in receipts], "late": late},
                                  tx=tx)  # fmt: skip
            # read in the transaction: inspections by other desks meanwhile are kept
            record = tx.get("supplier", supplier)
            assert record is not None  # checked by _receipt; suppliers are never deleted
            events = [
                event_record(record.version + n, "inspected", by, when,
                             {"sku": r.sku, "delivered": r.quantity, "accepted": r.kept,
                              "rejected": r.quantity - r.kept, "inspection": r.inspection,
                              "reason": r.reason, "late": late,
                              "order": None if order is None else order.id})
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
        return self._move(self.part(sku), "transferred", quantity_of(quantity), by, when,
                          location=from_location, to_location=to_location)  # fmt: skip

    def scrap(
        self, sku: str, quantity: int, *, location: str, reason: str, by: str,
        at: datetime | None = None,
    ) -> Part:  # fmt: skip
        """Write off damaged or expired stock, with the reason."""
        self._actor(by, "parts.scrap", "scrap stock")
        self.location(location)
        return self._move(self.part(sku), "scrapped", quantity_of(quantity), by, self._basis.at(at),
                          location=location, reason=checked_text(reason, "the reason"))  # fmt: skip

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
        return self._move(self.part(sku), "adjusted", quantity_of(quantity), by, self._basis.at(at),
                          location=location, reason=checked_text(reason, "the reason"),
                          approved_by=approver.id, increase=increase)  # fmt: skip

    def _move(
        self, part: Part, kind: str, quantity: int, by: str, at: datetime, **fields: Any
    ) -> Part:
        movement = Movement(part.sku, part.version + 1, kind, at, by, quantity, **fields)
        after = apply(part, movement)  # refuses going below zero: nothing written
        with self._moving([(part, after, movement)], at):
            pass
        return after

    # -- the one writer of stock movements ----------------------------------------------------
    def _write_moves(self, tx: EventWriter, moves: Iterable[Move]) -> None:
        """Each part's movement event and snapshot. Every movement of stock is written here;
        ``core.parts.apply`` made each ``after`` (refusing any that goes below zero)."""
        for before, after, movement in moves:
            self._catalog.save(before, after, movement.type, movement.by, movement.at,
                               to_dict(movement), tx=tx)  # fmt: skip

    @contextmanager
    def _moving(self, moves: Sequence[Move], at: datetime) -> Iterator[Transaction]:
        """A transaction that writes ``moves`` with the reorder notices they call for (sent
        once it commits); the caller adds what belongs with them in the ``with`` block."""
        notes = self._reorder_notes(((before, after) for before, after, _ in moves), at)
        with self._notifications.transaction(notes, at) as tx:
            self._write_moves(tx, moves)
            yield tx

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

    # -- reading ------------------------------------------------------------------------------
    def movements(self, sku: str) -> builtins.list[Movement]:
        """The part's movements, oldest first (reservations are not movements)."""
        self.part(sku)
        return [from_dict(Movement, e["data"]) for e in self._basis.storage.events("part", sku)
                if e["type"] in MOVEMENTS]  # fmt: skip

    def expiring(
        self, *, now: datetime | None = None, within: timedelta = EXPIRY_WARNING
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
