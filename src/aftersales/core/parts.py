"""Spare parts: the catalog and the stock ledger.

A part's stock is the fold of its movements (``received``, ``transferred``, ``issued``,
``returned``, ``consumed``, ``adjusted``, ``scrapped``), each an event of the part. The part's
snapshot keeps the quantity on hand per location, so reading stock never replays history;
:func:`apply` refuses any movement that would take a location below zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import attrs

from aftersales.core.approvals import approve_step, reject_step
from aftersales.core.errors import ValidationError, WorkflowError
from aftersales.core.frozen import FrozenDict
from aftersales.core.model import Staff

MOVEMENTS = ("received", "transferred", "issued", "returned", "consumed", "adjusted", "scrapped")
LOCATION_KINDS = ("warehouse", "bin", "van")


def _tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _counts(value: Mapping[str, int] | None) -> dict[str, int]:
    return FrozenDict({k: v for k, v in (value or {}).items() if v})


@attrs.frozen
class Part:
    """A catalog part and its stock per location."""

    sku: str
    name: str
    category: str
    unit_cost: Decimal  # in the policy's currency
    unit: str = "piece"
    specification: str | None = None
    reorder_point: int = 0
    reorder_quantity: int = 0
    shelf_life_days: int | None = None
    product_lines: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    on_hand: dict[str, int] = attrs.field(factory=dict, converter=_counts)
    reserved: int = 0  # held for approved requisitions not issued yet
    version: int = 0

    @property
    def total(self) -> int:
        return sum(self.on_hand.values())

    @property
    def available(self) -> int:
        """On hand and not reserved (negative: approved requisitions wait for stock)."""
        return self.total - self.reserved

    @property
    def value(self) -> Decimal:
        return self.unit_cost * self.total

    def record(self) -> dict[str, Any]:
        """The part as the policy's ``reorder when`` condition sees it."""
        return {
            "on_hand": self.total,
            "reserved": self.reserved,
            "available": self.available,
            "reorder_point": self.reorder_point,
            "reorder_quantity": self.reorder_quantity,
        }


@attrs.frozen
class Location:
    """Where stock is kept: a warehouse, a bin in one, or an engineer's van."""

    id: str
    name: str
    kind: str = "warehouse"
    engineer: str | None = None  # whose van
    version: int = 0


@attrs.frozen
class Supplier:
    id: str
    name: str
    qualified: bool = False
    version: int = 0


@attrs.frozen
class Movement:
    """One stock movement of one part: an event of the part's ledger."""

    sku: str
    version: int
    type: str
    at: datetime
    by: str
    quantity: int  # always positive; the type says which way
    location: str | None = None  # where stock leaves (or, for received/adjusted up, arrives)
    to_location: str | None = None  # transferred, issued, returned: where it arrives
    case_id: str | None = None
    reason: str | None = None
    supplier: str | None = None
    approved_by: str | None = None
    increase: bool = False  # adjusted: up (found more on the shelf) rather than down


def expired(
    part: Part, movements: Iterable[Movement], now: datetime
) -> tuple[int, datetime | None]:
    """How many of the part on hand are past their shelf life at ``now`` (stock leaves
    oldest first), and when the oldest unit still on hand expires (None: no shelf life or
    nothing on hand)."""
    if part.shelf_life_days is None:
        return 0, None
    lots: list[list[Any]] = []  # [received at, quantity], oldest first
    for m in movements:
        if m.type == "received" or (m.type == "adjusted" and m.increase):
            lots.append([m.at, m.quantity])
        elif m.type in ("consumed", "scrapped", "adjusted"):
            left = m.quantity
            while left and lots:
                used = min(left, lots[0][1])
                lots[0][1] -= used
                left -= used
                if not lots[0][1]:
                    lots.pop(0)
    life = timedelta(days=part.shelf_life_days)
    old = sum(q for at, q in lots if at + life <= now)
    return old, (lots[0][0] + life if lots else None)


def _take(on_hand: dict[str, int], location: str, quantity: int, sku: str) -> None:
    have = on_hand.get(location, 0)
    if have < quantity:
        raise ValidationError(f"only {have} of {sku} on hand at {location}; cannot take {quantity}")
    on_hand[location] = have - quantity


def apply(part: Part, m: Movement) -> Part:
    """``part`` after movement ``m``; ValidationError if a location would go below zero."""
    if m.type not in MOVEMENTS:
        raise ValidationError(f"unknown movement {m.type!r}")
    if m.quantity <= 0:
        raise ValidationError(f"a movement moves a positive quantity, not {m.quantity}")
    on_hand = dict(part.on_hand)
    if m.type == "received" or (m.type == "adjusted" and m.increase):
        assert m.location is not None
        on_hand[m.location] = on_hand.get(m.location, 0) + m.quantity
    elif m.type in ("transferred", "issued", "returned"):
        assert m.location is not None and m.to_location is not None
        _take(on_hand, m.location, m.quantity, part.sku)
        on_hand[m.to_location] = on_hand.get(m.to_location, 0) + m.quantity
    else:  # consumed, scrapped, adjusted down
        assert m.location is not None
        _take(on_hand, m.location, m.quantity, part.sku)
    return attrs.evolve(part, on_hand=on_hand, version=m.version)


@attrs.frozen
class RequisitionLine:
    sku: str
    quantity: int


@attrs.frozen
class Approval:
    role: str
    by: str
    at: datetime


RequisitionStatus = Literal["requested", "approved", "rejected", "issued"]
REQUISITION_STATES: tuple[RequisitionStatus, ...] = ("requested", "approved", "rejected", "issued")
"""A requisition is requested, approved step by step along its chain (or at once with no
chain), rejected, or issued once approved."""


@attrs.frozen
class Requisition:
    """An engineer's request for parts for a case, approved per the policy, then issued."""

    id: str
    case_id: str
    engineer: str
    lines: tuple[RequisitionLine, ...]
    value: Decimal
    chain: tuple[str, ...]  # the roles that must approve, in order (empty: none needed)
    rule: str | None  # the policy line that set the chain
    status: RequisitionStatus
    requested_at: datetime
    approvals: tuple[Approval, ...] = ()
    reason: str | None = None  # why it was rejected
    issued_to: str | None = None  # the location the parts went to
    version: int = 0

    @property
    def waiting_for(self) -> str | None:
        """The role whose approval is due next, or None."""
        if self.status != "requested" or len(self.approvals) >= len(self.chain):
            return None
        return self.chain[len(self.approvals)]


REQUISITION_MOVES: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"requested"}), "only a requested one waits for approval"),
    "reject": (frozenset({"requested"}), "only a requested one waits for approval"),
    "issue": (frozenset({"approved"}), "only an approved one is issued"),
}
"""The requisition's state machine: which statuses each move starts from."""


def check_requisition_move(req: Requisition, move: str) -> None:
    """WorkflowError unless ``req`` may take ``move`` in its status."""
    allowed, says = REQUISITION_MOVES[move]
    if req.status not in allowed:
        raise WorkflowError(f"requisition {req.id} is {req.status}; {says}")


# -- the requisition's moves: each checks where it stands and returns it after -----------------
def approved_requisition(req: Requisition, approver: Staff, at: datetime) -> Requisition:
    """The step the requisition waits for approved by ``approver``: the role it needs, not
    the engineer who asked, no member twice; approved once the last step is."""
    role, last = approve_step(req.chain, tuple(a.by for a in req.approvals),
                              req.status == "requested", approver, req.engineer,
                              f"requisition {req.id}", req.status, "requisition")  # fmt: skip
    steps = (*req.approvals, Approval(role, approver.id, at))
    status: RequisitionStatus = "approved" if last else "requested"
    return attrs.evolve(req, approvals=steps, status=status, version=req.version + 1)


def rejected_requisition(req: Requisition, rejecter: Staff, reason: str) -> Requisition:
    """The requisition turned down by the role it waits for, with a reason."""
    reject_step(req.waiting_for, rejecter, req.engineer, f"requisition {req.id}", req.status,
                "requisition")  # fmt: skip
    return attrs.evolve(req, status="rejected", reason=reason, version=req.version + 1)


def issued_requisition(req: Requisition, target: str) -> Requisition:
    """An approved requisition issued to ``target`` (the engineer's van, or another place)."""
    check_requisition_move(req, "issue")
    return attrs.evolve(req, status="issued", issued_to=target, version=req.version + 1)


@attrs.frozen
class CaseParts:
    """What a case got from stock: issued to the engineer, used in the repair, returned."""

    case_id: str
    location: str | None = None  # where the case's parts were issued to
    issued: dict[str, int] = attrs.field(factory=dict, converter=_counts)
    consumed: dict[str, int] = attrs.field(factory=dict, converter=_counts)
    returned: dict[str, int] = attrs.field(factory=dict, converter=_counts)
    last_issued_at: datetime | None = None
    version: int = 0

    def outstanding(self, sku: str) -> int:
        """Issued for the case and neither used nor returned yet."""
        return self.issued.get(sku, 0) - self.consumed.get(sku, 0) - self.returned.get(sku, 0)


@attrs.frozen
class OrderLine:
    """A line of a purchase order: the part, how many, and the unit price (in the order's
    currency; None on orders stored before prices were recorded)."""

    sku: str
    quantity: int
    price: Decimal | None = None

    @property
    def amount(self) -> Decimal | None:
        return None if self.price is None else self.price * self.quantity


@attrs.frozen
class PurchaseOrder:
    """An order to a qualified supplier, at agreed prices and payment terms, to be delivered
    by the ``promised`` date; deliveries are received against it (``late`` counts those
    received after the promised day)."""

    id: str
    supplier: str
    lines: tuple[OrderLine, ...]
    ordered_at: datetime
    ordered_by: str
    received: dict[str, int] = attrs.field(factory=dict, converter=_counts)
    version: int = 0
    currency: str | None = None
    payment_terms: str | None = None
    promised: date | None = None
    late_deliveries: int = 0

    @property
    def total(self) -> Decimal | None:
        amounts = [line.amount for line in self.lines]
        return None if None in amounts else sum((a for a in amounts if a), Decimal(0))

    def still_due(self, sku: str) -> int:
        ordered = sum(line.quantity for line in self.lines if line.sku == sku)
        return ordered - self.received.get(sku, 0)

    @property
    def open(self) -> bool:
        return any(self.still_due(line.sku) > 0 for line in self.lines)


@attrs.frozen
class SupplierRecord:
    """A supplier's record, as its qualification is reviewed on: the delivery lines received
    (``late``: after the order's promised day), what was delivered and what inspection sent
    back, the rates as percentages, and whether the policy's ``review suppliers when ...``
    holds (``rule``: that line)."""

    supplier: str
    qualified: bool
    orders: int
    open_orders: int
    deliveries: int
    late: int
    delivered: int
    rejected: int
    review_due: bool = False
    rule: str | None = None
    reviews: tuple[dict[str, Any], ...] = ()

    @property
    def late_rate(self) -> Decimal:
        return _percent(self.late, self.deliveries)

    @property
    def rejected_rate(self) -> Decimal:
        return _percent(self.rejected, self.delivered)

    def facts(self) -> dict[str, Any]:
        """What ``review suppliers when`` reads."""
        return {"deliveries": self.deliveries, "late": self.late, "late_rate": self.late_rate,
                "delivered": self.delivered, "rejected": self.rejected,
                "rejected_rate": self.rejected_rate}  # fmt: skip


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else Decimal(0)


@attrs.frozen
class PlanLine:
    """A proposed order: why, and how many."""

    sku: str
    quantity: int
    on_hand: int
    reorder_point: int
    requested: int  # approved or waiting requisitions not issued yet
    on_order: int  # ordered and not received yet
    monthly_use: Decimal  # mean consumption of the last three months


@attrs.frozen
class CountLine:
    sku: str
    book: int  # what the ledger said when counted
    counted: int

    @property
    def variance(self) -> int:
        return self.counted - self.book


@attrs.frozen
class CountSheet:
    """A stocktake of one location: what was counted against the books."""

    id: str
    location: str
    counted_at: datetime
    counted_by: str
    lines: tuple[CountLine, ...]
    settled_by: str | None = None  # the manager who approved the adjustments
    reason: str | None = None
    version: int = 0

    @property
    def variances(self) -> tuple[CountLine, ...]:
        return tuple(line for line in self.lines if line.variance)


def part_entry(value: str, what: str) -> dict[str, Any]:
    """``SKU`` or ``SKU:QUANTITY`` as typed on a form or a command line, as a repair's
    ``parts_used`` entry (a quantity left out is 1)."""
    sku, _, quantity = value.partition(":")
    if quantity and not quantity.isdigit():
        raise ValidationError(f"{what} {value!r}: write SKU or SKU:QUANTITY")
    return {"sku": sku, "quantity": int(quantity or 1)}


__all__ = [
    "LOCATION_KINDS",
    "MOVEMENTS",
    "REQUISITION_MOVES",
    "REQUISITION_STATES",
    "Approval",
    "CaseParts",
    "CountLine",
    "CountSheet",
    "Location",
    "Movement",
    "OrderLine",
    "Part",
    "PlanLine",
    "PurchaseOrder",
    "Requisition",
    "RequisitionLine",
    "RequisitionStatus",
    "Supplier",
    "SupplierRecord",
    "apply",
    "approved_requisition",
    "check_requisition_move",
    "expired",
    "issued_requisition",
    "part_entry",
    "rejected_requisition",
]
