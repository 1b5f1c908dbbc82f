"""Purchase orders and the purchase plan."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales.core.boundary import public_api
from aftersales.core.errors import (
    PermissionDenied,
)
from aftersales.core.parts import (
    PlanLine,
    PurchaseOrder,
    RequisitionLine,
)
from aftersales.services.parts.base import (
    lines_of,
)
from aftersales.services.parts.requisitions import Requisitions


@public_api("desk.parts")
class Purchasing(Requisitions):
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
            for sku, quantity in lines_of(lines, "an order")
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
