"""Purchase orders and the purchase plan."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.errors import (
    PermissionDenied,
    ValidationError,
)
from aftersales.core.money import currency_code
from aftersales.core.parts import (
    OrderLine,
    PlanLine,
    PurchaseOrder,
    Supplier,
    SupplierRecord,
)
from aftersales.core.values import shown
from aftersales.services.parts.base import (
    lines_of,
)
from aftersales.services.parts.requisitions import Requisitions

SUPPLIER_DECISIONS = ("keep", "disqualify")


@public_api("desk.parts")
class Purchasing(Requisitions):
    # -- purchasing ---------------------------------------------------------------------------
    def order(
        self,
        supplier: str,
        lines: Iterable[Mapping[str, Any]],
        *,
        promised: date,
        payment_terms: str,
        by: str,
        currency: str | None = None,
        at: datetime | None = None,
    ) -> PurchaseOrder:
        """Order parts (``[{"sku": ..., "quantity": ..., "price": ...}]``, the unit price in
        ``currency``, the policy's by default) from a qualified supplier, on ``payment_terms``
        (``"30 days net"``), to be delivered by the ``promised`` date: a delivery received
        after that day (in the policy's zone) is late on the supplier's record."""
        self._actor(by, "parts.order", "order parts")
        source = self.supplier(supplier)
        if not source.qualified:
            raise PermissionDenied(f"supplier {supplier} is not qualified; a manager qualifies it")
        wanted = self._order_lines(lines)
        terms = values.text(payment_terms, "the payment terms", limit=200).strip()
        code = currency_code(currency if currency is not None else self._basis.policy.currency)
        when = self._basis.at(at)
        due = values.day(promised, "the promised delivery date")
        if due < when.astimezone(self._basis.policy.tz).date():
            raise ValidationError(f"the promised delivery date {due} is before the order")
        po = PurchaseOrder(f"PO-{uuid.uuid4().hex[:10]}", supplier, wanted, when, by,
                           version=1, currency=code, payment_terms=terms,
                           promised=due)  # fmt: skip
        return self._orders.create(po, "ordered", by, when)

    def _order_lines(self, lines: Iterable[Mapping[str, Any]]) -> tuple[OrderLine, ...]:
        found: dict[str, OrderLine] = {}
        for n, line in enumerate(values.items(lines, "an order"), start=1):
            if not isinstance(line, Mapping):
                raise ValidationError(
                    f"an order: line {n} is a {type(line).__name__}, not "
                    "{'sku': ..., 'quantity': ..., 'price': ...}"
                )
            unknown = sorted(str(k) for k in set(line) - {"sku", "quantity", "price"})
            if unknown:
                raise ValidationError(f"an order: line {n} has an unknown field {unknown[0]!r:.40}")
            ((sku, quantity),) = lines_of([{k: v for k, v in line.items() if k != "price"}],
                                          f"an order: line {n}")  # fmt: skip
            if "price" not in line:
                raise ValidationError(f"an order: line {n} ({sku}) has no unit price (price=)")
            price = values.amount(line["price"], f"the price of line {n}", positive=True)
            sku = self.part(sku).sku
            if sku in found:
                raise ValidationError(f"an order: line {n}: {sku} has a line already; one per part")
            found[sku] = OrderLine(sku, quantity, price)
        if not found:
            raise ValidationError("an order needs at least one line")
        return tuple(found.values())

    # -- suppliers' records -------------------------------------------------------------------
    def supplier_record(self, id: str) -> SupplierRecord:
        """The supplier's record: orders, delivery lines received and how many were late (after
        the order's promised day), delivered and rejected at inspection, with the rates, and
        whether the policy's ``review suppliers when ...`` holds."""
        return self._record(self.supplier(id), [o for o in self._orders.all() if o.supplier == id])

    def _record(self, supplier: Supplier, orders: builtins.list[PurchaseOrder]) -> SupplierRecord:
        id = supplier.id
        events = self._basis.storage.events("supplier", id)
        inspected = [e["data"] for e in events if e["type"] == "inspected"]
        record = SupplierRecord(
            id, supplier.qualified, len(orders), sum(o.open for o in orders), len(inspected),
            sum(bool(d.get("late")) for d in inspected),
            sum(int(d["delivered"]) for d in inspected),
            sum(int(d["rejected"]) for d in inspected),
            reviews=tuple({**e["data"], "by": e["by"], "at": e["at"]} for e in events
                          if e["type"] == "reviewed"),
        )  # fmt: skip
        rules = self._basis.policy.parts
        if rules is not None and rules.supplier_review is not None:
            due = bool(rules.supplier_review(record.facts()))
            record = attrs.evolve(record, review_due=due, rule=rules.supplier_review_location)
        return record

    def suppliers_to_review(self) -> builtins.list[SupplierRecord]:
        """Qualified suppliers whose record meets the policy's ``review suppliers when``."""
        orders: dict[str, builtins.list[PurchaseOrder]] = {}
        for order in self._orders.all():  # read once, not once per supplier
            orders.setdefault(order.supplier, []).append(order)
        found = [self._record(s, orders.get(s.id, [])) for s in self._suppliers.all()
                 if s.qualified]  # fmt: skip
        return [r for r in found if r.review_due]

    def review_supplier(
        self, id: str, *, decision: str, reason: str, by: str, at: datetime | None = None
    ) -> SupplierRecord:
        """Review a supplier's qualification on its record (a manager): ``keep`` it, or
        ``disqualify`` it (no more orders or deliveries until it is qualified again). The
        review is kept on the supplier's record with the figures it was decided on."""
        self._actor(by, "parts.review_supplier", "review suppliers")
        if decision not in SUPPLIER_DECISIONS:
            raise ValidationError(
                f"decision must be one of {', '.join(SUPPLIER_DECISIONS)}, not {shown(decision)}"
            )
        why = values.text(reason, "the reason for the review").strip()
        before = self.supplier(id)
        orders = [o for o in self._orders.all() if o.supplier == id]
        record = self._record(before, orders)
        when = self._basis.at(at)
        facts = {k: str(v) for k, v in record.facts().items()}
        after = attrs.evolve(before, qualified=before.qualified and decision == "keep",
                             version=before.version + 1)  # fmt: skip
        self._suppliers.save(before, after, "reviewed", by, when,
                             {"decision": decision, "reason": why, "record": facts,
                              "review_due": record.review_due, "rule": record.rule})  # fmt: skip
        return self._record(after, orders)

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
            for ordered in po.lines:
                due = max(0, po.still_due(ordered.sku))
                on_order[ordered.sku] = on_order.get(ordered.sku, 0) + due
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
