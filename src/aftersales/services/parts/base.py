"""The shared ground of ``desk.parts``: its repositories, collaborators and checks."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from aftersales.core import values
from aftersales.core.convert import to_dict
from aftersales.core.errors import (
    ValidationError,
)
from aftersales.core.model import Notification, Staff
from aftersales.core.parts import (
    CaseParts,
    CountSheet,
    Location,
    Movement,
    Part,
    PurchaseOrder,
    Requisition,
    Supplier,
)
from aftersales.core.permissions import permit, permit_role
from aftersales.ports.storage import Transaction
from aftersales.services.basis import Basis
from aftersales.services.case_book import CaseBook
from aftersales.services.notifications import NotificationService
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory

UNACCOUNTED_AFTER = timedelta(days=7)
EXPIRY_WARNING = timedelta(days=30)


def checked_text(value: Any, what: str) -> str:
    return values.text(value, what)  # type: ignore[no-any-return]


def quantity_of(value: Any, what: str = "quantity") -> int:
    return values.count(value, what, minimum=1)


def lines_of(lines: Any, what: str) -> builtins.list[tuple[str, int]]:
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
        merged[sku] = merged.get(sku, 0) + quantity_of(line.get("quantity", 1))
    if not merged:
        raise ValidationError(f"{what} needs at least one line")
    return list(merged.items())


A = TypeVar("A", Part, Location, Supplier)
Move = tuple[Part, Part, Movement]
"""A part before a movement, after it, and the movement."""


@attrs.frozen
class Consumption:
    """What a repair's parts write in its transaction, and the notices they send with it."""

    write: Callable[[Transaction], None]
    notes: tuple[Notification, ...] = ()


@attrs.frozen
class Receipt:
    """One checked line of a delivery: the part before and after, and what to record."""

    before: Part
    after: Part
    movement: Movement | None
    sku: str
    quantity: int
    kept: int
    inspection: dict[str, bool]
    reason: str | None


class PartsBase:
    """What every part of ``desk.parts`` shares: the store's repositories, the services
    below, and who may act."""

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
        self._ledgers = Repository(storage, "case_parts", CaseParts, "case's parts",
                                   key=lambda ledger: ledger.case_id)  # fmt: skip

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
