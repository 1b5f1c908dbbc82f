"""The parts catalog, stock locations and suppliers."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.errors import (
    ValidationError,
)
from aftersales.core.parts import (
    LOCATION_KINDS,
    Location,
    Part,
    Supplier,
)
from aftersales.core.permissions import permit
from aftersales.core.values import shown
from aftersales.services.parts.base import (
    PartsBase,
    checked_text,
)


@public_api("desk.parts")
class Catalog(PartsBase):
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
        location = Location(checked_text(id, "id"), checked_text(name, "name"), kind, engineer)
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
        supplier = Supplier(checked_text(id, "id"), checked_text(name, "name"), qualified)
        return self._create(self._suppliers, supplier, by, self._basis.at(at))

    def supplier(self, id: str) -> Supplier:
        return self._suppliers.get(id)

    def suppliers(self) -> builtins.list[Supplier]:
        """Every supplier, by id."""
        return sorted(self._suppliers.all(), key=lambda s: s.id)

    def qualify(self, id: str, *, by: str, at: datetime | None = None) -> Supplier:
        """Mark a supplier qualified (a manager)."""
        self._actor(by, "parts.qualify", "qualify suppliers")
        before = self._suppliers.get(id)
        after = attrs.evolve(before, qualified=True, version=before.version + 1)
        return self._suppliers.save(before, after, "qualified", by, self._basis.at(at))
